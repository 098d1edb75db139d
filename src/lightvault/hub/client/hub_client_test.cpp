#include "lightvault/hub/client/hub_client.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

TEST(HubUri, NamesRepositoryRevisionAndPath) {
  auto plain = parse_hub_uri("hub://acme/data/train/part-1.csv");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->repo, "acme/data");
  EXPECT_EQ(plain->revision, "main");
  EXPECT_EQ(plain->path, "train/part-1.csv");

  auto pinned = parse_hub_uri("hub://acme/data@v2/x.npy");
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(pinned->repo, "acme/data");
  EXPECT_EQ(pinned->revision, "v2");
  EXPECT_EQ(pinned->path, "x.npy");
  EXPECT_TRUE(is_hub_uri("hub://a/b/c"));
  EXPECT_FALSE(is_hub_uri("data.csv"));
}

TEST(HubUri, RefusesWhatIsNotAFileInARepository) {
  for (const char* bad : {"hub://", "hub://acme", "hub://acme/data", "hub://acme/data/", "hub://acme/data@/x.csv",
                          "hub://ac me/data/x.csv", "hub://acme/data/../x.csv", "hub://acme/data/.git/config", "data.csv"}) {
    auto ref = parse_hub_uri(bad);
    ASSERT_FALSE(ref.ok()) << bad;
    EXPECT_EQ(ref.error().message.rfind(bad, 0), 0u) << ref.error().message;  // names the URI first
  }
}

}  // namespace
}  // namespace lv::hub
