#include "lightvault/compress/prune.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lightvault/compress/quantize_model.h"
#include "lightvault/model/synth_for_tests.h"
#include "lightvault/runtime/transformer.h"

namespace lv {
namespace {

Model test_model(int heads, int kv_heads) {
  return synthesize_for_test({.dim = 64, .hidden_dim = 80, .n_layers = 3, .n_heads = heads, .n_kv_heads = kv_heads,
                              .vocab_size = 280, .seq_len = 32, .seed = 11});
}

std::vector<float> logits_of(Transformer& t, const std::vector<int>& tokens) {
  KvCache cache(t.config(), static_cast<int>(tokens.size()));
  std::vector<KvCache*> caches = {&cache};
  Batch b;
  b.add(0, tokens.data(), static_cast<int>(tokens.size()), 0);
  std::vector<int> rows;
  for (int i = 0; i < b.size(); ++i) rows.push_back(i);
  std::vector<float> out(tokens.size() * static_cast<size_t>(t.config().vocab_size));
  t.forward(b, caches, rows, out.data());
  return out;
}

// Pruning the plan's heads and running equals running the original with them masked.
void expect_prune_equals_mask(const Model& model, const PrunePlan& plan) {
  ASSERT_TRUE(plan.validate(model.config, true, "plan").ok()) << plan.validate(model.config, true, "plan").error().message;
  auto pruned = prune(model, plan);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_LT(pruned->parameter_count(), model.parameter_count());

  Transformer masked(model);
  std::vector<std::vector<float>> mask;
  for (const auto& l : model.config.layers) mask.emplace_back(static_cast<size_t>(l.n_heads), 1.0f);
  for (int l = 0; l < model.config.n_layers(); ++l) {
    for (int h : plan.remove[l]) mask[l][h] = 0.0f;
  }
  masked.set_head_mask(mask);
  Transformer small(*pruned);
  std::vector<int> tokens = {1, 40, 41, 200, 7, 9, 100, 33};
  std::vector<float> a = logits_of(masked, tokens), b = logits_of(small, tokens);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f) << "at " << i;
}

TEST(PruneTest, MultiHeadAttention) {
  Model model = test_model(4, 4);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{1}, {0, 3}, {}};
  expect_prune_equals_mask(model, plan);
  auto pruned = prune(model, plan);
  EXPECT_EQ(pruned->config.layers[0].n_heads, 3);
  EXPECT_EQ(pruned->config.layers[1].n_heads, 2);
  EXPECT_EQ(pruned->layers[1].wq.rows, 2 * model.config.head_dim);
  EXPECT_EQ(pruned->layers[1].wo.cols, 2 * model.config.head_dim);
}

TEST(PruneTest, WholeKeyValueGroups) {
  Model model = test_model(8, 4);  // groups of 2 query heads
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{2, 3}, {}, {0, 1, 6, 7}};
  expect_prune_equals_mask(model, plan);
  auto pruned = prune(model, plan);
  EXPECT_EQ(pruned->config.layers[0].n_kv_heads, 3);
  EXPECT_EQ(pruned->config.layers[2].n_heads, 4);
  EXPECT_EQ(pruned->config.layers[2].n_kv_heads, 2);
}

TEST(PruneTest, EvenlyWithinGroupsKeepsKeyValueHeads) {
  Model model = test_model(8, 4);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{1, 3, 5, 7}, {}, {}};
  expect_prune_equals_mask(model, plan);
  auto pruned = prune(model, plan);
  EXPECT_EQ(pruned->config.layers[0].n_heads, 4);
  EXPECT_EQ(pruned->config.layers[0].n_kv_heads, 4);
}

TEST(PruneTest, DroppedAttentionBlock) {
  Model model = test_model(4, 2);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{}, {0, 1, 2, 3}, {}};
  EXPECT_FALSE(plan.validate(model.config, false, "plan").ok());
  expect_prune_equals_mask(model, plan);
}

// A Q8_0 model (every matmul weight with cols % 32 == 0 stored as Q8_0 blocks).
Model q8_model(int dim, int heads, int kv_heads) {
  Model m = synthesize_for_test({.dim = dim, .hidden_dim = 96, .n_layers = 3, .n_heads = heads, .n_kv_heads = kv_heads,
                                 .vocab_size = 280, .seq_len = 32, .seed = 13});
  return quantize_model(m, QuantSpec{QuantGranularity::Block32});
}

// head_dim 32: heads are whole Q8_0 blocks of Wo's rows, so pruning copies blocks and the
// result runs exactly as the masked original.
TEST(PruneTest, Q8WeightsStayQ8) {
  Model model = q8_model(128, 4, 2);
  ASSERT_EQ(model.config.head_dim, 32);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{1, 3}, {2, 3}, {}};  // one head of each group; a whole group
  expect_prune_equals_mask(model, plan);
  auto pruned = prune(model, plan);
  ASSERT_TRUE(pruned.ok());
  for (int l : {0, 1}) {
    const LayerWeights& w = pruned->layers[l];
    for (const Tensor* t : {&w.wq, &w.wk, &w.wv, &w.wo}) EXPECT_EQ(t->dtype, DType::Q8_0) << "layer " << l;
  }
  // Head 0 of layer 1 is Wo's first block in every row, kept byte for byte.
  const Tensor &before = model.layers[1].wo, &after = pruned->layers[1].wo;
  for (int64_t r = 0; r < before.rows; ++r) {
    ASSERT_EQ(std::memcmp(before.row_ptr(r), after.row_ptr(r), sizeof(BlockQ8_0)), 0) << "row " << r;
  }
}

