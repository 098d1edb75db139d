#pragma once
// Everything the web pages read from or change in the hub, behind one interface, so that the
// pages never touch the catalog, the blob store or the audit chain themselves. Each call is
// given the request it serves (for the audit entry's actor, token, client and request id),
// authorizes the viewer exactly as the JSON API does (a repository the viewer may not read is
// "not found", never "forbidden", so names don't leak), and appends the audit entry a JSON API
// call would: state changes in one transaction with their entry, file views as downloads.
//
// It is an adapter of the service layer (service/hub_service.h) like the JSON API: each call
// builds the viewer's Caller and runs the service's use cases, which authorize, act and audit;
// it maps their error codes to Refusal and adds only what is the pages' own (the sign-in's
// audit budget, "via":"web" on the entries of views).
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/access/tokens.h"

namespace lv::hub::web {

// Why a call did not do what was asked; the pages map it to a status and a message.
enum class Refusal { kNotFound, kForbidden, kInvalid, kConflict, kInternal };
struct Problem {
  Refusal refusal = Refusal::kInternal;
  std::string message;
};
struct Done {};
// A value, or why there is none.
template <class T>
using Answer = std::variant<T, Problem>;

struct RepoView {
  Repo repo;
  RepoRole role = RepoRole::kNone;  // the viewer's effective role
  std::optional<Commit> commit;     // at the requested revision; nullopt for an empty repository
  std::vector<Ref> refs;
  std::optional<std::string> readme;  // README.md's text (at most kMaxPreview bytes), when present
};

struct ComplianceView {
  Repo repo;
  RepoRole role = RepoRole::kRead;  // the viewer's effective role
  nlohmann::json report;            // HubService::compliance_report's
};

struct BlobView {
  Repo repo;
  RepoRole role = RepoRole::kRead;  // the viewer's effective role
  Commit commit;
  FileEntry file;
  std::string head;        // the first bytes of the file (at most the limit asked for)
  bool truncated = false;  // the file is longer than `head`
};

struct AccessView {
  Repo repo;
  std::vector<Grant> grants;
  std::vector<Membership> org_members;  // organization repositories: who holds an org role
  std::vector<Team> org_teams;          // teams a grant may name
};

struct OrgView {
  Org org;
  std::vector<Membership> members;
  struct TeamWithMembers {
    Team team;
    std::vector<std::string> members;
  };
  std::vector<TeamWithMembers> teams;
  std::vector<Repo> repos;  // the org's repositories the viewer may read
  bool may_manage = false;  // org owner/admin (admin-scoped session) or site admin
};

struct AuditQuery {
  std::string actor, action, repository, outcome;  // "" = any; repository matches a prefix
  std::string since, until;                         // RFC 3339 prefixes ("2026-11-30"), "" = open
  int64_t before_seq = 0;                           // paging: entries older than this (0 = newest)
  int page_size = 50;
};
struct AuditPage {
  std::vector<AuditEntry> entries;  // newest first
  int64_t next_before = 0;          // before_seq of the next (older) page; 0 when none
  bool everything = false;          // site admin: the whole trail; else the orgs below
  std::vector<std::string> orgs;
  bool chain_ok = false;            // the live chain verified against its signed head
  std::string chain_message;
  int64_t chain_entries = 0;
};

// A repository's complaints, for its administrators' page.
struct ComplaintsView {
  Repo repo;
  bool public_channel = false;  // anyone may file, not only readers
  std::vector<Complaint> complaints;  // newest first
  int64_t now = 0;                    // what "overdue" was judged against
};

// Files a page may show as text, and the report frame.
inline constexpr size_t kMaxPreview = 256 * 1024;

class PageData {
 public:
  explicit PageData(HubServer::Impl& hub) : hub_(hub) {}

  // Signs in with a hub token: the principal behind it, or kForbidden (unknown, expired or
  // revoked; audited as a denied "auth.login").
  Answer<Principal> sign_in(Ctx& ctx, const std::string& secret);
  void audit_sign_out(Ctx& ctx);

  // Repositories the viewer may read whose "owner/name" contains `query` (case-insensitive).
  Answer<std::vector<Repo>> visible_models(Ctx& ctx, const std::string& query);
  // The repository at `rev` with its README (audited as a download of README.md when shown).
  Answer<RepoView> repo_view(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev);
  // A file's first `limit` bytes; audited like a download ("model.download", via web).
  Answer<BlobView> blob(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                        const std::string& path, size_t limit);
  Answer<std::vector<Commit>> commits(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev);

  // The compliance report of the repository at `rev` (needs read access; audited by the service).
  Answer<ComplianceView> compliance_report(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev);

  // Settings: needs admin on the repository (else not found / forbidden as the API answers).
  Answer<AccessView> access(Ctx& ctx, const std::string& owner, const std::string& name);
  // subject "user:NAME" or "team:ORG/TEAM"; role read|write|admin|none (none revokes).
  Answer<Done> set_grant(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& subject,
                         const std::string& role);
  Answer<Done> set_visibility(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& visibility);

  // Organizations: anyone signed in who belongs to the org (or a site admin) may look.
  Answer<OrgView> org(Ctx& ctx, const std::string& org);
  Answer<Done> set_member(Ctx& ctx, const std::string& org, const std::string& user, const std::string& role);
  Answer<Done> remove_member(Ctx& ctx, const std::string& org, const std::string& user);
  Answer<Done> create_team(Ctx& ctx, const std::string& org, const std::string& team);
  Answer<Done> set_team_member(Ctx& ctx, const std::string& org, const std::string& team, const std::string& user,
                               bool member);

  // The viewer's own tokens.
  Answer<std::vector<Token>> own_tokens(Ctx& ctx);
  // A token no wider than the session's own; the secret is in the answer, once.
  Answer<IssuedToken> create_token(Ctx& ctx, const std::string& name, const std::string& scopes, int64_t ttl_seconds);
  Answer<Done> revoke_token(Ctx& ctx, const std::string& token_id);

  // The audit trail the viewer may read (site admin: all; org owner/admin: their orgs).
  Answer<AuditPage> audit(Ctx& ctx, const AuditQuery& query);
  // The same entries as record lines (JSON Lines, verifiable as a filtered export), all pages.
  Answer<std::string> audit_export(Ctx& ctx, const AuditQuery& query);

  // Complaints (service/complaint_service.h). The form's repository as filing would see it
  // (not audited: showing a form changes nothing).
  Answer<Repo> complaint_target(Ctx& ctx, const std::string& owner, const std::string& name);
  Answer<ComplaintReceipt> file_complaint(Ctx& ctx, const ComplaintRequest& request);
  Answer<Complaint> complaint_status(const std::string& id, const std::string& secret);
  // Needs admin on the repository.
  Answer<ComplaintsView> complaints(Ctx& ctx, const std::string& owner, const std::string& name);
  Answer<Done> decide_complaint(Ctx& ctx, const std::string& id, const std::string& status, const std::string& resolution);
  Answer<Done> set_complaint_channel(Ctx& ctx, const std::string& owner, const std::string& name, bool open);

  // The organizations the viewer belongs to (for the navigation).
  std::vector<Membership> memberships(const Principal& who);

 private:
  HubService& service() { return *hub_.service; }

  HubServer::Impl& hub_;
};

}  // namespace lv::hub::web
