#include "lightvault/eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lightvault/model/synth_for_tests.h"

namespace lv {
namespace {

Model small_model(uint64_t seed) {
  return synthesize_for_test(
      {.dim = 32, .hidden_dim = 48, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .vocab_size = 270, .seq_len = 32, .seed = seed});
}

std::vector<int> some_tokens(int n) {
  std::vector<int> t = {1};
  for (int i = 1; i < n; ++i) t.push_back(3 + (i * 37) % 260);
  return t;
}

// The definition written out plainly: each chunk alone, one token at a time.
double plain_perplexity(Transformer& t, const std::vector<int>& tokens, int ctx, double* accuracy) {
  const int vocab = t.config().vocab_size;
  double nll = 0.0;
  int64_t count = 0, correct = 0;
  for (size_t start = 0; start + ctx <= tokens.size(); start += ctx) {
    KvCache cache(t.config(), ctx);
    std::vector<KvCache*> caches = {&cache};
    std::vector<float> logits(vocab);
    for (int j = 0; j < ctx - 1; ++j) {
      int tok = j == 0 ? 1 : tokens[start + j];
      Batch b;
      b.add(0, &tok, 1, j);
      t.forward(b, caches, {0}, logits.data());
      if (j < ctx / 2) continue;
      double max = *std::max_element(logits.begin(), logits.end()), sum = 0.0;
      for (float l : logits) sum += std::exp(l - max);
      int target = tokens[start + j + 1];
      nll -= logits[target] - max - std::log(sum);
      correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == target;
      ++count;
    }
  }
  *accuracy = static_cast<double>(correct) / count;
  return std::exp(nll / count);
}

TEST(PerplexityTest, MatchesTheDefinition) {
  Model model = small_model(3);
  Transformer t(model);
  std::vector<int> tokens = some_tokens(16 * 5 + 7);  // a tail that must be dropped
  EvalOptions options;
  options.ctx = 16;
  options.chunks_per_batch = 2;
  auto r = evaluate(t, tokens, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  double accuracy = 0.0;
  double expected = plain_perplexity(t, tokens, 16, &accuracy);
  EXPECT_EQ(r->chunks, 5);
  EXPECT_EQ(r->scored, 5 * 7);
  EXPECT_NEAR(r->perplexity, expected, expected * 1e-5);
  EXPECT_NEAR(r->top1_accuracy, accuracy, 1e-9);
}

TEST(PerplexityTest, AgainstItselfAgreesFullyWithZeroDivergence) {
  Model model = small_model(3);
  Transformer t(model), ref(model);
  EvalOptions options;
  options.ctx = 16;
  auto r = evaluate(t, some_tokens(64), options, &ref);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->top1_agreement, 1.0);
  EXPECT_NEAR(r->mean_kl, 0.0, 1e-9);

  Model other = small_model(4);
  Transformer o(other);
  auto d = evaluate(o, some_tokens(64), options, &ref);
  ASSERT_TRUE(d.ok());
  EXPECT_GT(d->mean_kl, 0.0);
  EXPECT_LT(d->top1_agreement, 1.0);
}

TEST(PerplexityTest, RejectsContextLongerThanTheModels) {
  Model model = small_model(3);
  Transformer t(model);
  EvalOptions options;
  options.ctx = 64;
  auto r = evaluate(t, some_tokens(200), options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exceeds the model's context length 32"), std::string::npos);
}

}  // namespace
}  // namespace lv
