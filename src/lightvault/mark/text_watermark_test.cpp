#include "lightvault/mark/text_watermark.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

namespace lv::mark {
namespace {

const std::string kKey = "0123456789abcdef-test-key";

TEST(TextWatermarkTest, ZScoreMatchesAHandComputation) {
  // 40 green of 100 at gamma 0.25: (40 - 25) / sqrt(100 * 0.25 * 0.75) = 15 / 4.3301270 = 3.4641016.
  EXPECT_NEAR(watermark_z(40, 100, 0.25), 3.4641016, 1e-6);
  // 1 - Phi(3.4641016) = 2.6603e-4 (normal table).
  EXPECT_NEAR(watermark_p_value(3.4641016), 2.6603e-4, 1e-7);
  // 0 green of 16 at gamma 0.5: -8 / 2 = -4.
  EXPECT_DOUBLE_EQ(watermark_z(0, 16, 0.5), -4.0);
  EXPECT_DOUBLE_EQ(watermark_z(50, 200, 0.25), 0.0);
  EXPECT_DOUBLE_EQ(watermark_p_value(0.0), 0.5);
  EXPECT_DOUBLE_EQ(watermark_z(0, 0, 0.25), 0.0);
}

TEST(TextWatermarkTest, GreenFractionIsGamma) {
  for (double gamma : {0.25, 0.5}) {
    GreenList list(kKey, {.gamma = gamma});
    std::vector<uint8_t> green;
    const std::vector<int> context = {42};
    list.compute(context, 32000, &green);
    double fraction = 0;
    for (uint8_t g : green) fraction += g;
    fraction /= 32000;
    EXPECT_NEAR(fraction, gamma, 0.015) << gamma;  // 6 standard deviations
  }
}

TEST(TextWatermarkTest, OneTokenTestAgreesWithTheWholeList) {
  GreenList list(kKey, {.context = 2});
  std::vector<uint8_t> green;
  for (std::vector<int> context : {std::vector<int>{1, 2}, {7, 300}, {31999, 0}}) {
    list.compute(context, 1030, &green);
    for (int t = 0; t < 1030; ++t) ASSERT_EQ(list.is_green(context, t), green[t] != 0) << t;
  }
}

// Share of the vocabulary whose colour differs between two lists.
double disagreement(GreenList& a, std::vector<int> ca, GreenList& b, std::vector<int> cb) {
  std::vector<uint8_t> ga, gb;
  a.compute(ca, 4096, &ga);
  b.compute(cb, 4096, &gb);
  int differ = 0;
  for (int t = 0; t < 4096; ++t) differ += ga[t] != gb[t];
  return differ / 4096.0;
}

TEST(TextWatermarkTest, ListsDependOnTheKeyAndTheContextOnly) {
  GreenList a(kKey, {}), again(kKey, {}), other(kKey + "x", {});
  EXPECT_EQ(disagreement(a, {5}, again, {5}), 0.0);
  // Independent lists differ on 2 * gamma * (1 - gamma) = 37.5% of tokens.
  EXPECT_NEAR(disagreement(a, {5}, other, {5}), 0.375, 0.03);
  EXPECT_NEAR(disagreement(a, {5}, a, {6}), 0.375, 0.03);
  // Width 1 looks at the last token only; width 2 at the last two.
  EXPECT_EQ(disagreement(a, {9, 5}, again, {5}), 0.0);
  GreenList wide(kKey, {.context = 2}), wide2(kKey, {.context = 2});
  EXPECT_NEAR(disagreement(wide, {9, 5}, wide2, {8, 5}), 0.375, 0.03);
  EXPECT_NEAR(disagreement(wide, {5}, a, {5}), 0.375, 0.03) << "the width is part of the seed";
}

TEST(TextWatermarkTest, TextWithoutTheKeyScoresNearZero) {
  GreenList list(kKey, {});
  std::mt19937 rng(3);
  std::vector<int> tokens(3000);
  for (int& t : tokens) t = static_cast<int>(rng() % 32000);
  TextDetection d = detect_text_watermark(list, tokens, 0.25);
  EXPECT_EQ(d.tokens, 2999);
  EXPECT_LT(std::abs(d.z), 4.0);
  EXPECT_FALSE(d.found);
}

TEST(TextWatermarkTest, AllGreenTextScoresSqrtOfTokensTimesOdds) {
  GreenList list(kKey, {});
  std::vector<int> tokens = {17};
  std::vector<uint8_t> green;
  while (tokens.size() < 101) {
    list.compute(tokens, 512, &green);
    int pick = static_cast<int>(tokens.size() * 7 % 512);
    while (!green[pick]) pick = (pick + 1) % 512;
    tokens.push_back(pick);
  }
  TextDetection d = detect_text_watermark(list, tokens, 0.25);
  EXPECT_EQ(d.green, d.tokens);
  EXPECT_NEAR(d.z, std::sqrt(d.tokens * 0.75 / 0.25), 1e-9);
  EXPECT_TRUE(d.found);
  EXPECT_LT(d.p_value, 1e-10);
}

TEST(TextWatermarkTest, RepeatedPairsAreScoredOnce) {
  GreenList list(kKey, {});
  std::vector<int> tokens = {4, 9, 4, 9, 4, 9, 4};
  EXPECT_EQ(detect_text_watermark(list, tokens, 0.25).tokens, 2);  // (4,9) and (9,4)
  GreenList wide(kKey, {.context = 3});
  EXPECT_EQ(detect_text_watermark(wide, std::vector<int>{1, 2}, 0.25).tokens, 0);
  EXPECT_EQ(detect_text_watermark(wide, std::vector<int>{}, 0.25).z, 0.0);
}

TEST(TextWatermarkTest, BiasRaisesGreenLogitsByDelta) {
  TextWatermarker marker(kKey, {.delta = 2.0});
  GreenList list(kKey, {});
  std::vector<int> tokens = {1, 50, 60};
  std::vector<float> logits(300, 0.5f);
  marker.bias(tokens, logits.data(), 300);
  std::vector<uint8_t> green;
  list.compute(tokens, 300, &green);
  for (int t = 0; t < 300; ++t) ASSERT_FLOAT_EQ(logits[t], green[t] ? 2.5f : 0.5f) << t;
}

TEST(TextWatermarkTest, ParamsOutOfRangeNameTheirFlag) {
  EXPECT_TRUE(WatermarkParams{}.validate().ok());
  EXPECT_NE(WatermarkParams{.gamma = 1.0}.validate().error().message.find("--watermark-gamma"), std::string::npos);
  EXPECT_NE(WatermarkParams{.delta = -1}.validate().error().message.find("--watermark-delta"), std::string::npos);
  EXPECT_NE(WatermarkParams{.context = 0}.validate().error().message.find("--watermark-context"), std::string::npos);
}

TEST(TextWatermarkTest, KeyFilesThatCannotServeAreErrors) {
  namespace fs = std::filesystem;
  const std::string dir = testing::TempDir() + "/wmkey-" + std::to_string(getpid());
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  EXPECT_NE(load_watermark_key(dir + "/missing").error().message.find("missing: cannot open"), std::string::npos);
  EXPECT_NE(load_watermark_key(write("empty", "")).error().message.find("empty: watermark key file is empty"), std::string::npos);
  EXPECT_NE(load_watermark_key(write("short", "secret")).error().message.find("is 6 bytes; at least 16"), std::string::npos);
  EXPECT_FALSE(load_watermark_key(dir).ok()) << "a directory is not a key";
  auto key = load_watermark_key(write("good", kKey));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, kKey);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lv::mark
