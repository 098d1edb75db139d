// The service layer's use cases, run on every catalog backend (SQLite; PostgreSQL when Debian's
// server is installed): error codes instead of error text, the audit entry inside the change's
// transaction, refusals audited, and the one-query model listing agreeing with the per-repository
// permission rule.
#include "lightvault/hub/service/hub_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "lightvault/hub/service/service_testutil.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

class HubServiceTest : public testing::ServiceBackendTest {
 protected:
  // Uploads `text` to the repository as `who` and commits it at `path` on main.
  Outcome<Commit> put_file(const Caller& who, const std::string& repo, const std::string& path, const std::string& text,
                           std::optional<std::string> parent = std::nullopt) {
    auto slash = repo.find('/');
    std::string owner = repo.substr(0, slash), name = repo.substr(slash + 1);
    auto r = service_->begin_upload(who, owner, name, {});
    if (!r.ok()) return r.error();
    auto up = service_->upload(who, *r, {}, [&](const std::function<bool(const char*, size_t)>& sink) {
      return sink(text.data(), text.size());
    });
    if (!up.ok()) return up.error();
    CommitRequest req;
    req.add.push_back(FileEntry{path, up->sha256, up->size});
    req.parent = std::move(parent);
    auto made = service_->create_commit(who, owner, name, req);
    if (!made.ok()) return made.error();
    return std::move(made->commit);
  }

};

TEST_P(HubServiceTest, ConflictsAreCodesNotText) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  auto again = service_->create_user(admin_, "alice", false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto bad = service_->create_user(admin_, "../alice", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalid);

  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m", Visibility::kPrivate).ok());
  auto twice = service_->create_repo(alice, "alice", "m", Visibility::kPrivate);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, ErrorCode::kConflict);

  ASSERT_TRUE(service_->create_org(alice, "acme", "").ok());
  EXPECT_EQ(service_->create_org(alice, "acme", "").error().code, ErrorCode::kConflict);
  // Users and organizations share one namespace.
  EXPECT_EQ(service_->create_user(admin_, "acme", false).error().code, ErrorCode::kConflict);
  EXPECT_EQ(service_->create_org(alice, "alice", "").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(service_->create_team(alice, "acme", "ml").ok());
  EXPECT_EQ(service_->create_team(alice, "acme", "ml").error().code, ErrorCode::kConflict);
}

TEST_P(HubServiceTest, AStaleParentIsAConflictAndChangesNothing) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m", Visibility::kPrivate).ok());
  auto first = put_file(alice, "alice/m", "a.txt", "one");
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = put_file(alice, "alice/m", "b.txt", "two", first->id);
  ASSERT_TRUE(second.ok()) << second.error().message;
  size_t before = trail().size();
  auto stale = put_file(alice, "alice/m", "c.txt", "three", first->id);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict) << stale.error().message;
  auto head = service_->read_revision(alice, "alice", "m", "main");
  ASSERT_TRUE(head.ok() && head->commit);
  EXPECT_EQ(head->commit->id, second->id);
  // The upload and the rejected commit are on the trail, the commit as an error.
  auto entries = trail();
  ASSERT_EQ(entries.size(), before + 2);
  EXPECT_EQ(entries.back()["action"], "model.upload");
  EXPECT_EQ(entries.back()["outcome"], kAuditError);
}

TEST_P(HubServiceTest, RefusalsHideRepositoriesAndAreAudited) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  ASSERT_TRUE(service_->create_user(admin_, "bob", false).ok());
  Caller alice = user("alice"), bob = user("bob");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "secret", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->create_repo(alice, "alice", "shared", Visibility::kInternal).ok());

  auto hidden = service_->read_revision(bob, "alice", "secret", "main");
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  auto missing = service_->read_revision(bob, "alice", "nothing", "main");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().reason, hidden.error().reason);
  auto readonly = service_->set_visibility(bob, "alice", "shared", "private");
  ASSERT_FALSE(readonly.ok());
  EXPECT_EQ(readonly.error().code, ErrorCode::kDenied);
  auto anonymous = service_->list_models(Caller{}, {});
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, ErrorCode::kUnauthenticated);

  auto entries = trail();
  ASSERT_GE(entries.size(), 4u);
  const json& last = entries.back();
  EXPECT_EQ(last["action"], "model.list");
  EXPECT_EQ(last["outcome"], kAuditDenied);
  const json& denied = entries[entries.size() - 2];
  EXPECT_EQ(denied["action"], "repo.settings");
  EXPECT_EQ(denied["actor"], "bob");
  EXPECT_EQ(denied["details"]["status"], 403);
}

