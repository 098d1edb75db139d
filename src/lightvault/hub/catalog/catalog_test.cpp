// Catalog tests, run on every backend: SQLite in a temp folder, and a real PostgreSQL server
// started for the test run (skipped with the reason when Debian's postgresql is not installed).
#include "lightvault/hub/catalog/catalog.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

#include "lightvault/hub/audit/catalog_audit.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/access/tokens.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;

std::string sha(const std::string& s) { return crypto::sha256_hex(s); }

class CatalogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lv_catalog_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    std::string url;
    if (GetParam() == "postgres") {
      auto& pg = testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL catalog tests skipped: " << pg.reason();
      url = pg.new_database_url();
      ASSERT_FALSE(url.empty());
    }
    url_ = url;
    auto c = Catalog::open(dir_.string(), url);
    ASSERT_TRUE(c.ok()) << c.error().message;
    cat_ = std::move(*c);
  }
  void TearDown() override {
    cat_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::string url_;
  std::unique_ptr<Catalog> cat_;
};

TEST_P(CatalogTest, UsersOrgsShareOneNamespace) {
  auto alice = cat_->create_user("alice");
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  EXPECT_FALSE(cat_->create_user("alice").ok());
  EXPECT_FALSE(cat_->create_org("alice").ok());
  EXPECT_FALSE(cat_->create_user("../etc").ok());
  EXPECT_FALSE(cat_->create_user("").ok());
  auto org = cat_->create_org("acme");
  ASSERT_TRUE(org.ok());
  EXPECT_FALSE(cat_->create_user("acme").ok());
  auto found = cat_->find_user("alice");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, alice->id);
  EXPECT_FALSE((*found)->site_admin);
  auto by_id = cat_->user_by_id(alice->id);
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ((*by_id)->name, "alice");
}

TEST_P(CatalogTest, MembershipsAndTeams) {
  auto org = cat_->create_org("acme").value();
  auto bob = cat_->create_user("bob").value();
  ASSERT_TRUE(cat_->set_membership(org.id, bob.id, OrgRole::kMember).ok());
  EXPECT_EQ(cat_->org_role(org.id, bob.id).value(), OrgRole::kMember);
  ASSERT_TRUE(cat_->set_membership(org.id, bob.id, OrgRole::kAdmin).ok());
  EXPECT_EQ(cat_->org_role(org.id, bob.id).value(), OrgRole::kAdmin);
  auto team = cat_->create_team(org.id, "ml");
  ASSERT_TRUE(team.ok()) << team.error().message;
  EXPECT_FALSE(cat_->create_team(org.id, "ml").ok());
  ASSERT_TRUE(cat_->add_team_member(team->id, bob.id).ok());
  ASSERT_TRUE(cat_->add_team_member(team->id, bob.id).ok());  // idempotent
  EXPECT_EQ(cat_->team_ids_of(bob.id).value(), std::vector<int64_t>{team->id});
  auto ft = cat_->find_team("acme", "ml");
  ASSERT_TRUE(ft.ok() && ft->has_value());
  EXPECT_EQ((*ft)->id, team->id);
  EXPECT_EQ(cat_->list_memberships(org.id).value().size(), 1u);
  // Leaving the org leaves its teams.
  ASSERT_TRUE(cat_->remove_membership(org.id, bob.id).ok());
  EXPECT_FALSE(cat_->org_role(org.id, bob.id).value().has_value());
  EXPECT_TRUE(cat_->team_ids_of(bob.id).value().empty());
}

