#include "lightvault/hub/access/permissions.h"

#include <algorithm>

namespace lv::hub {

std::string_view to_string(RepoRole r) {
  switch (r) {
    case RepoRole::kNone: return "none";
    case RepoRole::kRead: return "read";
    case RepoRole::kWrite: return "write";
    case RepoRole::kAdmin: return "admin";
  }
  return "none";
}
std::string_view to_string(OrgRole r) {
  switch (r) {
    case OrgRole::kMember: return "member";
    case OrgRole::kAdmin: return "admin";
    case OrgRole::kOwner: return "owner";
  }
  return "member";
}
std::string_view to_string(Visibility v) { return v == Visibility::kPrivate ? "private" : "internal"; }
std::string_view to_string(OwnerKind k) { return k == OwnerKind::kUser ? "user" : "org"; }
std::string_view to_string(SubjectKind k) { return k == SubjectKind::kUser ? "user" : "team"; }
std::string_view to_string(Action a) {
  switch (a) {
    case Action::kRead: return "read";
    case Action::kWrite: return "write";
    case Action::kAdmin: return "admin";
  }
  return "read";
}

std::optional<RepoRole> parse_repo_role(std::string_view s) {
  if (s == "none") return RepoRole::kNone;
  if (s == "read") return RepoRole::kRead;
  if (s == "write") return RepoRole::kWrite;
  if (s == "admin") return RepoRole::kAdmin;
  return std::nullopt;
}
std::optional<OrgRole> parse_org_role(std::string_view s) {
  if (s == "member") return OrgRole::kMember;
  if (s == "admin") return OrgRole::kAdmin;
  if (s == "owner") return OrgRole::kOwner;
  return std::nullopt;
}
std::optional<Visibility> parse_visibility(std::string_view s) {
  if (s == "private") return Visibility::kPrivate;
  if (s == "internal") return Visibility::kInternal;
  return std::nullopt;
}
std::optional<SubjectKind> parse_subject_kind(std::string_view s) {
  if (s == "user") return SubjectKind::kUser;
  if (s == "team") return SubjectKind::kTeam;
  return std::nullopt;
}

RepoRole required_role(Action a) {
  switch (a) {
    case Action::kRead: return RepoRole::kRead;
    case Action::kWrite: return RepoRole::kWrite;
    case Action::kAdmin: return RepoRole::kAdmin;
  }
  return RepoRole::kAdmin;
}

RepoRole effective_role_uncapped(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants) {
  if (!p.authenticated) return RepoRole::kNone;
  auto best = RepoRole::kNone;
  auto raise = [&](RepoRole role) { best = std::max(best, role); };
  if (p.site_admin) raise(RepoRole::kAdmin);
  if (r.owner_kind == OwnerKind::kUser) {
    if (r.owner_id == p.user_id) raise(RepoRole::kAdmin);
    if (r.visibility == Visibility::kInternal) raise(RepoRole::kRead);
  } else if (p.org_role) {
    if (*p.org_role == OrgRole::kOwner || *p.org_role == OrgRole::kAdmin) raise(RepoRole::kAdmin);
    if (r.visibility == Visibility::kInternal) raise(RepoRole::kRead);
  }
  for (const auto& g : grants) {
    if (g.subject == SubjectKind::kUser && g.subject_id == p.user_id) raise(g.role);
    if (g.subject == SubjectKind::kTeam &&
        std::find(p.team_ids.begin(), p.team_ids.end(), g.subject_id) != p.team_ids.end()) {
      raise(g.role);
    }
  }
  return best;
}

RepoRole effective_role(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants) {
  return std::min(effective_role_uncapped(p, r, grants), p.scope_cap);
}

bool allowed(const PrincipalFacts& p, const RepoFacts& r, const std::vector<GrantFact>& grants, Action a) {
  return effective_role(p, r, grants) >= required_role(a);
}

std::optional<unsigned> parse_scopes(std::string_view s) {
  unsigned scopes = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    auto part = s.substr(start, end - start);
    if (part == "read") scopes |= kScopeRead;
    else if (part == "write") scopes |= kScopeRead | kScopeWrite;
    else if (part == "admin") scopes |= kScopeRead | kScopeWrite | kScopeAdmin;
    else return std::nullopt;
    start = end + 1;
  }
  return scopes;
}

std::string scopes_to_string(unsigned scopes) {
  std::string out;
  auto add = [&](const char* s) { out += out.empty() ? s : std::string(",") + s; };
  if (scopes & kScopeRead) add("read");
  if (scopes & kScopeWrite) add("write");
  if (scopes & kScopeAdmin) add("admin");
  return out;
}

RepoRole scope_cap(unsigned scopes) {
  if (scopes & kScopeAdmin) return RepoRole::kAdmin;
  if (scopes & kScopeWrite) return RepoRole::kWrite;
  if (scopes & kScopeRead) return RepoRole::kRead;
  return RepoRole::kNone;
}

}  // namespace lv::hub
