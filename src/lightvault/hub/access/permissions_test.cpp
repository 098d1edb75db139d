// The permission matrix: every caller relation (personal owner, other user, anonymous, org
// owner/admin/member, non-member) x visibility x repository grant (none/read/write/admin, to
// the user or to a team) x action, with token scope caps, against the documented rule.
#include "lightvault/hub/access/permissions.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

namespace lv::hub {
namespace {

enum class Caller { kOwner, kOtherUser, kAnonymous, kOrgOwner, kOrgAdmin, kOrgMember, kNonMember, kSiteAdmin };

const char* name(Caller c) {
  switch (c) {
    case Caller::kOwner: return "personal-owner";
    case Caller::kOtherUser: return "other-user";
    case Caller::kAnonymous: return "anonymous";
    case Caller::kOrgOwner: return "org-owner";
    case Caller::kOrgAdmin: return "org-admin";
    case Caller::kOrgMember: return "org-member";
    case Caller::kNonMember: return "non-member";
    case Caller::kSiteAdmin: return "site-admin";
  }
  return "?";
}

// The role each caller has with no grant at all: the documented table.
// key: (org repo?, visibility, caller)
const std::map<std::tuple<bool, Visibility, Caller>, RepoRole>& base_roles() {
  using V = Visibility;
  using C = Caller;
  using R = RepoRole;
  static const std::map<std::tuple<bool, Visibility, Caller>, RepoRole> t = {
      {{false, V::kPrivate, C::kOwner}, R::kAdmin},      {{false, V::kPrivate, C::kOtherUser}, R::kNone},
      {{false, V::kPrivate, C::kAnonymous}, R::kNone},   {{false, V::kPrivate, C::kSiteAdmin}, R::kAdmin},
      {{false, V::kInternal, C::kOwner}, R::kAdmin},     {{false, V::kInternal, C::kOtherUser}, R::kRead},
      {{false, V::kInternal, C::kAnonymous}, R::kNone},  {{false, V::kInternal, C::kSiteAdmin}, R::kAdmin},
      {{true, V::kPrivate, C::kOrgOwner}, R::kAdmin},    {{true, V::kPrivate, C::kOrgAdmin}, R::kAdmin},
      {{true, V::kPrivate, C::kOrgMember}, R::kNone},    {{true, V::kPrivate, C::kNonMember}, R::kNone},
      {{true, V::kPrivate, C::kAnonymous}, R::kNone},    {{true, V::kPrivate, C::kSiteAdmin}, R::kAdmin},
      {{true, V::kInternal, C::kOrgOwner}, R::kAdmin},   {{true, V::kInternal, C::kOrgAdmin}, R::kAdmin},
      {{true, V::kInternal, C::kOrgMember}, R::kRead},   {{true, V::kInternal, C::kNonMember}, R::kNone},
      {{true, V::kInternal, C::kAnonymous}, R::kNone},   {{true, V::kInternal, C::kSiteAdmin}, R::kAdmin},
  };
  return t;
}

constexpr int64_t kCaller = 10, kOwnerUser = 20, kOrg = 30, kTeam = 40, kOtherTeam = 41;

PrincipalFacts facts(Caller c, bool org_repo) {
  PrincipalFacts p;
  p.authenticated = c != Caller::kAnonymous;
  p.user_id = c == Caller::kOwner ? kOwnerUser : kCaller;
  if (c == Caller::kAnonymous) p.user_id = 0;
  p.site_admin = c == Caller::kSiteAdmin;
  if (org_repo) {
    if (c == Caller::kOrgOwner) p.org_role = OrgRole::kOwner;
    if (c == Caller::kOrgAdmin) p.org_role = OrgRole::kAdmin;
    if (c == Caller::kOrgMember) p.org_role = OrgRole::kMember;
  }
  if (p.authenticated) p.team_ids = {kTeam};
  return p;
}

TEST(PermissionMatrix, EveryCallerVisibilityGrantAndAction) {
  int cases = 0;
  for (const auto& [key, base] : base_roles()) {
    auto [org_repo, vis, caller] = key;
    RepoFacts repo{org_repo ? OwnerKind::kOrg : OwnerKind::kUser, org_repo ? kOrg : kOwnerUser, vis};
    for (SubjectKind via : {SubjectKind::kUser, SubjectKind::kTeam}) {
      for (RepoRole grant : {RepoRole::kNone, RepoRole::kRead, RepoRole::kWrite, RepoRole::kAdmin}) {
        std::vector<GrantFact> grants;
        if (grant != RepoRole::kNone) grants.push_back({via, via == SubjectKind::kUser ? kCaller : kTeam, grant});
        // A grant to someone else never helps.
        grants.push_back({SubjectKind::kUser, 999, RepoRole::kAdmin});
        grants.push_back({SubjectKind::kTeam, kOtherTeam, RepoRole::kAdmin});
        PrincipalFacts p = facts(caller, org_repo);
        // Grants to the caller only apply to the caller's id (the owner has its own id).
        RepoRole granted = (caller == Caller::kAnonymous || (caller == Caller::kOwner && via == SubjectKind::kUser))
                               ? RepoRole::kNone
                               : grant;
        RepoRole expected = std::max(base, granted);
        for (RepoRole cap : {RepoRole::kRead, RepoRole::kWrite, RepoRole::kAdmin}) {
          p.scope_cap = cap;
          RepoRole capped = std::min(expected, cap);
          for (Action a : {Action::kRead, Action::kWrite, Action::kAdmin}) {
            bool want = capped >= required_role(a);
            EXPECT_EQ(allowed(p, repo, grants, a), want)
                << (org_repo ? "org" : "personal") << " " << to_string(vis) << " repo, caller " << name(caller)
                << ", grant " << to_string(grant) << " via " << to_string(via) << ", token scope " << to_string(cap)
                << ", action " << to_string(a);
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 20 * 2 * 4 * 3 * 3);
}

TEST(PermissionMatrix, LiteralCases) {
  RepoFacts org_private{OwnerKind::kOrg, kOrg, Visibility::kPrivate};
  RepoFacts org_internal{OwnerKind::kOrg, kOrg, Visibility::kInternal};
  // An org member cannot even read a private org repo without a grant...
  EXPECT_FALSE(allowed(facts(Caller::kOrgMember, true), org_private, {}, Action::kRead));
  // ...reads an internal one, but cannot write it.
  EXPECT_TRUE(allowed(facts(Caller::kOrgMember, true), org_internal, {}, Action::kRead));
  EXPECT_FALSE(allowed(facts(Caller::kOrgMember, true), org_internal, {}, Action::kWrite));
  // A team write grant lets a member upload but not change grants.
  std::vector<GrantFact> team_write{{SubjectKind::kTeam, kTeam, RepoRole::kWrite}};
  EXPECT_TRUE(allowed(facts(Caller::kOrgMember, true), org_private, team_write, Action::kWrite));
  EXPECT_FALSE(allowed(facts(Caller::kOrgMember, true), org_private, team_write, Action::kAdmin));
  // Highest grant wins: read to the user and admin to the team -> admin.
  std::vector<GrantFact> mixed{{SubjectKind::kUser, kCaller, RepoRole::kRead}, {SubjectKind::kTeam, kTeam, RepoRole::kAdmin}};
  EXPECT_EQ(effective_role(facts(Caller::kNonMember, true), org_private, mixed), RepoRole::kAdmin);
  // A read-scoped token of the owner cannot write.
  auto owner = facts(Caller::kOwner, false);
  owner.scope_cap = RepoRole::kRead;
  RepoFacts mine{OwnerKind::kUser, kOwnerUser, Visibility::kPrivate};
  EXPECT_TRUE(allowed(owner, mine, {}, Action::kRead));
  EXPECT_FALSE(allowed(owner, mine, {}, Action::kWrite));
  // Anonymous callers get nothing, even with a grant naming user id 0.
  std::vector<GrantFact> zero{{SubjectKind::kUser, 0, RepoRole::kAdmin}};
  EXPECT_EQ(effective_role(facts(Caller::kAnonymous, true), org_internal, zero), RepoRole::kNone);
}

TEST(PermissionNames, RoundTrip) {
  for (auto r : {RepoRole::kNone, RepoRole::kRead, RepoRole::kWrite, RepoRole::kAdmin}) EXPECT_EQ(parse_repo_role(to_string(r)), r);
  for (auto r : {OrgRole::kMember, OrgRole::kAdmin, OrgRole::kOwner}) EXPECT_EQ(parse_org_role(to_string(r)), r);
  EXPECT_FALSE(parse_repo_role("root").has_value());
  EXPECT_FALSE(parse_org_role("").has_value());
}

}  // namespace
}  // namespace lv::hub