TEST_P(CatalogTest, ReposGrantsCommitsAndTags) {
  auto alice = cat_->create_user("alice").value();
  auto bob = cat_->create_user("bob").value();
  EXPECT_FALSE(cat_->create_repo("nobody", "m", Visibility::kPrivate).ok());
  auto repo = cat_->create_repo("alice", "tiny", Visibility::kPrivate);
  ASSERT_TRUE(repo.ok()) << repo.error().message;
  EXPECT_EQ(repo->owner_kind, OwnerKind::kUser);
  EXPECT_EQ(repo->owner_id, alice.id);
  EXPECT_FALSE(cat_->create_repo("alice", "tiny", Visibility::kPrivate).ok());

  ASSERT_TRUE(cat_->set_grant(repo->id, SubjectKind::kUser, bob.id, RepoRole::kWrite).ok());
  auto grants = cat_->list_grants(repo->id).value();
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].role, RepoRole::kWrite);
  EXPECT_EQ(grants[0].subject_name, "bob");
  ASSERT_TRUE(cat_->set_grant(repo->id, SubjectKind::kUser, bob.id, RepoRole::kNone).ok());
  EXPECT_TRUE(cat_->list_grants(repo->id).value().empty());

  // A commit may only reference blobs registered for the repository's owner.
  std::string h1 = sha("weights"), h2 = sha("config");
  auto c0 = cat_->create_commit(*repo, "main", std::nullopt, "first", alice, {{"model.bin", h1, 7}});
  EXPECT_FALSE(c0.ok());
  ASSERT_TRUE(cat_->put_blob({"bob", h1, 7, "s1", 0}).ok());  // another owner's blob does not count
  EXPECT_FALSE(cat_->create_commit(*repo, "main", std::nullopt, "first", alice, {{"model.bin", h1, 7}}).ok());
  ASSERT_TRUE(cat_->put_blob({"alice", h1, 7, "s1", 0}).ok());
  ASSERT_TRUE(cat_->put_blob({"alice", h2, 6, "s2", 0}).ok());
  ASSERT_TRUE(cat_->record_upload(repo->id, alice.id, h1).ok());
  ASSERT_TRUE(cat_->record_upload(repo->id, alice.id, h2).ok());
  EXPECT_FALSE(cat_->create_commit(*repo, "main", std::nullopt, "first", alice, {{"model.bin", h1, 8}}).ok());  // size
  EXPECT_FALSE(cat_->create_commit(*repo, "main", std::nullopt, "x", alice, {{"../x", h1, 7}}).ok());
  EXPECT_FALSE(cat_->create_commit(*repo, "main", std::nullopt, "x", alice, {{"a//b", h1, 7}}).ok());
  auto c1 = cat_->create_commit(*repo, "main", std::string(), "first", alice, {{"model.bin", h1, 7}});
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  EXPECT_EQ(c1->id.size(), 40u);
  EXPECT_TRUE(c1->parent.empty());
  // Optimistic concurrency: expecting an old parent fails.
  EXPECT_FALSE(cat_->create_commit(*repo, "main", std::string(), "stale", alice, {{"model.bin", h1, 7}}).ok());
  auto c2 = cat_->create_commit(*repo, "main", c1->id, "second", alice,
                                {{"model.bin", h1, 7}, {"config.json", h2, 6}}, "{\"license\":\"mit\"}");
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ(c2->parent, c1->id);

  auto head = cat_->resolve(repo->id, "main").value();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->id, c2->id);
  ASSERT_EQ(head->files.size(), 2u);
  EXPECT_EQ(head->files[0].path, "config.json");  // sorted
  EXPECT_EQ(head->card_json, "{\"license\":\"mit\"}");
  EXPECT_EQ(cat_->resolve(repo->id, "HEAD").value()->id, c2->id);
  EXPECT_EQ(cat_->resolve(repo->id, c1->id).value()->files.size(), 1u);
  EXPECT_FALSE(cat_->resolve(repo->id, "nope").value().has_value());

  ASSERT_TRUE(cat_->set_tag(repo->id, "v1", c1->id).ok());
  EXPECT_EQ(cat_->resolve(repo->id, "v1").value()->id, c1->id);
  EXPECT_FALSE(cat_->set_tag(repo->id, "v2", std::string(40, 'a')).ok());
  EXPECT_EQ(cat_->list_refs(repo->id).value().size(), 2u);
  EXPECT_EQ(cat_->list_commits(repo->id).value().size(), 2u);

  ASSERT_TRUE(cat_->delete_repo(repo->id).ok());
  EXPECT_FALSE(cat_->find_repo("alice", "tiny").value().has_value());
}

