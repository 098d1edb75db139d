#pragma once
// The hub's use cases, one function each, for every adapter (the JSON API, the web pages, the
// command line). Each takes the caller as its adapter authenticated it, then
//   1. authorizes (permissions.h's rule; a repository the caller may not read is "not found",
//      exactly like one that does not exist, so names do not leak),
//   2. checks its input,
//   3. acts on the catalog (and the blob store) in one transaction that also appends the
//      audit entry, so that a change and its record land together or not at all,
// and returns the result or a ServiceError whose code the adapter maps (service_error.h).
// Refusals are audited too (outcome "denied"); changes the catalog rejects are audited as
// "error". Reads of metadata are not audited; downloads are (record_download).
// Nothing here knows HTTP: no status codes, headers or bodies.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/storage/blob_gc.h"
#include "lightvault/hub/storage/blob_store.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/storage/master_key.h"
#include "lightvault/hub/service/audit_writer.h"
#include "lightvault/hub/service/caller.h"
#include "lightvault/hub/service/service_error.h"
#include "lightvault/hub/access/tokens.h"

namespace lv::hub {

// ---- requests and results

struct ModelQuery {
  std::string author;  // only this owner's repositories ("" = all)
  std::string search;  // only ids (owner/name) containing this, case-insensitive ("" = all)
  size_t offset = 0;   // paging over the visible, filtered list
  size_t limit = 0;    // 0 = no limit
};

struct RepoRevision {
  Repo repo;
  std::optional<Commit> commit;  // none: the revision does not exist (or main has no commit yet)
};

// A file opened for download: the adapter streams `blob` and then calls record_download.
struct FileDownload {
  Repo repo;
  Commit commit;
  FileEntry file;
  std::shared_ptr<BlobReader> blob;
};

struct CommitRequest {
  std::string branch = "main";
  std::optional<std::string> parent;  // the head the caller based this on (409 when it moved)
  bool replace = false;               // the files below are the whole tree
  std::vector<FileEntry> add;         // paths as sent (normalized here)
  std::vector<std::string> remove;
  std::string message = "Upload files";
  // Set by an adapter that could not read the request into this form (a file without a path,
  // say): refused as invalid once the caller is known to may write.
  std::string malformed;
};

// Pulls the upload's bytes: calls `sink` with each piece, stops when it returns false;
// returns false when the stream broke.
using ByteSource = std::function<bool(const std::function<bool(const char* data, size_t size)>& sink)>;

struct UploadRequest {
  std::string expected_sha256;  // "" = not checked
  std::string size;             // decimal, "" = not checked
};

struct UploadResult {
  std::string sha256;
  uint64_t size = 0;
  bool deduplicated = false;  // this repository (or this caller, here) had the bytes already
};

// What a model card lacks (card_check.h) in a tree of files.
struct CardStatus {
  bool has_card = false;              // README.md is in the tree
  std::string error;                  // README.md unreadable or its front matter unparsable ("" if read)
  std::vector<std::string> missing;   // card_check.h's paths; every field when there is no readable card
  bool complete() const { return has_card && error.empty() && missing.empty(); }
};

// A commit and what its model card lacks.
struct CommitResult {
  Commit commit;
  CardStatus card;
};

struct OrgView {
  Org org;
  std::vector<Membership> members;
  std::vector<Team> teams;
};

// A team and the names of its members.
struct TeamRoster {
  Team team;
  std::vector<std::string> members;
};

struct TokenRequest {
  std::string user;  // "" = the caller
  std::string name = "token";
  std::string scopes = "read";
  int64_t expires_in = 0;  // seconds, 0 = never
};

struct AuditQuery {
  std::string actor, action, resource, outcome;  // exact matches ("" = any); resource also by prefix "owner/name"
  std::string since, until;  // ISO times as the entries carry them (inclusive bounds, "" = open)
  int64_t before_seq = 0;    // page backwards from this sequence number (0 = from the newest)
  size_t limit = 50;
};

struct AuditPage {
  std::vector<AuditRecord> entries;  // newest first
  int64_t next_before_seq = 0;       // pass as before_seq for the next (older) page; 0 = no more
  bool all = false;                  // the caller sees everything (site admin), else their orgs'
};

// Who may read which part of the audit trail.
struct AuditScope {
  bool all = false;
  std::vector<std::string> orgs;
  bool includes(const std::string& org) const;
};

class HubService {
 public:
  HubService(Catalog& catalog, BlobStore& blobs, MasterKeyring& keyring, AuditWriter& audit);

