#include "lightvault/mark/cbor.h"

#include <gtest/gtest.h>

namespace lv::mark::cbor {
namespace {

TEST(Cbor, EncodesRfc8949AppendixAExamples) {
  EXPECT_EQ(encode(Value::integer(0)), std::string("\x00", 1));
  EXPECT_EQ(encode(Value::integer(23)), "\x17");
  EXPECT_EQ(encode(Value::integer(24)), "\x18\x18");
  EXPECT_EQ(encode(Value::integer(1000)), "\x19\x03\xe8");
  EXPECT_EQ(encode(Value::integer(-1)), "\x20");
  EXPECT_EQ(encode(Value::integer(-1000)), "\x39\x03\xe7");
  EXPECT_EQ(encode(Value::text("IETF")), "\x64IETF");
  EXPECT_EQ(encode(Value::bytes(std::string("\x01\x02\x03\x04", 4))), "\x44\x01\x02\x03\x04");
  EXPECT_EQ(encode(Value::array({Value::integer(1), Value::array({Value::integer(2), Value::integer(3)})})),
            "\x82\x01\x82\x02\x03");
  EXPECT_EQ(encode(Value::map({{Value::integer(1), Value::integer(2)}, {Value::integer(3), Value::integer(4)}})),
            "\xa2\x01\x02\x03\x04");
  EXPECT_EQ(encode(Value::tagged(18, Value::null())), "\xd2\xf6");
}

TEST(Cbor, RoundTripsWhatCoseAndClaimsUse) {
  Value v = Value::tagged(18, Value::array({Value::bytes(std::string(300, 'x')),
                                            Value::map({{Value::integer(1), Value::integer(-7)},
                                                        {Value::text("pad"), Value::bytes("")}}),
                                            Value::null(), Value::text("Signature1")}));
  const std::string bytes = encode(v);
  auto back = decode(bytes, "test");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode(*back), bytes);
  ASSERT_EQ(back->type, Value::Type::Tag);
  EXPECT_EQ(back->number, 18u);
  const Value& headers = back->items[0].items[1];
  int64_t alg = 0;
  ASSERT_NE(headers.find(1), nullptr);
  ASSERT_TRUE(headers.find(1)->as_int64(&alg));
  EXPECT_EQ(alg, -7);
  EXPECT_NE(headers.find("pad"), nullptr);
  EXPECT_EQ(headers.find("absent"), nullptr);
}

TEST(Cbor, DecodesFloatsOfEveryWidth) {
  auto half = decode(std::string("\xf9\x3c\x00", 3), "t");  // 1.0
  auto single = decode(std::string("\xfa\x47\xc3\x50\x00", 5), "t");  // 100000.0
  auto dbl = decode(std::string("\xfb\x3f\xf1\x99\x99\x99\x99\x99\x9a", 9), "t");  // 1.1
  ASSERT_TRUE(half.ok() && single.ok() && dbl.ok());
  EXPECT_DOUBLE_EQ(half->real, 1.0);
  EXPECT_DOUBLE_EQ(single->real, 100000.0);
  EXPECT_DOUBLE_EQ(dbl->real, 1.1);
}

TEST(Cbor, RejectsMalformedInputWithItsOffset) {
  struct Case {
    std::string bytes;
    std::string message;
  };
  const Case cases[] = {
      {"", "truncated"},
      {"\x19\x03", "truncated"},
      {"\x45\x01\x02", "runs past the end"},
      {"\x9a\xff\xff\xff\xff", "runs past the end"},  // 4 billion items in 5 bytes
      {std::string("\xbb\x00\x00\x00\x01\x00\x00\x00\x00", 9), "runs past the end"},
      {"\x9f\x01\xff", "indefinite-length"},
      {"\x1c", "reserved"},
      {"\xf8\x20", "simple value"},
      {"\x01\x02", "trailing bytes"},
  };
  for (const auto& c : cases) {
    auto r = decode(c.bytes, "claim");
    ASSERT_FALSE(r.ok()) << "accepted " << c.bytes.size() << " bytes";
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("claim: ", 0), 0u) << r.error().message;
  }
}

TEST(Cbor, RefusesNestingDeeperThanTheLimit) {
  std::string deep(kMaxCborDepth + 2, '\x81');
  deep.push_back('\x00');
  auto r = decode(deep, "t");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper"), std::string::npos);
  std::string ok(kMaxCborDepth, '\x81');
  ok.push_back('\x00');
  EXPECT_TRUE(decode(ok, "t").ok());
}

}  // namespace
}  // namespace lv::mark::cbor