TEST_P(CatalogTest, BlobsDeduplicateWithinOneOwnerOnly) {
  std::string h = sha("x");
  auto a = cat_->put_blob({"alice", h, 1, "sa", 0});
  ASSERT_TRUE(a.ok());
  auto again = cat_->put_blob({"alice", h, 1, "other", 0});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->storage_id, "sa");
  ASSERT_TRUE(cat_->put_blob({"bob", h, 1, "sb", 0}).ok());
  EXPECT_EQ(cat_->list_blobs().value().size(), 2u);
  EXPECT_EQ(cat_->find_blob("bob", h).value()->storage_id, "sb");
}

TEST_P(CatalogTest, TokensStoreOnlyHashesAndExpire) {
  auto alice = cat_->create_user("alice").value();
  auto issued = issue_token(*cat_, alice, "ci", kScopeRead, 0);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->secret.rfind("hf_lv_", 0), 0u);
  auto stored = cat_->find_token(issued->token.id).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_NE(stored->hash, issued->secret);
  EXPECT_EQ(stored->hash, crypto::sha256_hex(issued->secret));
  // The secret appears nowhere in the catalog.
  auto dump = cat_->sql().exec("SELECT id, name, hash, scopes FROM tokens").value();
  for (auto& row : dump.rows)
    for (auto& v : row) EXPECT_EQ(v.value_or("").find(issued->secret), std::string::npos);

  auto ok = authenticate_token(*cat_, issued->secret).value();
  EXPECT_EQ(ok.check, TokenCheck::kOk);
  EXPECT_EQ(ok.user->name, "alice");
  EXPECT_EQ(authenticate_token(*cat_, "lvt_wrong_wrong_wrong").value().check, TokenCheck::kUnknown);

  ASSERT_TRUE(cat_->revoke_token(issued->token.id).ok());
  EXPECT_EQ(authenticate_token(*cat_, issued->secret).value().check, TokenCheck::kRevoked);
  EXPECT_FALSE(cat_->revoke_token(issued->token.id).ok());

  auto expired = issue_token(*cat_, alice, "old", kScopeRead | kScopeWrite, 0).value();
  ASSERT_TRUE(cat_->sql().exec("UPDATE tokens SET expires_at = 1 WHERE id = ?1", {expired.token.id}).ok());
  EXPECT_EQ(authenticate_token(*cat_, expired.secret).value().check, TokenCheck::kExpired);
  EXPECT_EQ(cat_->list_tokens(alice.id).value().size(), 2u);
}

TEST_P(CatalogTest, TransactionsRollBackEverything) {
  Status st = cat_->transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(cat_->create_user("carol"));
    LV_RETURN_IF_ERROR(cat_->create_org("carolorg"));
    return make_error("test", "abort");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(cat_->find_user("carol").value().has_value());
  EXPECT_FALSE(cat_->find_org("carolorg").value().has_value());
  // Nested transactions join the outer one.
  st = cat_->transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(cat_->create_user("dave"));
    return cat_->transaction([&]() -> Status { return cat_->create_org("daveorg").ok() ? Status::Ok() : make_error("", "x"); });
  });
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(cat_->find_org("daveorg").value().has_value());
}

TEST_P(CatalogTest, ReopenKeepsDataAndSchemaVersion) {
  ASSERT_TRUE(cat_->create_user("erin").ok());
  ASSERT_TRUE(cat_->set_meta("k", "v").ok());
  cat_.reset();
  auto c = Catalog::open(dir_.string(), url_);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE((*c)->find_user("erin").value().has_value());
  EXPECT_EQ((*c)->get_meta("k").value().value_or(""), "v");
  auto v = (*c)->sql().exec("SELECT MAX(version) FROM schema_migrations").value();
  EXPECT_EQ(v.rows[0][0].value_or(""), "7");
}

