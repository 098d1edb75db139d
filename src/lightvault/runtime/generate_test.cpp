#include "lightvault/runtime/generate.h"

#include <gtest/gtest.h>

#include "lightvault/model/synth_for_tests.h"

namespace lv {
namespace {

std::vector<int> generated(Transformer& t, const GenerateOptions& options) {
  std::vector<int> out;
  auto stats = generate(t, {1, 40, 41}, options, [&](int, int next) { out.push_back(next); });
  EXPECT_TRUE(stats.ok());
  return out;
}

TEST(GenerateTest, LogitsProcessorSeesEveryTokenAndItsChangesCount) {
  Model model = synthesize_for_test({.dim = 32, .hidden_dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .vocab_size = 300, .seq_len = 64});
  Transformer t(model);
  for (float temperature : {0.0f, 0.8f}) {
    GenerateOptions plain{.steps = 24, .temperature = temperature, .seed = 5};
    std::vector<int> expected = generated(t, plain);

    GenerateOptions observed = plain;
    std::vector<std::vector<int>> histories;
    observed.logits_processor = [&](std::span<const int> tokens, float*, int n) {
      EXPECT_EQ(n, 300);
      histories.emplace_back(tokens.begin(), tokens.end());
    };
    EXPECT_EQ(generated(t, observed), expected) << "a processor that changes nothing changes nothing";
    ASSERT_EQ(histories.size(), expected.size() - 2);
    std::vector<int> so_far = {1, 40, 41};
    for (size_t i = 0; i < histories.size(); ++i) {
      EXPECT_EQ(histories[i], so_far) << i;
      so_far.push_back(expected[2 + i]);
    }

    GenerateOptions forced = plain;
    forced.logits_processor = [](std::span<const int>, float* logits, int) { logits[77] += 1000.0f; };
    std::vector<int> out = generated(t, forced);
    for (size_t i = 2; i < out.size(); ++i) EXPECT_EQ(out[i], 77) << i;
  }
}

}  // namespace
}  // namespace lv
