#include "lightvault/compress/head_importance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "lightvault/model/synth_for_tests.h"
#include "lightvault/runtime/backward.h"

namespace lv {
namespace {

Model test_model() {
  return synthesize_for_test(
      {.dim = 32, .hidden_dim = 48, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .vocab_size = 270, .seq_len = 32});
}

Tensor filled(int64_t rows, int64_t cols, float v) {
  Tensor t = Tensor::zeros_f32(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) t.mutable_f32()[i] = v;
  return t;
}

// Zeroes head h's columns of Wo in `layer`: the head then contributes nothing.
void silence_head(Model& m, int layer, int h) {
  const Tensor& wo = m.layers[layer].wo;
  Tensor copy = Tensor::from_f32(wo.rows, wo.cols, wo.f32());
  const int hd = m.config.head_dim;
  for (int64_t r = 0; r < copy.rows; ++r) {
    for (int d = 0; d < hd; ++d) copy.mutable_f32()[r * copy.cols + h * hd + d] = 0.0f;
  }
  m.layers[layer].wo = copy;
}

Calibration calibration() {
  std::vector<int> tokens = {1};
  for (int i = 1; i < 64; ++i) tokens.push_back(3 + (i * 31) % 260);
  return Calibration::from_tokens(tokens, 16, 4, 1);
}

TEST(HeadImportanceTest, MagnitudeSumsTheHeadsWeightsAndSharesKeyValue) {
  Model m = test_model();
  const int dim = m.config.dim, hd = m.config.head_dim;  // 32, 8
  auto& w = m.layers[0];
  w.wq = filled(4 * hd, dim, 1.0f);
  w.wk = filled(2 * hd, dim, -2.0f);
  w.wv = filled(2 * hd, dim, 3.0f);
  w.wo = filled(dim, 4 * hd, 0.5f);
  HeadScores s = score_heads(ImportanceMethod::Magnitude, m, Calibration{}, {});
  const double expected = hd * dim * 1.0 + dim * hd * 0.5 + (hd * dim * 2.0 + hd * dim * 3.0) / 2;
  for (int h = 0; h < 4; ++h) EXPECT_DOUBLE_EQ(s.raw[0][h], expected);
  for (int h = 0; h < 4; ++h) EXPECT_DOUBLE_EQ(s.normalized[0][h], 1.0);
}

TEST(HeadImportanceTest, SilentHeadScoresZeroByAblationAndActivation) {
  Model m = test_model();
  silence_head(m, 1, 2);
  for (auto method : {ImportanceMethod::Ablation, ImportanceMethod::Activation, ImportanceMethod::Gradient}) {
    HeadScores s = score_heads(method, m, calibration(), {});
    EXPECT_NEAR(s.raw[1][2], 0.0, 1e-12) << importance_name(method);
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 4; ++h) {
        if (l == 1 && h == 2) continue;
        EXPECT_GT(s.raw[l][h], 1e-9) << importance_name(method) << " layer " << l << " head " << h;
      }
    }
    EXPECT_DOUBLE_EQ(s.normalized[1][2], 0.0);
  }
  ImportanceOptions hidden;
  hidden.ablation_on_hidden = true;
  HeadScores h = score_heads(ImportanceMethod::Ablation, m, calibration(), hidden);
  EXPECT_NEAR(h.raw[1][2], 0.0, 1e-12);
  EXPECT_GT(h.raw[0][0], 0.0);
}

TEST(HeadImportanceTest, RankAgreementIsSpearmansWithTiedRanksShared) {
  EXPECT_DOUBLE_EQ(rank_agreement({{1, 2}, {3, 4}}, {{10, 20}, {35, 40}}), 1.0);
  EXPECT_DOUBLE_EQ(rank_agreement({{1, 2, 3, 4}}, {{4, 3, 2, 1}}), -1.0);
  // Ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3): 4.5 / sqrt(4.5 * 5).
  EXPECT_NEAR(rank_agreement({{1, 2, 2, 5}}, {{1, 2, 3, 4}}), 4.5 / std::sqrt(4.5 * 5.0), 1e-12);
}

TEST(HeadImportanceTest, GradientEstimatesAreAllKeptAndRawIsTheChosenOne) {
  Model m = test_model();
  ImportanceOptions o;
  o.gradient_estimate = GradientEstimate::ChunkAbs;
  o.all_estimates = true;
  HeadScores s = score_heads(ImportanceMethod::Gradient, m, calibration(), o);
  ASSERT_EQ(s.estimates.size(), 7u);
  EXPECT_EQ(s.raw, s.estimates.at("chunk-abs"));
  // |mean| <= mean |.| (Jensen), per head.
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) EXPECT_LE(s.estimates.at("taylor")[l][h], s.estimates.at("chunk-abs")[l][h] + 1e-12);
  }
}