TEST_P(CatalogTest, OrgPoliciesDefaultOffAndGoWithTheirOrg) {
  auto org = cat_->create_org("acme").value();
  EXPECT_FALSE(cat_->org_policy(org.id).value().require_card_complete);
  ASSERT_TRUE(cat_->set_org_policy(org.id, OrgPolicy{true}).ok());
  EXPECT_TRUE(cat_->org_policy(org.id).value().require_card_complete);
  ASSERT_TRUE(cat_->set_org_policy(org.id, OrgPolicy{false}).ok());  // an update, not a second row
  EXPECT_FALSE(cat_->org_policy(org.id).value().require_card_complete);
  EXPECT_FALSE(cat_->set_org_policy(org.id + 1000, OrgPolicy{true}).ok());  // no such organization
}

TEST_P(CatalogTest, MigratingAVersion1CatalogDatesItsBlobsByTheirCreation) {
  // A catalog as version 1 left it: blobs without uploaded_at.
  ASSERT_TRUE(cat_->sql().exec_script("ALTER TABLE blobs DROP COLUMN uploaded_at; DROP INDEX commit_files_by_sha256;"
                                      "DROP TABLE blob_uploads; DROP TABLE complaints; DROP TABLE complaint_channels;"
                                      "DROP TABLE org_complaint_webhooks; DROP TABLE org_policies; DROP TABLE web_sessions;"
                                      "DELETE FROM schema_migrations WHERE version >= 2;"
                                      "INSERT INTO blobs(owner, sha256, size, storage_id, created_at) VALUES ('alice', 'h', 1, 's', 1234)")
                  .ok());
  cat_.reset();
  auto c = Catalog::open(dir_.string(), url_);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto blob = (*c)->find_blob("alice", "h").value();
  ASSERT_TRUE(blob.has_value());
  EXPECT_EQ(blob->uploaded_at, 1234);
}

TEST_P(CatalogTest, AuditRowsKeepOrder) {
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(cat_->append_audit({i, i == 2 ? "acme" : "", "{\"n\":" + std::to_string(i) + "}", ""}).ok());
  EXPECT_FALSE(cat_->append_audit({2, "", "{}", ""}).ok());  // sequence numbers are unique
  EXPECT_EQ(cat_->audit_count().value(), 3);
  EXPECT_EQ(cat_->last_audit().value()->seq, 3);
  auto rows = cat_->audit_rows(2, 10).value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].org, "acme");
}