TEST_P(HubServiceTest, ListingAgreesWithThePermissionRuleForEveryone) {
  for (const char* name : {"alice", "bob", "carol", "dave"}) ASSERT_TRUE(service_->create_user(admin_, name, false).ok());
  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_org(alice, "acme", "").ok());
  ASSERT_TRUE(service_->set_member(alice, "acme", "bob", "member").ok());
  ASSERT_TRUE(service_->set_member(alice, "acme", "carol", "admin").ok());
  ASSERT_TRUE(service_->create_team(alice, "acme", "ml").ok());
  ASSERT_TRUE(service_->set_team_member(alice, "acme", "ml", "bob", true).ok());
  ASSERT_TRUE(service_->create_repo(alice, "acme", "internal", Visibility::kInternal).ok());
  ASSERT_TRUE(service_->create_repo(alice, "acme", "private", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->create_repo(alice, "acme", "team", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->create_repo(alice, "alice", "mine", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->create_repo(alice, "alice", "open", Visibility::kInternal).ok());
  ASSERT_TRUE(service_->create_repo(alice, "alice", "granted", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->set_grant(alice, "acme", "team", "team:acme/ml", "read").ok());
  ASSERT_TRUE(service_->set_grant(alice, "alice", "granted", "user:dave", "write").ok());
  ASSERT_TRUE(put_file(alice, "alice/mine", "README.md", "# mine\n").ok());

  auto repos = catalog_->list_repos();
  ASSERT_TRUE(repos.ok());
  for (const char* name : {"admin", "alice", "bob", "carol", "dave"}) {
    Caller who = std::string(name) == "admin" ? admin_ : user(name);
    std::vector<std::string> expected;
    for (auto& r : *repos) {
      if (service_->open_repo(who, r.owner, r.name, Action::kRead, "model.info").ok()) expected.push_back(r.full_name());
    }
    auto listed = service_->list_models(who, {});
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    std::vector<std::string> got;
    for (auto& l : *listed) got.push_back(l.repo.full_name());
    EXPECT_EQ(got, expected) << name;
    for (auto& l : *listed) {
      auto head = catalog_->resolve(l.repo.id, "main");
      ASSERT_TRUE(head.ok());
      EXPECT_EQ(l.head_id, *head ? (*head)->id : "") << l.repo.full_name();
      EXPECT_EQ(l.head_time, *head ? (*head)->created_at : 0) << l.repo.full_name();
    }
  }
  // A read-scoped token lists what its user may read; search and paging narrow the list.
  auto dave_read = service_->list_models(user("dave", kScopeRead), {});
  ASSERT_TRUE(dave_read.ok());
  ASSERT_EQ(dave_read->size(), 2u);  // alice/granted (granted) and alice/open (internal)
  ModelQuery q;
  q.search = "ACME/";
  auto searched = service_->list_models(admin_, q);
  ASSERT_TRUE(searched.ok());
  EXPECT_EQ(searched->size(), 3u);
  q.offset = 1;
  q.limit = 1;
  auto paged = service_->list_models(admin_, q);
  ASSERT_TRUE(paged.ok());
  ASSERT_EQ(paged->size(), 1u);
  EXPECT_EQ(paged->front().repo.full_name(), "acme/private");
}

TEST_P(HubServiceTest, AuditTrailReadsNewestFirstWithFiltersAndPages) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  Caller alice = user("alice");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(service_->create_repo(alice, "alice", "m" + std::to_string(i), Visibility::kPrivate).ok());
  AuditQuery q;
  q.action = "repo.create";
  q.limit = 2;
  auto first = service_->read_audit(admin_, q);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->entries.size(), 2u);
  EXPECT_EQ(json::parse(first->entries[0].line)["resource"], "alice/m4");
  EXPECT_EQ(json::parse(first->entries[1].line)["resource"], "alice/m3");
  q.before_seq = first->next_before_seq;
  q.limit = 10;
  auto rest = service_->read_audit(admin_, q);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->entries.size(), 3u);
  EXPECT_EQ(rest->next_before_seq, 0);
  EXPECT_EQ(json::parse(rest->entries.back().line)["resource"], "alice/m0");
  // Not an administrator of anything: refused, and the refusal is on the trail.
  auto refused = service_->read_audit(user("alice", kScopeRead), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kDenied);
}