// head_dim 16: a head is half a Q8_0 block, so Wo's kept columns are widened and stored again:
// as Q8_0 when they are a multiple of 32 (values re-rounded), as F32 (exact) otherwise. (The
// pruned model then differs slightly from the masked one: an F32 Wo multiplies unquantized
// activations.)
TEST(PruneTest, Q8WoWithHalfBlockHeads) {
  Model model = q8_model(64, 4, 4);
  ASSERT_EQ(model.config.head_dim, 16);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = {{1}, {}, {}};  // 3 heads left: 48 columns, kept exactly as F32
  auto pruned = prune(model, plan);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->layers[0].wq.dtype, DType::Q8_0);
  ASSERT_EQ(pruned->layers[0].wo.dtype, DType::F32);
  {
    const Tensor &before = model.layers[0].wo, &after = pruned->layers[0].wo;
    std::vector<float> a(static_cast<size_t>(before.cols));
    for (int64_t r = 0; r < before.rows; ++r) {
      dequantize_row(before, r, a.data());
      for (int c = 0; c < 48; ++c) ASSERT_EQ(after.f32()[r * 48 + c], a[c < 16 ? c : c + 16]) << "row " << r;
    }
  }

  plan.remove = {{0, 3}, {}, {}};  // 2 heads left: 32 columns
  pruned = prune(model, plan);
  ASSERT_TRUE(pruned.ok());
  const Tensor &before = model.layers[0].wo, &after = pruned->layers[0].wo;
  ASSERT_EQ(after.dtype, DType::Q8_0);
  std::vector<float> a(static_cast<size_t>(before.cols)), b(static_cast<size_t>(after.cols));
  for (int64_t r = 0; r < before.rows; ++r) {
    dequantize_row(before, r, a.data());
    dequantize_row(after, r, b.data());
    float amax = 0.0f;
    for (float v : b) amax = std::max(amax, std::fabs(v));
    for (int c = 0; c < 32; ++c) {  // kept: heads 1 and 2, columns 16..47 of the original
      ASSERT_NEAR(b[c], a[16 + c], amax / 127.0f * 0.51f + 1e-6f) << "row " << r << " col " << c;
    }
  }
}

TEST(PrunePlanTest, JsonRoundTrip) {
  Model model = test_model(8, 4);
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.importance = "ablation";
  plan.remove = {{2, 3}, {}, {0, 1, 6, 7}};
  auto back = PrunePlan::from_json(plan.to_json(), "plan.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->to_json(), plan.to_json());
  EXPECT_EQ(back->remove, plan.remove);
}

std::string plan_error(const Model& model, const std::vector<std::vector<int>>& remove, bool allow_drop = false) {
  PrunePlan plan = PrunePlan::empty_for(model.config);
  plan.remove = remove;
  Status s = plan.validate(model.config, allow_drop, "plan.json");
  return s.ok() ? "" : s.error().message;
}

TEST(PrunePlanTest, RejectsBadPlans) {
  Model model = test_model(8, 4);
  EXPECT_NE(plan_error(model, {{0, 1, 2, 3, 4, 5, 6, 7}, {}, {}}).find("plan.json: removes every head (layer 0)"), std::string::npos);
  EXPECT_NE(plan_error(model, {{8}, {}, {}}).find("head index 8 out of range [0, 8) (layer 0)"), std::string::npos);
  EXPECT_NE(plan_error(model, {{-1}, {}, {}}).find("out of range"), std::string::npos);
  EXPECT_NE(plan_error(model, {{1, 1}, {}, {}}).find("listed twice"), std::string::npos);
  EXPECT_NE(plan_error(model, {{0, 1, 2}, {}, {}}).find("remove whole groups of 2"), std::string::npos);

  Model other = test_model(4, 4);
  PrunePlan plan = PrunePlan::empty_for(other.config);
  Status s = plan.validate(model.config, false, "plan.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("plan.json: the plan is for another model"), std::string::npos) << s.error().message;

  auto bad = PrunePlan::from_json("{\"format\": \"lightvault-prune-plan/1\", \"model\": {}}", "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("p.json: malformed plan", 0), 0u) << bad.error().message;
  EXPECT_EQ(PrunePlan::from_json("{", "p.json").error().message, "p.json: not valid JSON");
}

TEST(PrunePlanTest, RankingRemovesLowestGroupsAndKeepsAHeadPerLayer) {
  Model model = test_model(4, 4);
  HeadScores s;
  s.raw = {{0.1, 0.2, 0.3, 0.4}, {0.01, 0.02, 0.03, 0.04}, {1, 2, 3, 4}};
  normalize_per_layer(s);
  auto ranked = rank_groups(model.config, s);
  PrunePlan p = plan_from_ranking(model.config, ranked, 5, false, "test");
  EXPECT_EQ(p.remove[1], (std::vector<int>{0, 1, 2}));  // the layer keeps its best head
  EXPECT_EQ(p.remove[0], (std::vector<int>{0, 1}));
  PrunePlan t = plan_by_threshold(model.config, s, 0.3, false);
  EXPECT_EQ(t.remove[0], (std::vector<int>{0}));  // 0.25 < 0.3; 0.5 is not
  EXPECT_EQ(t.remove[2], (std::vector<int>{0}));
}

}  // namespace
}  // namespace lv