// Finding 2: one owner's blobs are stored once, but a writer of one repository cannot commit a
// blob of another by naming its sha256, and the refusal does not say whether it exists.
TEST_P(CatalogTest, CommitsReferenceOnlyBlobsOfTheirRepositoryOrTheirAuthorsUploads) {
  auto org = cat_->create_org("acme").value();
  auto alice = cat_->create_user("alice").value();
  auto bob = cat_->create_user("bob").value();
  auto secret = cat_->create_repo("acme", "secret", Visibility::kPrivate).value();
  auto shared = cat_->create_repo("acme", "shared", Visibility::kPrivate).value();
  std::string s = sha("secret weights"), unknown = sha("never uploaded");
  ASSERT_TRUE(cat_->put_blob({"acme", s, 14, "s1", 0}).ok());
  ASSERT_TRUE(cat_->record_upload(secret.id, bob.id, s).ok());
  ASSERT_TRUE(cat_->create_commit(secret, "main", std::nullopt, "secret", bob, {{"w.bin", s, 14}}).ok());

  auto stolen = cat_->create_commit(shared, "main", std::nullopt, "theft", alice, {{"stolen.txt", s, 19}});
  auto nothing = cat_->create_commit(shared, "main", std::nullopt, "theft", alice, {{"stolen.txt", unknown, 19}});
  ASSERT_FALSE(stolen.ok());
  ASSERT_FALSE(nothing.ok());
  std::string a = stolen.error().message, b = nothing.error().message;
  a.replace(a.find(s), s.size(), "SHA");
  b.replace(b.find(unknown), unknown.size(), "SHA");
  EXPECT_EQ(a, b);  // existing elsewhere and existing nowhere read the same
  EXPECT_EQ(a.find("14"), std::string::npos) << a;  // nor the size
  // Bob's upload to acme/secret does not let him use it in acme/shared either...
  EXPECT_FALSE(cat_->create_commit(shared, "main", std::nullopt, "x", bob, {{"w.bin", s, 14}}).ok());
  // ...until he uploads it there; then anyone may keep it in acme/shared's later commits.
  ASSERT_TRUE(cat_->record_upload(shared.id, bob.id, s).ok());
  auto c1 = cat_->create_commit(shared, "main", std::nullopt, "x", bob, {{"w.bin", s, 14}});
  ASSERT_TRUE(c1.ok()) << c1.error().message;
  auto c2 = cat_->create_commit(shared, "main", c1->id, "y", alice, {{"w.bin", s, 14}, {"copy.bin", s, 14}});
  EXPECT_TRUE(c2.ok()) << c2.error().message;
  // Garbage collection forgets upload records with their blob; deleting a repository its own.
  ASSERT_TRUE(cat_->delete_repo(shared.id).ok());
  EXPECT_EQ(cat_->sql().exec("SELECT COUNT(*) FROM blob_uploads WHERE repo_id = ?1", {shared.id})->rows[0][0].value_or(""), "0");
  (void)org;
}

// Finding 3: a ref may not look like a commit id, and an exact commit id resolves to that commit.
TEST_P(CatalogTest, PinnedCommitIdsCannotBeRedirectedByRefs) {
  auto alice = cat_->create_user("alice").value();
  auto repo = cat_->create_repo("alice", "m", Visibility::kPrivate).value();
  std::string h1 = sha("v1"), h2 = sha("v2");
  for (auto& h : {h1, h2}) {
    ASSERT_TRUE(cat_->put_blob({"alice", h, 2, "s" + h, 0}).ok());
    ASSERT_TRUE(cat_->record_upload(repo.id, alice.id, h).ok());
  }
  auto c1 = cat_->create_commit(repo, "main", std::nullopt, "one", alice, {{"a.bin", h1, 2}}).value();
  auto c2 = cat_->create_commit(repo, "main", c1.id, "two", alice, {{"b.bin", h2, 2}}).value();
  EXPECT_FALSE(cat_->set_tag(repo.id, c1.id, c2.id).ok());
  std::string upper = c1.id;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_FALSE(cat_->set_tag(repo.id, upper, c2.id).ok());
  EXPECT_FALSE(cat_->create_commit(repo, c1.id, std::nullopt, "b", alice, {{"b.bin", h2, 2}}).ok());
  // A tag left by an older version under a commit's name does not win over the commit.
  ASSERT_TRUE(cat_->sql().exec("INSERT INTO refs(repo_id, kind, name, commit_id) VALUES (?1, 'tag', ?2, ?3)", {repo.id, c1.id, c2.id}).ok());
  EXPECT_EQ(cat_->resolve(repo.id, c1.id).value()->id, c1.id);
  EXPECT_EQ(cat_->resolve(repo.id, "main").value()->id, c2.id);
}