// The projection estimate samples E_r[(dL/dg)²] = Σ_rows ‖P ∂logits/∂g‖² (P centers each row), the
// first-order squared change of the centered logits that ablation measures. Here ∂logits/∂g
// comes from central differences of each gate instead, and many probes bring the sample near
// its expectation (relative standard error at most sqrt(2/256) ≈ 0.09).
TEST(HeadImportanceTest, ProjectionEstimateApproachesTheSquaredLogitChangeByFiniteDifferences) {
  Model m = test_model();
  std::vector<int> tokens = {1};
  for (int i = 1; i < 16; ++i) tokens.push_back(3 + (i * 31) % 260);
  const Calibration cal = Calibration::from_tokens(tokens, 16, 1, 1);  // one chunk keeps 256 probes quick
  ImportanceOptions o;
  o.gradient_estimate = GradientEstimate::Projection;
  o.projection_probes = 256;
  HeadScores s = score_heads(ImportanceMethod::Gradient, m, cal, o);
  const int vocab = m.config.vocab_size;
  const float eps = 1e-2f;
  Transformer t(m);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      std::vector<std::vector<float>> gates(2, std::vector<float>(4, 1.0f));
      gates[l][h] = 1.0f + eps;
      t.set_head_mask(gates);
      const std::vector<float> up = calibration_logits(t, cal);
      gates[l][h] = 1.0f - eps;
      t.set_head_mask(gates);
      const std::vector<float> down = calibration_logits(t, cal);
      double squared = 0.0;
      for (size_t row = 0; row < up.size() / static_cast<size_t>(vocab); ++row) {
        double mean = 0.0;
        for (int v = 0; v < vocab; ++v) mean += up[row * vocab + v] - down[row * vocab + v];
        mean /= vocab;
        for (int v = 0; v < vocab; ++v) {
          const double d = (up[row * vocab + v] - down[row * vocab + v] - mean) / (2.0 * eps);
          squared += d * d;
        }
      }
      const double expected = squared / static_cast<double>(cal.chunks.size());
      ASSERT_GT(expected, 0.0);
      EXPECT_NEAR(s.raw[l][h], expected, 0.3 * expected) << "layer " << l << " head " << h;
    }
  }
}

// Each round removes the group cheapest to close, the cost estimated with the removed groups'
// gates closed and measured from the unpruned model's logits: per calibration chunk and probe,
// the square of the group's heads' terms summed per position (Gauss-Newton), minus twice the
// group's gradient of the distance from those logits (zero in the first round).
TEST(HeadImportanceTest, GradientRoundsRemoveTheGroupCheapestToCloseFromTheUnprunedLogits) {
  const Calibration cal = calibration();
  const Model m = test_model();
  ImportanceOptions o;
  o.gradient_rounds = 4;  // one of the four groups per round
  HeadScores s = score_heads(ImportanceMethod::Gradient, m, cal, o);
  ASSERT_EQ(s.removal_order.size(), 4u);
  Transformer t(m);
  std::vector<std::vector<float>> references;
  for (const auto& chunk : cal.chunks) references.push_back(sequence_logits(t, chunk));
  std::vector<std::vector<float>> gates(2, std::vector<float>(4, 1.0f));
  std::vector<HeadGroup> left = all_groups(m.config);
  for (size_t k = 0; k < 3; ++k) {
    t.set_head_mask(gates);
    for (HeadGroup& g : left) g.score = 0.0;
    for (size_t c = 0; c < cal.chunks.size(); ++c) {
      const std::vector<GateGradients> grads =
          projection_gate_gradients(t, cal.chunks[c], 1, o.seed + c, k > 0 ? &references[c] : nullptr);
      for (HeadGroup& g : left) {
        const auto& rows = grads[0].by_row[g.layer];
        for (size_t row = 0; row < rows.size(); row += 4) {
          double sum = 0.0;
          for (int h : g.heads) sum += rows[row + h];
          g.score += sum * sum / cal.chunks.size();
        }
        if (k > 0) {
          for (int h : g.heads) g.score -= 2.0 * grads[1].gate[g.layer][h] / cal.chunks.size();
        }
      }
    }
    const auto cheapest = std::min_element(left.begin(), left.end(),
                                           [](const HeadGroup& a, const HeadGroup& b) { return a.score < b.score; });
    EXPECT_EQ(s.removal_order[k].layer, cheapest->layer) << "round " << k;
    EXPECT_EQ(s.removal_order[k].kv_head, cheapest->kv_head) << "round " << k;
    for (int h : s.removal_order[k].heads) gates[s.removal_order[k].layer][h] = 0.0f;
    std::erase_if(left, [&](const HeadGroup& g) {
      return g.layer == s.removal_order[k].layer && g.kv_head == s.removal_order[k].kv_head;
    });
  }
  // A plan that removes a quarter of the groups needs only the first round's order.
  o.order_up_to = 0.25;
  HeadScores short_order = score_heads(ImportanceMethod::Gradient, test_model(), cal, o);
  ASSERT_EQ(short_order.removal_order.size(), 4u);
  EXPECT_EQ(short_order.removal_order[0].layer, s.removal_order[0].layer);
  EXPECT_EQ(short_order.removal_order[0].kv_head, s.removal_order[0].kv_head);
  EXPECT_EQ(short_order.removal_order[1].layer, s.removal_order[1].layer);
  EXPECT_EQ(short_order.removal_order[1].kv_head, s.removal_order[1].kv_head);
}

TEST(HeadImportanceTest, RandomIsReproducible) {
  Model m = test_model();
  ImportanceOptions o;
  o.seed = 5;
  HeadScores a = score_heads(ImportanceMethod::Random, m, Calibration{}, o);
  HeadScores b = score_heads(ImportanceMethod::Random, m, Calibration{}, o);
  EXPECT_EQ(a.raw, b.raw);
  for (const auto& l : a.raw) {
    for (double v : l) {
      EXPECT_GE(v, 0.0);
      EXPECT_LT(v, 1.0);
    }
  }
}

TEST(HeadImportanceTest, ParsesNames) {
  EXPECT_EQ(parse_importance("ablation").value(), ImportanceMethod::Ablation);
  EXPECT_EQ(parse_importance("gradient").value(), ImportanceMethod::Gradient);
  EXPECT_FALSE(parse_importance("gradients").ok());
  EXPECT_EQ(parse_gradient_estimate("taylor").value(), GradientEstimate::Taylor);
  EXPECT_FALSE(parse_gradient_estimate("fisher").ok());
}

}  // namespace
}  // namespace lv
