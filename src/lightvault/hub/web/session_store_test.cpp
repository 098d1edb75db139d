// Browser sessions in the catalog, on every backend (SQLite; PostgreSQL when Debian's server is
// installed): random ids kept only as hashes, expiry with the ttl and the token, revocation,
// CSRF tokens, and two stores on two connections to one catalog sharing every session, as two
// replicas do.
#include "lightvault/hub/web/session_store.h"

#include <gtest/gtest.h>

#include "lightvault/hub/access/tokens.h"
#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/storage/blob_store_testutil.h"
#include "lightvault/hub/storage/crypto.h"

namespace lv::hub::web {
namespace {

class WebSessionStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      auto& pg = hub::testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL session tests skipped: " << pg.reason();
      url_ = pg.new_database_url();
      ASSERT_FALSE(url_.empty());
    }
    catalog_ = open_catalog();
    ASSERT_TRUE(catalog_);
    auto u = catalog_->create_user("alice");
    ASSERT_TRUE(u.ok()) << u.error().message;
    alice_ = *u;
  }
  // Another connection to the same catalog (the same database file or PostgreSQL database).
  std::unique_ptr<Catalog> open_catalog() {
    auto c = Catalog::open(dir_.path(), url_);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }
  // alice's principal with a token stored in the catalog, ending at `token_expires` (0: never).
  Principal alice(const std::string& token_id, int64_t token_expires = 0) {
    Token t;
    t.id = token_id;
    t.user_id = alice_.id;
    t.user = alice_.name;
    t.name = token_id;
    t.hash = crypto::random_hex(32);
    t.scopes = kScopeRead;
    t.expires_at = token_expires;
    EXPECT_TRUE(catalog_->create_token(t).ok());
    Principal p;
    p.user = alice_;
    p.token = t;
    p.scopes = t.scopes;
    return p;
  }
  static Session started(Result<Session> s) {
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : Session{};
  }
  static bool live(SessionStore& store, const std::string& id) {
    auto found = store.find(id);
    EXPECT_TRUE(found.ok()) << found.error().message;
    return found.ok() && found->has_value();
  }

  hub::testing::TempDir dir_;
  std::string url_;
  std::unique_ptr<Catalog> catalog_;
  User alice_;
};

TEST_P(WebSessionStore, IdsAndCsrfTokensAreLongRandomAndDistinctAndOnlyHashesAreStored) {
  SessionStore store(*catalog_, 3600);
  Principal p = alice("tok_a");
  Session a = started(store.start(p)), b = started(store.start(p));
  EXPECT_EQ(a.id.size(), 64u);
  EXPECT_EQ(a.csrf.size(), 64u);
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.csrf, b.csrf);
  EXPECT_NE(a.id, a.csrf);
  auto found = store.find(a.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->who.name(), "alice");
  EXPECT_EQ((*found)->who.token->id, "tok_a");
  EXPECT_EQ((*found)->who.scopes, kScopeRead);
  EXPECT_EQ((*found)->csrf, a.csrf);
  EXPECT_FALSE(live(store, "not-a-session"));
  EXPECT_FALSE(live(store, ""));

  // The catalog holds the id's hash, never the id: a copy of it signs nobody in.
  auto rows = catalog_->sql().exec("SELECT id_hash, token_id FROM web_sessions ORDER BY id_hash");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), 2u);
  for (auto& row : rows->rows) {
    EXPECT_TRUE(*row[0] == crypto::sha256_hex(a.id) || *row[0] == crypto::sha256_hex(b.id)) << *row[0];
    EXPECT_EQ(*row[1], "tok_a");
    EXPECT_FALSE(live(store, *row[0]));
  }
}

TEST_P(WebSessionStore, ExpiresAfterTtlAndWithItsToken) {
  int64_t now = 1000;
  SessionStore store(*catalog_, 600, [&] { return now; });
  Session s = started(store.start(alice("tok_a")));
  Session short_lived = started(store.start(alice("tok_b", 1100)));  // the token ends before the ttl
  EXPECT_EQ(s.expires_at, 1600);
  EXPECT_EQ(short_lived.expires_at, 1100);
  now = 1099;
  EXPECT_TRUE(live(store, s.id));
  EXPECT_TRUE(live(store, short_lived.id));
  now = 1100;
  EXPECT_FALSE(live(store, short_lived.id));
  now = 1600;
  EXPECT_FALSE(live(store, s.id));
  // Both were pruned from the catalog by then (at most a minute after they ended).
  auto n = store.size();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_P(WebSessionStore, EndingATokenEndsOnlyItsSessions) {
  SessionStore store(*catalog_, 3600);
  Principal a = alice("tok_a"), b = alice("tok_b");
  Session a1 = started(store.start(a)), a2 = started(store.start(a)), b1 = started(store.start(b));
  auto ended = store.end_sessions_of_token("tok_a");
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, 2u);
  EXPECT_FALSE(live(store, a1.id));
  EXPECT_FALSE(live(store, a2.id));
  EXPECT_TRUE(live(store, b1.id));
  ASSERT_TRUE(store.end(b1.id).ok());
  EXPECT_FALSE(live(store, b1.id));
  EXPECT_TRUE(store.end(b1.id).ok());  // twice is no error
}

TEST_P(WebSessionStore, ARevokedTokensSessionsAreNotFoundAndArePruned) {
  int64_t now = now_unix();
  SessionStore store(*catalog_, 3600, [&] { return now; });
  Session s = started(store.start(alice("tok_a")));
  ASSERT_TRUE(catalog_->revoke_token("tok_a").ok());  // as if revoked through another replica's API
  EXPECT_FALSE(live(store, s.id));
  now += 61;  // the next prune
  EXPECT_FALSE(live(store, s.id));
  auto n = store.size();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(store.start(Principal{}).ok());  // nobody signed in: no session
}

TEST_P(WebSessionStore, CsrfMatchesOnlyTheSessionsOwnToken) {
  SessionStore store(*catalog_, 3600);
  Principal p = alice("tok_a");
  Session a = started(store.start(p)), b = started(store.start(p));
  EXPECT_TRUE(SessionStore::csrf_matches(a, a.csrf));
  EXPECT_FALSE(SessionStore::csrf_matches(a, b.csrf));
  EXPECT_FALSE(SessionStore::csrf_matches(a, ""));
  EXPECT_FALSE(SessionStore::csrf_matches(a, a.csrf.substr(1)));
}

// Two replicas: each has its own connection to the one catalog.
TEST_P(WebSessionStore, StoresOnOneCatalogShareEverySession) {
  auto other_catalog = open_catalog();
  ASSERT_TRUE(other_catalog);
  SessionStore here(*catalog_, 3600), there(*other_catalog, 3600);
  Session s = started(here.start(alice("tok_a")));
  auto found = there.find(s.id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->csrf, s.csrf);
  EXPECT_TRUE(SessionStore::csrf_matches(**found, s.csrf));
  ASSERT_TRUE(there.end(s.id).ok());  // signed out through the other replica
  EXPECT_FALSE(live(here, s.id));
}

INSTANTIATE_TEST_SUITE_P(Backends, WebSessionStore, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub::web