// NFC and NFD spellings of one name are one file.
TEST_P(CatalogTest, PathsAreStoredInNfcAndUnsafeOnesRefused) {
  auto alice = cat_->create_user("alice").value();
  auto repo = cat_->create_repo("alice", "m", Visibility::kPrivate).value();
  std::string h = sha("x");
  ASSERT_TRUE(cat_->put_blob({"alice", h, 1, "s", 0}).ok());
  ASSERT_TRUE(cat_->record_upload(repo.id, alice.id, h).ok());
  const std::string nfc = "caf\xc3\xa9.txt", nfd = "cafe\xcc\x81.txt";
  auto both = cat_->create_commit(repo, "main", std::nullopt, "x", alice, {{nfc, h, 1}, {nfd, h, 1}});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("listed twice"), std::string::npos) << both.error().message;
  auto c = cat_->create_commit(repo, "main", std::nullopt, "x", alice, {{nfd, h, 1}});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->files[0].path, nfc);
  EXPECT_FALSE(cat_->create_commit(repo, "main", std::nullopt, "x", alice, {{".git/config", h, 1}}).ok());
  EXPECT_FALSE(cat_->create_commit(repo, "main", std::nullopt, "x", alice, {{"sub/.GIT/hooks/post-checkout", h, 1}}).ok());
}

TEST_P(CatalogTest, LeavingAnOrganizationDropsDirectGrantsOnItsRepositories) {
  auto org = cat_->create_org("acme").value();
  auto bob = cat_->create_user("bob").value();
  auto repo = cat_->create_repo("acme", "m", Visibility::kPrivate).value();
  auto own = cat_->create_repo("bob", "own", Visibility::kPrivate).value();
  ASSERT_TRUE(cat_->set_membership(org.id, bob.id, OrgRole::kMember).ok());
  ASSERT_TRUE(cat_->set_grant(repo.id, SubjectKind::kUser, bob.id, RepoRole::kWrite).ok());
  ASSERT_TRUE(cat_->set_grant(own.id, SubjectKind::kUser, bob.id, RepoRole::kAdmin).ok());
  ASSERT_TRUE(cat_->remove_membership(org.id, bob.id).ok());
  EXPECT_TRUE(cat_->list_grants(repo.id).value().empty());
  EXPECT_EQ(cat_->list_grants(own.id).value().size(), 1u);  // not the organization's
}

// Finding 7: the chain's signed head lives in the catalog's meta, so deleting the newest entries
// shows, and a fresh verifier (as `audit verify` is) reports every problem, not only the first.
TEST_P(CatalogTest, AuditHeadRevealsDeletedNewestEntries) {
  auto key = crypto::random_key().value();
  auto store = std::make_shared<CatalogAuditStore>(*cat_);
  {
    AuditLog log(key, store);
    for (int i = 0; i < 6; ++i) {
      AuditEntry e;
      e.action = "model.download";
      e.resource = "alice/m";
      e.outcome = kAuditAllowed;
      ASSERT_TRUE(log.append(e).ok());
    }
  }
  AuditLog fresh(key, store);
  ASSERT_TRUE(fresh.verify()->ok) << fresh.verify()->message;
  ASSERT_TRUE(cat_->sql().exec("DELETE FROM audit WHERE seq > 4").ok());
  ASSERT_TRUE(cat_->sql().exec("UPDATE audit SET entry = replace(entry, 'alice', 'mallory') WHERE seq = 2").ok());
  auto r = fresh.verify().value();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.issues.size(), 2u) << r.message;
  EXPECT_EQ(r.issues[0].problem, AuditProblem::kChanged);
  EXPECT_EQ(r.issues[0].seq, 2);
  EXPECT_EQ(r.issues[1].problem, AuditProblem::kTruncated);
  EXPECT_NE(r.issues[1].message.find("entry 5-6 removed"), std::string::npos) << r.issues[1].message;
  // Without the head record the same deletion is still flagged; a forged one too.
  ASSERT_TRUE(cat_->sql().exec("DELETE FROM meta WHERE key = 'audit_head'").ok());
  EXPECT_EQ(fresh.verify()->issues.back().problem, AuditProblem::kTruncated);
  ASSERT_TRUE(cat_->set_meta("audit_head", signed_audit_head(crypto::random_key().value(), 4, crypto::Digest{})).ok());
  EXPECT_EQ(fresh.verify()->issues.back().problem, AuditProblem::kHead);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lv::hub