TEST_P(HubServiceTest, TokensAreTheCallersOwnUnlessSiteAdmin) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  ASSERT_TRUE(service_->create_user(admin_, "bob", false).ok());
  Caller alice = user("alice", kScopeRead | kScopeWrite);
  TokenRequest wider;
  wider.scopes = "admin";
  EXPECT_EQ(service_->create_token(alice, wider).error().code, ErrorCode::kDenied);
  TokenRequest for_bob;
  for_bob.user = "bob";
  EXPECT_EQ(service_->create_token(alice, for_bob).error().code, ErrorCode::kDenied);
  auto bobs = service_->create_token(admin_, for_bob);
  ASSERT_TRUE(bobs.ok());
  // Another user's token looks like no token at all.
  EXPECT_EQ(service_->revoke_token(alice, bobs->token.id).error().code, ErrorCode::kNotFound);
  auto own = service_->create_token(alice, TokenRequest{});
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(service_->revoke_token(alice, own->token.id).ok());
  auto listed = service_->list_tokens(alice, "");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_NE(listed->front().revoked_at, 0);
}

TEST_P(HubServiceTest, SessionsFollowTheirTokenAsStoredNow) {
  ASSERT_TRUE(service_->create_user(admin_, "alice", false).ok());
  Caller alice = user("alice", kScopeRead);
  auto issued = service_->create_token(alice, TokenRequest{});
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  auto signed_in = service_->authenticate(issued->secret);
  ASSERT_TRUE(signed_in.ok()) << signed_in.error().message;
  ASSERT_EQ(signed_in->check, TokenCheck::kOk);
  ASSERT_TRUE(signed_in->user && signed_in->token);
  EXPECT_EQ(signed_in->user->name, "alice");
  auto wrong = service_->authenticate(issued->secret + "0");
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong->check, TokenCheck::kOk);

  Principal session;
  session.user = signed_in->user;
  session.token = signed_in->token;
  session.scopes = signed_in->token->scopes;
  auto now = service_->refresh(session);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->name(), "alice");
  EXPECT_EQ(now->scopes, kScopeRead);
  // A browser session of the token (stored as the web interface stores it) ends with the
  // revocation, in its transaction, and the audit entry says so.
  int64_t t = now_unix();
  ASSERT_TRUE(catalog_->create_session(SessionRow{std::string(64, 'a'), issued->token.id, std::string(64, 'c'), t, t + 3600}).ok());
  ASSERT_TRUE(catalog_->find_live_session(std::string(64, 'a'), t)->has_value());
  ASSERT_TRUE(service_->revoke_token(alice, issued->token.id).ok());
  EXPECT_FALSE(service_->refresh(session).has_value());
  EXPECT_FALSE(service_->refresh(Principal{}).has_value());
  EXPECT_EQ(catalog_->session_count().value(), 0);
  EXPECT_EQ(trail().back()["action"], "token.revoke");
  EXPECT_EQ(trail().back()["details"]["sessions_ended"], 1);
}

