#include "lightvault/runtime/transformer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "lightvault/model/synth_for_tests.h"

namespace lv {
namespace {

Model test_model(int heads, int kv_heads) {
  return synthesize_for_test(
      {.dim = 64, .hidden_dim = 96, .n_layers = 3, .n_heads = heads, .n_kv_heads = kv_heads, .vocab_size = 300, .seq_len = 64});
}

// Logits of every position of `tokens`, fed one token at a time.
std::vector<float> sequential_logits(Transformer& t, const std::vector<int>& tokens) {
  KvCache cache(t.config(), static_cast<int>(tokens.size()));
  std::vector<KvCache*> caches = {&cache};
  const int vocab = t.config().vocab_size;
  std::vector<float> out(tokens.size() * vocab);
  for (size_t p = 0; p < tokens.size(); ++p) {
    Batch b;
    b.add(0, &tokens[p], 1, static_cast<int>(p));
    t.forward(b, caches, {0}, &out[p * vocab]);
  }
  return out;
}

void expect_near_all(const float* a, const float* b, size_t n, float tol) {
  for (size_t i = 0; i < n; ++i) ASSERT_NEAR(a[i], b[i], tol) << "at " << i;
}

TEST(TransformerTest, RaggedBatchEqualsOneSequenceAtATime) {
  Model model = test_model(8, 2);
  Transformer t(model);
  std::vector<std::vector<int>> seqs = {{1, 10, 20, 30, 40, 50, 60}, {1, 7}, {1, 99, 98, 97, 96}};
  Batch batch;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<KvCache*> ptrs;
  std::vector<int> rows;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (size_t i = 0; i < seqs[s].size(); ++i) rows.push_back(batch.size() + static_cast<int>(i));
    batch.add(static_cast<int>(s), seqs[s].data(), static_cast<int>(seqs[s].size()), 0);
    caches.push_back(std::make_unique<KvCache>(model.config, 16));
    ptrs.push_back(caches.back().get());
  }
  const int vocab = model.config.vocab_size;
  std::vector<float> batched(rows.size() * vocab);
  t.forward(batch, ptrs, rows, batched.data());
  size_t offset = 0;
  for (const auto& seq : seqs) {
    std::vector<float> expected = sequential_logits(t, seq);
    expect_near_all(&batched[offset * vocab], expected.data(), expected.size(), 1e-4f);
    offset += seq.size();
  }
}

TEST(TransformerTest, MaskedHeadEqualsZeroedOutputColumns) {
  Model model = test_model(4, 4);
  const int layer = 1, head = 2, hd = model.config.head_dim;
  std::vector<int> tokens = {1, 5, 9, 200, 33, 7};

  Transformer masked(model);
  std::vector<std::vector<float>> mask(model.config.n_layers(), std::vector<float>(4, 1.0f));
  mask[layer][head] = 0.0f;
  masked.set_head_mask(mask);
  std::vector<float> a = sequential_logits(masked, tokens);

  // The same model with that head's columns of Wo set to zero.
  Model zeroed = model;
  Tensor wo = Tensor::from_f32(model.layers[layer].wo.rows, model.layers[layer].wo.cols, model.layers[layer].wo.f32());
  for (int64_t r = 0; r < wo.rows; ++r) {
    for (int d = 0; d < hd; ++d) wo.mutable_f32()[r * wo.cols + head * hd + d] = 0.0f;
  }
  zeroed.layers[layer].wo = wo;
  Transformer plain(zeroed);
  std::vector<float> b = sequential_logits(plain, tokens);
  expect_near_all(a.data(), b.data(), a.size(), 1e-5f);

  Transformer unmasked(model);
  std::vector<float> c = sequential_logits(unmasked, tokens);
  float diff = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::fabs(a[i] - c[i]));
  EXPECT_GT(diff, 1e-3f) << "masking a head must change the output";
}

TEST(TransformerTest, LayerWithoutHeadsRunsOnlyItsFeedForward) {
  Model model = test_model(4, 2);
  model.config.layers[1] = LayerShape{0, 0};
  model.layers[1].wq = model.layers[1].wk = model.layers[1].wv = model.layers[1].wo = Tensor{};
  ASSERT_TRUE(model.validate().ok()) << model.validate().error().message;
  Transformer t(model);
  std::vector<float> logits = sequential_logits(t, {1, 2, 3});
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace lv
