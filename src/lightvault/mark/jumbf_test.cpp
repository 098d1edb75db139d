#include "lightvault/mark/jumbf.h"

#include <gtest/gtest.h>

namespace lv::mark {
namespace {

TEST(Jumbf, BuildsAndParsesNestedSuperboxes) {
  const std::string inner = jumbf_superbox(c2pa_jumbf_uuid("cbor"), "c2pa.actions", jumbf_box("cbor", "\xa0"));
  const std::string outer = jumbf_superbox(c2pa_jumbf_uuid("c2as"), "c2pa.assertions", inner);
  auto box = parse_jumbf(outer, "store");
  ASSERT_TRUE(box.ok()) << box.error().message;
  EXPECT_TRUE(box->is_superbox());
  EXPECT_EQ(box->label, "c2pa.assertions");
  EXPECT_EQ(box->uuid, c2pa_jumbf_uuid("c2as"));
  EXPECT_EQ(box->uuid.size(), 16u);
  EXPECT_EQ(box->box.size(), outer.size());
  ASSERT_EQ(box->children.size(), 1u);
  const JumbfBox* actions = box->child("c2pa.actions");
  ASSERT_NE(actions, nullptr);
  EXPECT_EQ(actions->payload, std::string_view(inner).substr(8));  // what C2PA hashes
  ASSERT_EQ(actions->children.size(), 1u);
  EXPECT_EQ(actions->children[0].type, "cbor");
  EXPECT_EQ(actions->children[0].payload, "\xa0");
  EXPECT_EQ(box->child("absent"), nullptr);
}

TEST(Jumbf, UuidHasC2paTail) {
  const std::string uuid = c2pa_jumbf_uuid("c2pa");
  EXPECT_EQ(uuid, std::string("c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71", 16));
}

TEST(Jumbf, ReadsAnXLBoxSize) {
  std::string box("\x00\x00\x00\x01json\x00\x00\x00\x00\x00\x00\x00\x12{}", 18);
  auto parsed = parse_jumbf(box, "t");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->payload, "{}");
}

TEST(Jumbf, RejectsBoxesThatDoNotFit) {
  const std::string good = jumbf_superbox(c2pa_jumbf_uuid("c2pa"), "c2pa", jumbf_box("cbor", "\xa0"));
  const std::string cases[] = {
      good.substr(0, good.size() - 1),                // truncated
      good + "x",                                     // trailing byte
      std::string("\x00\x00\x00\x04jumb", 8),         // size below its header
      std::string("\xff\xff\xff\xf0jumb", 8),         // size over the input
      jumbf_box("jumb", jumbf_box("cbor", "")),       // superbox without a description
      jumbf_box("jumb", jumbf_box("jumd", "short")),  // description under 17 bytes
      jumbf_box("jumb", jumbf_box("jumd", c2pa_jumbf_uuid("c2pa") + "\x03no-nul")),
  };
  for (const auto& bytes : cases) {
    auto r = parse_jumbf(bytes, "store");
    ASSERT_FALSE(r.ok()) << bytes.size();
    EXPECT_NE(r.error().message.find("offset"), std::string::npos) << r.error().message;
  }
}

TEST(Jumbf, RefusesNestingDeeperThanTheLimit) {
  std::string box = jumbf_box("cbor", "");
  for (int i = 0; i <= kMaxJumbfDepth + 1; ++i) box = jumbf_superbox(c2pa_jumbf_uuid("c2pa"), "d", box);
  auto r = parse_jumbf(box, "t");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos);
}

}  // namespace
}  // namespace lv::mark