TEST_P(HubServiceTest, RostersRefsAndRolesForThePages) {
  for (const char* name : {"alice", "bob", "carol"}) ASSERT_TRUE(service_->create_user(admin_, name, false).ok());
  Caller alice = user("alice"), bob = user("bob"), carol = user("carol");
  ASSERT_TRUE(service_->create_org(alice, "acme", "").ok());
  ASSERT_TRUE(service_->set_member(alice, "acme", "bob", "member").ok());
  ASSERT_TRUE(service_->create_team(alice, "acme", "ml").ok());
  ASSERT_TRUE(service_->create_team(alice, "acme", "ops").ok());
  ASSERT_TRUE(service_->set_team_member(alice, "acme", "ml", "bob", true).ok());
  ASSERT_TRUE(service_->set_team_member(alice, "acme", "ml", "alice", true).ok());

  auto rosters = service_->team_rosters(bob, "acme");
  ASSERT_TRUE(rosters.ok()) << rosters.error().message;
  std::map<std::string, std::vector<std::string>> by_team;
  for (auto& r : *rosters) {
    std::sort(r.members.begin(), r.members.end());
    by_team[r.team.name] = r.members;
  }
  EXPECT_EQ(by_team, (std::map<std::string, std::vector<std::string>>{{"ml", {"alice", "bob"}}, {"ops", {}}}));
  // Outsiders do not learn the organization exists.
  auto outside = service_->team_rosters(carol, "acme");
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(service_->create_repo(alice, "acme", "m", Visibility::kPrivate).ok());
  auto first = put_file(alice, "acme/m", "a.txt", "one");
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(service_->set_tag(alice, "acme", "m", "v1", "main").ok());
  auto repo = service_->open_repo(alice, "acme", "m", Action::kRead, "model.info");
  ASSERT_TRUE(repo.ok());
  auto refs = service_->list_refs(*repo);
  ASSERT_TRUE(refs.ok());
  std::map<std::string, std::string> ref_kinds;
  for (auto& r : *refs) {
    ref_kinds[r.name] = r.kind;
    EXPECT_EQ(r.commit_id, first->id);
  }
  EXPECT_EQ(ref_kinds, (std::map<std::string, std::string>{{"main", "branch"}, {"v1", "tag"}}));
  auto owner_role = service_->role_on(alice.who, *repo);
  auto member_role = service_->role_on(bob.who, *repo);
  auto outsider_role = service_->role_on(carol.who, *repo);
  ASSERT_TRUE(owner_role.ok() && member_role.ok() && outsider_role.ok());
  EXPECT_EQ(*owner_role, RepoRole::kAdmin);
  EXPECT_EQ(*member_role, RepoRole::kNone);  // a private org repository needs a grant
  EXPECT_EQ(*outsider_role, RepoRole::kNone);
}

TEST_P(HubServiceTest, OrgAdministratorsSeeWhetherTheLiveChainHolds) {
  for (const char* name : {"alice", "bob"}) ASSERT_TRUE(service_->create_user(admin_, name, false).ok());
  Caller alice = user("alice"), bob = user("bob");
  ASSERT_TRUE(service_->create_org(alice, "acme", "").ok());
  ASSERT_TRUE(service_->set_member(alice, "acme", "bob", "member").ok());
  auto as_owner = service_->audit_chain_status(alice);
  ASSERT_TRUE(as_owner.ok()) << as_owner.error().message;
  EXPECT_TRUE(as_owner->ok) << as_owner->message;
  EXPECT_EQ(as_owner->entries, static_cast<int64_t>(trail().size()));
  // The site administrator's own use case stays theirs.
  EXPECT_EQ(service_->verify_audit(alice).error().code, ErrorCode::kDenied);
  // A plain member may read no part of the trail, so not its state either.
  EXPECT_EQ(service_->audit_chain_status(bob).error().code, ErrorCode::kDenied);
  EXPECT_EQ(service_->audit_chain_status(Caller{}).error().code, ErrorCode::kUnauthenticated);
}

INSTANTIATE_TEST_SUITE_P(Backends, HubServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub
