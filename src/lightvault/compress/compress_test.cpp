#include "lightvault/compress/compress.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "lightvault/model/gguf.h"
#include "lightvault/model/load.h"
#include "lightvault/model/synth.h"

namespace lv {
namespace {

// One synthetic model written to GGUF as F32, F16 and Q8_0, compressed from each file by the
// gradient scorer: the quantized inputs are scored in their own dtype (no F32 copy), and the
// scores must agree with the F32 file's.
class CompressInputDtypeTest : public ::testing::Test {
 protected:
  std::string dir_ = ::testing::TempDir() + "compress_test_" + std::to_string(::getpid());

  void SetUp() override {
    std::filesystem::create_directories(dir_);
    // head_dim 32: a Q8_0 Wo loses whole blocks when a head goes.
    spec_ = SynthSpec{.dim = 128, .hidden_dim = 192, .n_layers = 3, .n_heads = 4, .n_kv_heads = 2,
                      .vocab_size = 300, .seq_len = 64, .seed = 5};
    write_text(calib_path(), text(1, 300));
    write_text(eval_path(), text(2, 150));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string calib_path() const { return path("calib.txt"); }
  std::string eval_path() const { return path("eval.txt"); }

  static void write_text(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

  // Lines of made-up words (each line distinct, so calibration and evaluation do not overlap).
  static std::string text(unsigned seed, int lines) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> letter('a', 'z'), len(1, 7), words(8, 14);
    std::string out;
    for (int l = 0; l < lines; ++l) {
      out += "line " + std::to_string(seed) + "." + std::to_string(l);
      for (int w = words(rng); w > 0; --w) {
        out += ' ';
        for (int c = len(rng); c > 0; --c) out += static_cast<char>(letter(rng));
      }
      out += ".\n";
    }
    return out;
  }

  // Writes the model as `weights` and compresses it; fails the test on any error.
  CompressReport compress_as(GgufWeights weights, const std::string& name, double ratio = 0.25, int rounds = 0) {
    const std::string input = path(name + ".gguf");
    Status written = write_synthetic_gguf(spec_, input, weights);
    EXPECT_TRUE(written.ok()) << written.error().message;
    CompressOptions o;
    o.input = input;
    o.output = path(name + ".out.gguf");
    o.calib_path = calib_path();
    o.eval_path = eval_path();
    o.ctx = 32;
    o.calib_chunks = 4;
    o.eval_chunks = 2;
    o.importance = ImportanceMethod::Gradient;
    o.mode = PruneMode::Ratio;
    o.ratio = ratio;
    o.gradient_rounds = rounds;
    o.quant.granularity = QuantGranularity::Block32;
    auto report = compress(o, {});
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? std::move(report).value() : CompressReport{};
  }

  SynthSpec spec_;
};

double relative_difference(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  double diff = 0.0, norm = 0.0;
  for (size_t l = 0; l < a.size(); ++l) {
    for (size_t h = 0; h < a[l].size(); ++h) {
      diff += (a[l][h] - b[l][h]) * (a[l][h] - b[l][h]);
      norm += a[l][h] * a[l][h];
    }
  }
  return std::sqrt(diff / norm);
}

// One round up to a quarter of the groups, 8 past it, or what is asked; the report says which.
TEST_F(CompressInputDtypeTest, GradientRoundsFollowTheCut) {
  for (auto [ratio, asked, rounds] : {std::tuple{0.25, 0, 1}, {0.5, 0, 8}, {0.5, 3, 3}}) {
    SCOPED_TRACE("ratio " + std::to_string(ratio) + ", asked " + std::to_string(asked));
    const CompressReport r = compress_as(GgufWeights::F32, "rounds", ratio, asked);
    EXPECT_EQ(r.options.gradient_rounds, rounds);
    ASSERT_FALSE(r.step_seconds.size() < 2);
    const std::string scoring = r.step_seconds[1].first;
    EXPECT_EQ(scoring, rounds == 1 ? "scoring heads (gradient)"
                                   : "scoring heads (gradient, " + std::to_string(rounds) + " rounds)");
    EXPECT_EQ(r.plan.removed_heads(), static_cast<int>(std::lround(ratio * 6)) * 2);
  }
}

TEST_F(CompressInputDtypeTest, F16AndQ8InputsScoreLikeF32AndTheirOutputLoads) {
  const CompressReport f32 = compress_as(GgufWeights::F32, "f32");
  ASSERT_EQ(f32.scores.size(), 1u);
  for (auto [weights, name, max_difference] : {std::tuple{GgufWeights::F16, "f16", 1e-3}, {GgufWeights::Q8_0, "q8", 0.02}}) {
    SCOPED_TRACE(name);
    const CompressReport r = compress_as(weights, name);
    ASSERT_EQ(r.scores.size(), 1u);
    // F16 rounds the weights by 2^-11, Q8_0 by up to 1/254 of each block's largest and also
    // quantizes the activations the forward pass feeds the weights.
    EXPECT_LT(relative_difference(f32.scores[0].raw, r.scores[0].raw), max_difference);
    EXPECT_GT(rank_agreement(f32.scores[0].raw, r.scores[0].raw), 0.95);
    EXPECT_EQ(r.plan.removed_heads(), f32.plan.removed_heads());
    EXPECT_GT(r.peak_rss_bytes, 0);

    // The pruned, Q8_0 output loads with the plan's head counts and was evaluated.
    auto out = load_model(r.options.output);
    ASSERT_TRUE(out.ok()) << out.error().message;
    for (int l = 0; l < spec_.n_layers; ++l) {
      EXPECT_EQ(out->config.layers[l].n_heads, spec_.n_heads - static_cast<int>(r.plan.remove[l].size()));
      if (out->config.layers[l].n_heads > 0) {
        EXPECT_EQ(out->layers[l].wo.dtype, DType::Q8_0);
      }
    }
    ASSERT_TRUE(r.after.eval.has_value());
    EXPECT_GT(r.after.eval->scored, 0);
    EXPECT_TRUE(std::isfinite(r.after.eval->perplexity));
    RecordProperty(std::string(name) + "_score_difference", std::to_string(relative_difference(f32.scores[0].raw, r.scores[0].raw)));
    RecordProperty(std::string(name) + "_rank_agreement", std::to_string(rank_agreement(f32.scores[0].raw, r.scores[0].raw)));
  }
}

}  // namespace
}  // namespace lv