  // ---- reads
  // The caller's organization memberships (the caller itself is in `caller`).
  Outcome<std::vector<Membership>> whoami(const Caller& caller);
  // The repositories the caller may read, with their main heads: a constant number of
  // queries whatever the number of repositories. Needs a signed-in caller.
  Outcome<std::vector<RepoListing>> list_models(const Caller& caller, const ModelQuery& query);
  // The repository if the caller may do `action` on it; refusals audited as `audit_action`.
  Outcome<Repo> open_repo(const Caller& caller, const std::string& owner, const std::string& name, Action action,
                          const std::string& audit_action);
  // A revision (commit id, branch, tag, HEAD) of a readable repository, with its files.
  Outcome<RepoRevision> read_revision(const Caller& caller, const std::string& owner, const std::string& name,
                                      const std::string& revision);
  // The model card's front matter (README.md of the commit) as JSON; null without one.
  nlohmann::json card_metadata(const Repo& repo, const Commit& commit);
  // The caller's effective role on a repository it already opened (permissions.h's rule).
  Result<RepoRole> role_on(const Principal& who, const Repo& repo);
  // The branches and tags of a repository the caller already opened.
  Result<std::vector<Ref>> list_refs(const Repo& repo);
  // README.md (or another small file) of a commit as text, at most `max_bytes`; nullopt when
  // the commit has no such file or it is larger.
  std::optional<std::string> read_small_file(const Repo& repo, const Commit& commit, const std::string& path,
                                             uint64_t max_bytes);
  Outcome<std::vector<Commit>> list_commits(const Caller& caller, const std::string& owner, const std::string& name,
                                            const std::string& branch, int limit = 100);
  // A file to download; refusals and missing revisions/files audited as `audit_action`
  // (model.download, or model.info for a HEAD request).
  Outcome<FileDownload> open_download(const Caller& caller, const std::string& owner, const std::string& name,
                                      const std::string& revision, const std::string& path,
                                      const std::string& audit_action);
  // Appends the download's entry (details: commit, sha256, size, and `range` when partial).
  void record_download(const Caller& caller, const FileDownload& d, const std::string& resource,
                       nlohmann::json details);

  // ---- repositories
  Outcome<Repo> create_repo(const Caller& caller, const std::string& owner, const std::string& name,
                            Visibility visibility);
  Outcome<Done> delete_repo(const Caller& caller, const std::string& owner, const std::string& name);
  // Making a repository internal is refused as a conflict, with the missing fields in the
  // message, when its organization requires complete cards and main's card is not.
  Outcome<Visibility> set_visibility(const Caller& caller, const std::string& owner, const std::string& name,
                                     const std::string& visibility);
  // Who has been granted access (users and teams) to the repository; needs admin on it.
  Outcome<std::vector<Grant>> list_grants(const Caller& caller, const std::string& owner, const std::string& name);
  // subject: "user:NAME" or "team:ORG/TEAM"; role read|write|admin, or none to revoke.
  Outcome<Grant> set_grant(const Caller& caller, const std::string& owner, const std::string& name,
                           const std::string& subject, const std::string& role);
  // The commit carries the card check of its tree (in its audit entry too). Refused as a
  // conflict when the owning organization requires complete cards (OrgPolicy) and the
  // repository is internal and the new tree's card is incomplete.
  Outcome<CommitResult> create_commit(const Caller& caller, const std::string& owner, const std::string& name,
                                      CommitRequest request);
  // Opens the repository for an upload before any byte is read (refusals first), then
  // upload() streams the bytes into the blob store and registers them.
  Outcome<Repo> begin_upload(const Caller& caller, const std::string& owner, const std::string& name,
                             const UploadRequest& request);
  Outcome<UploadResult> upload(const Caller& caller, const Repo& repo, const UploadRequest& request,
                               const ByteSource& bytes);
  Outcome<Commit> set_tag(const Caller& caller, const std::string& owner, const std::string& name,
                          const std::string& tag, const std::string& revision);
  Outcome<Done> delete_tag(const Caller& caller, const std::string& owner, const std::string& name,
                           const std::string& tag);
  // Lifecycle events other tools report: model.finetune (details.base_model), model.deploy
  // (details.target), dataset.scan (details.input: what `lightvault scan --attach` scanned).
  // Anyone who may read the model.
  Outcome<Done> record_event(const Caller& caller, const std::string& owner, const std::string& name,
                             const std::string& action, nlohmann::json details);

