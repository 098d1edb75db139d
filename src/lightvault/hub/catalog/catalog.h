#pragma once
// The hub's catalog: identities, organizations, teams, repositories, revisions, grants,
// tokens, blob references and the audit chain's storage, in SQL. One implementation of the
// logic runs on two drivers (sql.h): SQLite in DIR/catalog.db (default) and PostgreSQL
// (`postgresql://...`, shared by several replicas).
//
// Consistency: every method is atomic on its own; `transaction(fn)` groups the changes of one
// request (nested calls join the outer transaction). A file becomes part of a repository
// only through `create_commit`, which checks that every referenced blob is registered for the
// repository's owner (registered only after the blob store verified and committed it), so an
// interrupted upload is never visible, and that the repository may use it: a file of one of
// its commits, or uploaded to it by the committer (record_upload). Blobs are stored once per
// owner, but a writer of one of the owner's repositories cannot name its way into the others.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lightvault/hub/access/permissions.h"
#include "lightvault/hub/catalog/sql.h"
#include "lightvault/util/status.h"

namespace lv::hub {

int64_t now_unix();

struct User {
  int64_t id = 0;
  std::string name;
  bool site_admin = false;
  int64_t created_at = 0;
};

struct Org {
  int64_t id = 0;
  std::string name;
  int64_t created_at = 0;
};

// An organization's rules for its repositories.
struct OrgPolicy {
  // A repository may be made internal only while its model card is complete (card_check.h),
  // and a push may not leave an internal repository's card incomplete.
  bool require_card_complete = false;
};

struct Team {
  int64_t id = 0;
  int64_t org_id = 0;
  std::string org;
  std::string name;
};

struct Membership {
  std::string org;
  int64_t org_id = 0;
  std::string user;
  int64_t user_id = 0;
  OrgRole role = OrgRole::kMember;
};

struct Repo {
  int64_t id = 0;
  std::string owner;  // user or organization name
  OwnerKind owner_kind = OwnerKind::kUser;
  int64_t owner_id = 0;
  std::string name;
  Visibility visibility = Visibility::kPrivate;
  int64_t created_at = 0;
  std::string full_name() const { return owner + "/" + name; }
};

struct FileEntry {
  std::string path;
  std::string sha256;  // hex SHA-256 of the plaintext
  uint64_t size = 0;
};

struct Commit {
  std::string id;  // 40 hex characters
  int64_t repo_id = 0;
  std::string parent;  // empty for the first commit
  std::string message;
  std::string author;
  int64_t created_at = 0;
  std::string card_json;  // model card front matter as JSON ("" when the commit has no README.md)
  std::vector<FileEntry> files;  // sorted by path
};

struct Ref {
  std::string kind;  // branch | tag
  std::string name;
  std::string commit_id;
};

struct Grant {
  int64_t repo_id = 0;
  SubjectKind subject = SubjectKind::kUser;
  int64_t subject_id = 0;
  std::string subject_name;  // user name, or org/team
  RepoRole role = RepoRole::kNone;
};

// A repository in a listing, with the head of its main branch ("" and 0 before the first commit).
struct RepoListing {
  Repo repo;
  std::string head_id;
  int64_t head_time = 0;
};

struct BlobRef {
  std::string owner;  // the namespace that owns the blob: blobs deduplicate only within one owner
  std::string sha256;
  uint64_t size = 0;
  std::string storage_id;  // the blob store's id for it
  int64_t created_at = 0;
  int64_t uploaded_at = 0;  // the last upload of these bytes (an upload of a known blob refreshes it)
};

// Blob registrations and commits take the lock shared; garbage collection takes it alone, so
// it never deletes a blob that a commit is about to reference or an upload has just confirmed.
enum class BlobLock { kShared, kExclusive };

struct Token {
  std::string id;  // public id, "tok_..." (audited; never the secret)
  int64_t user_id = 0;
  std::string user;
  std::string name;
  std::string hash;  // hex SHA-256 of the secret
  unsigned scopes = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // 0: never
  int64_t revoked_at = 0;  // 0: live
};

// A browser session of the web interface as the catalog keeps it, so that every replica behind
// one URL knows it: the session id only as its SHA-256 (someone who reads the catalog cannot
// use a session), the token it was started with (its user and scopes follow from the token as
// stored now), its CSRF token and its expiry.
struct SessionRow {
  std::string id_hash;  // hex SHA-256 of the session id
  std::string token_id;
  std::string csrf;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // unix seconds
};

// A session that is live at some time, with the token and the user behind it as stored now.
struct LiveSession {
  SessionRow session;
  Token token;
  User user;
};

// One stored audit entry: the chain's fields are opaque here (the audit log decides them);
// the catalog keeps them in order with the entry's sequence number.
struct AuditRow {
  int64_t seq = 0;
  std::string org;   // owning organization of the resource, "" if none (for org-admin exports)
  std::string json;  // the entry, serialized by the audit log
  std::string head;  // the signed chain head after this entry: stored as meta kAuditHeadMeta
};

// meta keys
inline constexpr const char* kAuditHeadMeta = "audit_head";

class Catalog {
 public:
  // "DIR" or "sqlite:PATH" -> SQLite DIR/catalog.db; "postgresql://..." or "postgres://..." -> PostgreSQL.
  static Result<std::unique_ptr<Catalog>> open(const std::string& data_dir, const std::string& catalog_url = "");
  explicit Catalog(std::unique_ptr<SqlConnection> conn);
  Status migrate();

