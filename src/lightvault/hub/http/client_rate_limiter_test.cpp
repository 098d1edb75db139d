#include "lightvault/hub/http/client_rate_limiter.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

TEST(ClientRateLimiter, BurstThenOnePerRefillPeriod) {
  ClientRateLimiter limiter(3, 60);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.admit("10.0.0.1", 1000), 0) << i;
  EXPECT_EQ(limiter.admit("10.0.0.1", 1000), 60);  // empty: a whole period until the next
  EXPECT_EQ(limiter.admit("10.0.0.1", 1030), 30);  // half refilled
  EXPECT_EQ(limiter.admit("10.0.0.1", 1060), 0);   // one token back
  EXPECT_GT(limiter.admit("10.0.0.1", 1060), 0);
  EXPECT_EQ(limiter.admit("10.0.0.2", 1060), 0);  // other addresses have their own bucket
}

TEST(ClientRateLimiter, RefillStopsAtTheBurst) {
  ClientRateLimiter limiter(2, 10);
  EXPECT_EQ(limiter.admit("a", 0), 0);
  // A day idle gives back the burst, not a day's worth of requests.
  for (int i = 0; i < 2; ++i) EXPECT_EQ(limiter.admit("a", 86400), 0) << i;
  EXPECT_GT(limiter.admit("a", 86400), 0);
}

TEST(ClientRateLimiter, TableStaysBoundedAndForgetsRefilledClients) {
  ClientRateLimiter limiter(1, 10, 2);
  EXPECT_EQ(limiter.admit("a", 0), 0);
  EXPECT_EQ(limiter.admit("b", 0), 0);
  // Full of clients that are still limited: a newcomer waits rather than growing the table.
  EXPECT_EQ(limiter.admit("c", 5), 10);
  EXPECT_EQ(limiter.clients(), 2u);
  // Once their buckets refilled they are forgotten and the newcomer gets in.
  EXPECT_EQ(limiter.admit("c", 20), 0);
  EXPECT_LE(limiter.clients(), 2u);
}

}  // namespace
}  // namespace lv::hub
