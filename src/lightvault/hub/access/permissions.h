#pragma once
// Roles and the effective-permission rule of the hub, as a pure function over plain data so
// the whole matrix is testable without a catalog or a server.
//
// The rule (highest grant wins; each line gives a floor):
//   - site administrator (user `admin` and anyone made site admin)   -> admin on every repo
//   - the user who owns a personal repository                         -> admin
//   - organization owner or admin, on the organization's repositories -> admin
//   - organization member, on an *internal* organization repository   -> read
//   - any authenticated user, on an *internal* personal repository    -> read
//     (a personal namespace has no members, so "internal" means "inside this hub")
//   - a repository grant (read/write/admin) to the user, or to a team the user belongs to
//   - everything else, and every anonymous request                    -> none
// A token's scope then caps the result: a read-scoped token never writes, even for an owner.
// Actions map to the role they need: read (download, info, list), write (upload, commit,
// tag), admin (grant, visibility, delete).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lv::hub {

enum class RepoRole : int { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };
enum class OrgRole : int { kMember = 1, kAdmin = 2, kOwner = 3 };
enum class Visibility { kPrivate, kInternal };
enum class OwnerKind { kUser, kOrg };
enum class SubjectKind { kUser, kTeam };
enum class Action { kRead, kWrite, kAdmin };

std::string_view to_string(RepoRole r);
std::string_view to_string(OrgRole r);
std::string_view to_string(Visibility v);
std::string_view to_string(OwnerKind k);
std::string_view to_string(SubjectKind k);
std::string_view to_string(Action a);
std::optional<RepoRole> parse_repo_role(std::string_view s);  // read|write|admin|none
std::optional<OrgRole> parse_org_role(std::string_view s);     // owner|admin|member
std::optional<Visibility> parse_visibility(std::string_view s);  // private|internal
std::optional<SubjectKind> parse_subject_kind(std::string_view s);  // user|team

// The role an action requires.
RepoRole required_role(Action a);

// A token's scopes, a bit set.
enum TokenScope : unsigned { kScopeRead = 1, kScopeWrite = 2, kScopeAdmin = 4 };
// Parses "read,write" / "admin" (admin implies write implies read).
std::optional<unsigned> parse_scopes(std::string_view s);
std::string scopes_to_string(unsigned scopes);
// The highest role a token with these scopes may exercise.
RepoRole scope_cap(unsigned scopes);

// Everything about the caller that the rule looks at.
struct PrincipalFacts {
  bool authenticated = false;
  int64_t user_id = 0;
  bool site_admin = false;
  std::optional<OrgRole> org_role;  // role in the repository's owning organization, if any
  std::vector<int64_t> team_ids;    // teams the user belongs to
  RepoRole scope_cap = RepoRole::kAdmin;  // the token's scope (admin = no cap)
};

struct RepoFacts {
  OwnerKind owner_kind = OwnerKind::kUser;
  int64_t owner_id = 0;  // user id or organization id
  Visibility visibility = Visibility::kPrivate;
};

struct GrantFact {
  SubjectKind subject = SubjectKind::kUser;
  int64_t subject_id = 0;
  RepoRole role = RepoRole::kNone;
};

// The caller's effective role on the repository (before and after the token's cap).
RepoRole effective_role_uncapped(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants);
RepoRole effective_role(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants);
bool allowed(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants, Action a);

}  // namespace lv::hub