  std::string describe() const { return conn_->describe(); }
  SqlDialect dialect() const { return conn_->dialect(); }

  // Runs fn in one transaction (joins an enclosing one); rolls back if fn fails.
  Status transaction(const std::function<Status()>& fn);

  // meta key/value (audit head, admin bootstrap)
  Result<std::optional<std::string>> get_meta(const std::string& key);
  Status set_meta(const std::string& key, const std::string& value);

  // users
  Result<User> create_user(const std::string& name, bool site_admin = false);
  Result<std::optional<User>> find_user(const std::string& name);
  Result<std::optional<User>> user_by_id(int64_t id);
  Result<std::vector<User>> list_users();

  // organizations, memberships, teams
  Result<Org> create_org(const std::string& name);
  Result<std::optional<Org>> find_org(const std::string& name);
  Result<std::vector<Org>> list_orgs();
  // The organization's policy; the defaults when none was set.
  Result<OrgPolicy> org_policy(int64_t org_id);
  Status set_org_policy(int64_t org_id, const OrgPolicy& policy);
  Status set_membership(int64_t org_id, int64_t user_id, OrgRole role);
  // Also leaves the org's teams and loses the direct grants on the org's repositories.
  Status remove_membership(int64_t org_id, int64_t user_id);
  Result<std::optional<OrgRole>> org_role(int64_t org_id, int64_t user_id);
  Result<std::vector<Membership>> list_memberships(int64_t org_id);
  Result<std::vector<Membership>> memberships_of(int64_t user_id);
  Result<Team> create_team(int64_t org_id, const std::string& name);
  Result<std::optional<Team>> find_team(const std::string& org, const std::string& name);
  Result<std::vector<Team>> list_teams(int64_t org_id);
  Status add_team_member(int64_t team_id, int64_t user_id);
  Status remove_team_member(int64_t team_id, int64_t user_id);
  Result<std::vector<int64_t>> team_ids_of(int64_t user_id);

  // repositories
  Result<Repo> create_repo(const std::string& owner, const std::string& name, Visibility visibility);
  Result<std::optional<Repo>> find_repo(const std::string& owner, const std::string& name);
  Result<std::vector<Repo>> list_repos();
  // Every repository (only `owner`'s when not empty), ordered by owner and name, each with the
  // head of main as resolve(id, "main") finds it: one query however many repositories.
  Result<std::vector<RepoListing>> list_repos_with_heads(const std::string& owner = "");
  Status set_visibility(int64_t repo_id, Visibility visibility);
  Status delete_repo(int64_t repo_id);

  // grants (role kNone removes the grant)
  Status set_grant(int64_t repo_id, SubjectKind subject, int64_t subject_id, RepoRole role);
  Result<std::vector<Grant>> list_grants(int64_t repo_id);
  // The grants held by the user or by one of the teams, on every repository, in one query
  // (subject_name is left empty).
  Result<std::vector<Grant>> grants_held_by(int64_t user_id, const std::vector<int64_t>& team_ids);

