#include "lightvault/hub/web/session_store.h"

#include <gtest/gtest.h>

namespace lv::hub::web {
namespace {

Principal alice(const std::string& token_id, int64_t token_expires = 0) {
  Principal p;
  p.user = User{7, "alice", false, 0};
  Token t;
  t.id = token_id;
  t.expires_at = token_expires;
  p.token = t;
  p.scopes = kScopeRead;
  return p;
}

TEST(WebSessionStore, IdsAndCsrfTokensAreLongRandomAndDistinct) {
  SessionStore store(3600);
  Session a = store.start(alice("tok_a")), b = store.start(alice("tok_a"));
  EXPECT_EQ(a.id.size(), 64u);
  EXPECT_EQ(a.csrf.size(), 64u);
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.csrf, b.csrf);
  EXPECT_NE(a.id, a.csrf);
  ASSERT_TRUE(store.find(a.id));
  EXPECT_EQ(store.find(a.id)->who.name(), "alice");
  EXPECT_FALSE(store.find("not-a-session"));
  EXPECT_FALSE(store.find(""));
}

TEST(WebSessionStore, ExpiresAfterTtlAndWithItsToken) {
  int64_t now = 1000;
  SessionStore store(600, [&] { return now; });
  Session s = store.start(alice("tok_a"));
  Session short_lived = store.start(alice("tok_b", 1100));  // the token ends before the ttl
  EXPECT_EQ(s.expires_at, 1600);
  EXPECT_EQ(short_lived.expires_at, 1100);
  now = 1099;
  EXPECT_TRUE(store.find(s.id));
  EXPECT_TRUE(store.find(short_lived.id));
  now = 1100;
  EXPECT_FALSE(store.find(short_lived.id));
  now = 1600;
  EXPECT_FALSE(store.find(s.id));
  EXPECT_EQ(store.size(), 0u);
}

TEST(WebSessionStore, EndingATokenEndsOnlyItsSessions) {
  SessionStore store(3600);
  Session a1 = store.start(alice("tok_a")), a2 = store.start(alice("tok_a")), b = store.start(alice("tok_b"));
  EXPECT_EQ(store.end_sessions_of_token("tok_a"), 2u);
  EXPECT_FALSE(store.find(a1.id));
  EXPECT_FALSE(store.find(a2.id));
  EXPECT_TRUE(store.find(b.id));
  store.end(b.id);
  EXPECT_FALSE(store.find(b.id));
}

TEST(WebSessionStore, CsrfMatchesOnlyTheSessionsOwnToken) {
  SessionStore store(3600);
  Session a = store.start(alice("tok_a")), b = store.start(alice("tok_a"));
  EXPECT_TRUE(SessionStore::csrf_matches(a, a.csrf));
  EXPECT_FALSE(SessionStore::csrf_matches(a, b.csrf));
  EXPECT_FALSE(SessionStore::csrf_matches(a, ""));
  EXPECT_FALSE(SessionStore::csrf_matches(a, a.csrf.substr(1)));
}

}  // namespace
}  // namespace lv::hub::web