  // ---- identities
  Outcome<std::vector<User>> list_users(const Caller& caller);
  Outcome<User> create_user(const Caller& caller, const std::string& name, bool site_admin);
  // The organizations the caller administers, with members and teams.
  Outcome<std::vector<OrgView>> list_admin_orgs(const Caller& caller);
  // One organization's members and teams: for its members (and site admins).
  Outcome<OrgView> org_detail(const Caller& caller, const std::string& org);
  // The teams of an organization with their members: for whoever org_detail admits.
  Outcome<std::vector<TeamRoster>> team_rosters(const Caller& caller, const std::string& org);
  // owner "" = the caller (who becomes its owner); another owner needs a site admin.
  Outcome<Org> create_org(const Caller& caller, const std::string& name, const std::string& owner);
  Outcome<Membership> set_member(const Caller& caller, const std::string& org, const std::string& user,
                                 const std::string& role);
  Outcome<Done> remove_member(const Caller& caller, const std::string& org, const std::string& user);
  Outcome<Team> create_team(const Caller& caller, const std::string& org, const std::string& team);
  Outcome<Done> set_team_member(const Caller& caller, const std::string& org, const std::string& team,
                                const std::string& user, bool member);

  // ---- compliance (hub_service_compliance.cpp)
  // What the card of a tree lacks: README.md read from the blob store and checked.
  CardStatus card_status(const Repo& repo, const std::vector<FileEntry>& files);
  // An organization's policy: for its members (and site admins), like org_detail.
  Outcome<OrgPolicy> org_policy(const Caller& caller, const std::string& org);
  // Sets it: org owner/admin with an admin token, or a site admin; audited as org.policy.
  Outcome<OrgPolicy> set_org_policy(const Caller& caller, const std::string& org, const OrgPolicy& policy);
  // The compliance report of a repository the caller may read, at `revision`, computed now
  // from the catalog, the revision's files and the audit trail:
  //   generated_at; model (repo, commit, weights with sha256, lineage, license);
  //   intended_use; limitations; training_data (the card's fields, complete, missing);
  //   evaluation (results from evaluation_files.h, unreadable); labeling, audit, complaints
  //   (trail_tally.h); access (visibility, policy, holders: who, role, through what);
  //   audit_chain (head_seq, head_mac, verified, message).
  // Audited as compliance.report before it is computed, so the chain head it names is that
  // entry (or a later one written meanwhile).
  Outcome<nlohmann::json> compliance_report(const Caller& caller, const std::string& owner, const std::string& name,
                                            const std::string& revision);

  // ---- sessions (for adapters that sign people in with a token, like the web pages)
  // Looks a token's secret up; a refusal (unknown, expired, revoked) is in the answer's check,
  // not audited here: the adapter audits it within its budget for unauthenticated callers.
  Result<Authenticated> authenticate(const std::string& secret);
  // The principal behind `who`'s token as stored now: nullopt once the token is revoked or
  // expired or its user is gone.
  std::optional<Principal> refresh(const Principal& who);

