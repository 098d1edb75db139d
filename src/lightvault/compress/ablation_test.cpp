#include "lightvault/compress/ablation.h"

#include <gtest/gtest.h>

#include "lightvault/model/synth_for_tests.h"

namespace lv {
namespace {

Model test_model() {
  return synthesize_for_test(
      {.dim = 32, .hidden_dim = 48, .n_layers = 3, .n_heads = 4, .n_kv_heads = 2, .vocab_size = 270, .seq_len = 32});
}

Calibration calibration() {
  std::vector<int> tokens = {1};
  for (int i = 1; i < 64; ++i) tokens.push_back(3 + (i * 37) % 260);
  return Calibration::from_tokens(tokens, 16, 4, 1);
}

// The MSE of centered logits against the unmasked model's, from two plain forward passes.
double centered_mse(const Model& m, const Calibration& cal, const std::vector<std::vector<float>>& mask) {
  Transformer open(m), masked(m);
  masked.set_head_mask(mask);
  const std::vector<float> a = calibration_logits(open, cal), b = calibration_logits(masked, cal);
  const int vocab = m.config.vocab_size;
  double se = 0.0;
  for (size_t row = 0; row < a.size() / static_cast<size_t>(vocab); ++row) {
    double mean = 0.0;
    for (int v = 0; v < vocab; ++v) mean += b[row * vocab + v] - a[row * vocab + v];
    mean /= vocab;
    for (int v = 0; v < vocab; ++v) {
      const double d = b[row * vocab + v] - a[row * vocab + v] - mean;
      se += d * d;
    }
  }
  return se / static_cast<double>(a.size());
}

// damage() equals the centered-logit MSE of two plain forward passes, over a base mask too:
// the layer inputs it reuses from the base pass change nothing.
TEST(AblatorTest, DamageEqualsTwoPlainForwardPasses) {
  const Model m = test_model();
  const Calibration cal = calibration();
  Ablator ablator(m, cal, /*on_hidden=*/false);
  std::vector<std::vector<float>> base(3, std::vector<float>(4, 1.0f));
  const std::vector<std::pair<int, std::vector<int>>> tries = {{2, {1}}, {0, {0}}, {1, {0, 1}}, {2, {2, 3}}};
  for (bool with_base : {false, true}) {
    if (with_base) {
      base[0][3] = 0.0f;
      ablator.set_base(base);
    }
    for (const auto& [layer, heads] : tries) {
      auto mask = base;
      for (int h : heads) mask[layer][h] = 0.0f;
      const double expected = centered_mse(m, cal, mask);
      EXPECT_GT(expected, 0.0);
      EXPECT_NEAR(ablator.damage(layer, heads), expected, 1e-6 * expected) << "layer " << layer << (with_base ? ", base" : "");
    }
  }
}

}  // namespace
}  // namespace lv