  // revisions
  // Creates a commit by `author` on `branch` whose files are `files` (the full tree; paths are
  // stored in NFC, see repo_path.h). Fails if the branch moved since `expected_parent` (when
  // given), a path is unsafe or listed twice (also as NFC and NFD), or a file's blob is neither
  // in a commit of this repository nor uploaded to it by `author` (one message for both, which
  // says nothing of other repositories), or has another size.
  Result<Commit> create_commit(const Repo& repo, const std::string& branch, const std::optional<std::string>& expected_parent,
                               const std::string& message, const User& author, std::vector<FileEntry> files,
                               const std::string& card_json = "");
  // A full commit id of this repository, else a branch, a tag or "HEAD" (= main). Branch and
  // tag names never look like commit ids (looks_like_commit_id), so a pinned id stays pinned.
  Result<std::optional<Commit>> resolve(int64_t repo_id, const std::string& revision);
  Status set_tag(int64_t repo_id, const std::string& tag, const std::string& commit_id);
  Status delete_tag(int64_t repo_id, const std::string& tag);
  Result<std::vector<Ref>> list_refs(int64_t repo_id);
  Result<std::vector<Commit>> list_commits(int64_t repo_id, const std::string& branch = "main", int limit = 100);

  // blobs
  // Registers a verified blob for an owner; returns the existing ref (its uploaded_at refreshed)
  // when the owner already has it.
  Result<BlobRef> put_blob(const BlobRef& blob);
  // Remembers that `user_id` uploaded the blob to the repository (it may then commit it there).
  Status record_upload(int64_t repo_id, int64_t user_id, const std::string& sha256);
  // Whether a commit of the repository has the blob, or `user_id` uploaded it there.
  Result<bool> may_reference_blob(int64_t repo_id, int64_t user_id, const std::string& sha256);
  Result<std::optional<BlobRef>> find_blob(const std::string& owner, const std::string& sha256);
  Result<std::vector<BlobRef>> list_blobs();
  // Blobs last uploaded at or before `uploaded_until` (unix seconds) that no file of any
  // commit of their owner's repositories references: an interrupted push, a deleted repository.
  Result<std::vector<BlobRef>> unreferenced_blobs(int64_t uploaded_until);
  // Deletes the blob's row (and its upload records) if it is still unreferenced and last
  // uploaded by `uploaded_until`; false when it is not (any more). The blob store's copy is the
  // caller's to remove.
  Result<bool> delete_unreferenced_blob(const std::string& owner, const std::string& sha256, int64_t uploaded_until);
  // Inside a transaction only; held until it ends (see BlobLock).
  Status lock_blobs(BlobLock kind);

  // tokens
  Status create_token(const Token& token);
  Result<std::optional<Token>> find_token_by_hash(const std::string& hash);
  Result<std::optional<Token>> find_token(const std::string& id);
  Result<std::vector<Token>> list_tokens(int64_t user_id);
  Status revoke_token(const std::string& id);

  // web sessions
  Status create_session(const SessionRow& session);
  // The session whose id hashes to `id_hash` if, at `now`, it has not expired, its token is
  // neither revoked nor expired, and its user exists; else nullopt.
  Result<std::optional<LiveSession>> find_live_session(const std::string& id_hash, int64_t now);
  // Whether there was such a session.
  Result<bool> delete_session(const std::string& id_hash);
  // Ends every session started with the token; returns how many.
  Result<int64_t> delete_sessions_of_token(const std::string& token_id);
  // Deletes the sessions that can no longer be used at `now`: expired, or of a token revoked
  // or expired; returns how many.
  Result<int64_t> prune_sessions(int64_t now);
  Result<int64_t> session_count();

  // audit rows (the storage side of the audit chain)
  Status append_audit(const AuditRow& row);
  Result<std::optional<AuditRow>> last_audit();
  Result<std::vector<AuditRow>> audit_rows(int64_t from_seq, int64_t limit);
  Result<int64_t> audit_count();

  // Direct SQL access for tests that tamper with stored rows.
  SqlConnection& sql() { return *conn_; }

 private:
  Result<SqlResult> q(const std::string& sql, const std::vector<SqlValue>& params = {});
  Result<std::vector<FileEntry>> commit_files(int64_t repo_id, const std::string& commit_id);
  Result<std::optional<Commit>> load_commit(int64_t repo_id, const std::string& id);
  Result<int64_t> insert_id(const std::string& sql, const std::vector<SqlValue>& params);

  std::unique_ptr<SqlConnection> conn_;
  std::recursive_mutex mu_;
  int depth_ = 0;
};

// Names of users, organizations, teams and repositories: 1-64 of [A-Za-z0-9._-], not starting
// with '.' or '-', not "." or "..".
bool valid_name(const std::string& name);
// 40 hex digits (either case): the shape of a commit id, which branch and tag names may not have.
bool looks_like_commit_id(const std::string& name);

}  // namespace lv::hub