  // ---- tokens
  Outcome<IssuedToken> create_token(const Caller& caller, const TokenRequest& request);
  // user "" = the caller's own.
  Outcome<std::vector<Token>> list_tokens(const Caller& caller, const std::string& user);
  // Also ends the browser sessions started with the token (web_sessions), in the same transaction.
  Outcome<Token> revoke_token(const Caller& caller, const std::string& token_id);

  // ---- operations
  struct KeyRotation {
    std::string old_key_id, new_key_id;
    uint64_t blobs = 0, rewrapped = 0;
  };
  Outcome<KeyRotation> rotate_key(const Caller& caller);
  Outcome<GcStats> collect_garbage(const Caller& caller, const GcOptions& options);

  // ---- audit
  // What the caller may read of the trail (site admin: all; org owner/admin with an admin
  // token: their organizations'); refusals audited as `audit_action`.
  Outcome<AuditScope> audit_scope(const Caller& caller, const std::string& audit_action);
  // A filtered page of the trail, newest first, within the caller's scope. Not audited (a
  // view; the export is).
  Outcome<AuditPage> read_audit(const Caller& caller, const AuditQuery& query);
  // Appends the export's own entry and returns the scope and the last sequence number it covers.
  Outcome<std::pair<AuditScope, int64_t>> begin_audit_export(const Caller& caller);
  // One page of an export (see AuditLog::export_page): the next sequence number.
  Result<int64_t> audit_export_page(int64_t from_seq, int64_t to_seq, size_t max_bytes, const AuditScope& scope,
                                    std::string& out);
  Outcome<VerifyReport> verify_audit(const Caller& caller);
  // Whether the live chain holds, for whoever may read part of the trail (audit_scope): the
  // report tells an organization's administrators that the record they read is intact, and
  // nothing of other organizations' entries. Not audited (a view).
  Outcome<VerifyReport> audit_chain_status(const Caller& caller);

  // ---- for adapters
  // Audits a refusal decided by an adapter (a bad body, a byte range past the end) and
  // returns the error, so that every refusal reaches the trail the same way.
  ServiceError refuse(const Caller& caller, const std::string& action, const std::string& resource,
                      ServiceError error, const std::string& org = "");
  // Appends an entry outside any change (outcome kAuditAllowed/kAuditDenied/kAuditError);
  // a failure is logged on stderr.
  void audit_event(const Caller& caller, const std::string& action, const std::string& resource, const char* outcome,
                   nlohmann::json details = nlohmann::json::object(), const std::string& org = "");
  Catalog& catalog() { return catalog_; }

 private:
  // `fn` and its audit entry in one transaction. A failure of `fn` is audited as an error
  // and returned with `code_on_failure` (kConflict when the state it checked moved).
  Status change(const Caller& caller, const std::string& action, const std::string& resource, const std::string& org,
                const std::function<Status(nlohmann::json& details)>& fn);
  ServiceError rejected(const Caller& caller, const std::string& action, const std::string& resource,
                        const Error& e, ErrorCode code, const std::string& org);
  // Whether a user or an organization has the name (they share one namespace).
  Result<bool> name_taken(const std::string& name);
  Outcome<Done> require_login(const Caller& caller, const std::string& action, const std::string& resource);
  Outcome<VerifyReport> verify_live_chain();
  // The policy that binds a repository: its organization's, the defaults for a user's.
  Result<OrgPolicy> policy_of(const Repo& repo);
  std::optional<std::string> read_small_blob(const Repo& repo, const FileEntry& file, uint64_t max_bytes);
  bool org_admin(const Principal& who, const Org& org, bool need_owner = false);
  static std::string repo_org(const Repo& r) { return r.owner_kind == OwnerKind::kOrg ? r.owner : ""; }

  Catalog& catalog_;
  BlobStore& blobs_;
  MasterKeyring& keyring_;
  AuditWriter& audit_;
};

}  // namespace lv::hub
