#include "lightvault/model/synth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lightvault/model/gguf.h"

namespace lv {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SynthTest : public ::testing::Test {
 protected:
  std::string dir_ = ::testing::TempDir() + "synth_test_" + std::to_string(::getpid());
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
};

TEST_F(SynthTest, StreamedFileEqualsTheModelInMemory) {
  for (bool shared : {true, false}) {
    for (GgufWeights weights : {GgufWeights::F32, GgufWeights::F16, GgufWeights::Q8_0}) {
      SynthSpec spec{.dim = 64, .hidden_dim = 96, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .seed = 7};
      spec.shared_classifier = shared;
      auto model = synthesize(spec);
      ASSERT_TRUE(model.ok()) << model.error().message;
      GgufWriteOptions opt;
      opt.weights = weights;
      ASSERT_TRUE(save_gguf(*model, dir_ + "/memory.gguf", opt).ok());
      int64_t calls = 0, total = 0;
      Status st = write_synthetic_gguf(spec, dir_ + "/streamed.gguf", weights, [&](int64_t done, int64_t all) {
        calls = done;
        total = all;
      });
      ASSERT_TRUE(st.ok()) << st.error().message;
      EXPECT_EQ(read_all(dir_ + "/memory.gguf"), read_all(dir_ + "/streamed.gguf"))
          << "shared " << shared << ", weights " << static_cast<int>(weights);
      EXPECT_EQ(calls, total);
      EXPECT_EQ(total, 2 + 9 * 2 + (shared ? 0 : 1));  // embedding, output norm, 9 per layer, classifier
    }
  }
}

TEST_F(SynthTest, TensorsDependOnTheSeedAndNameOnly) {
  auto a = synthesize(SynthSpec{.n_layers = 2, .seed = 3});
  auto b = synthesize(SynthSpec{.n_layers = 3, .seed = 3});  // one more layer: the first two unchanged
  auto c = synthesize(SynthSpec{.n_layers = 2, .seed = 4});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const Tensor& wa = a->layers[1].wq;
  const Tensor& wb = b->layers[1].wq;
  const Tensor& wc = c->layers[1].wq;
  ASSERT_EQ(wa.numel(), wb.numel());
  EXPECT_EQ(0, std::memcmp(wa.data, wb.data, wa.nbytes()));
  EXPECT_NE(0, std::memcmp(wa.data, wc.data, wa.nbytes()));
  // Scaled as N(0, 1/sqrt(fan_in)): the variance of a 64-wide row's entries is about 1/64.
  double sum2 = 0;
  for (int64_t i = 0; i < wa.numel(); ++i) sum2 += double{wa.f32()[i]} * wa.f32()[i];
  EXPECT_NEAR(sum2 / static_cast<double>(wa.numel()), 1.0 / 64, 0.2 / 64);
}

TEST_F(SynthTest, StreamedQ8_0LoadsBack) {
  SynthSpec spec{.dim = 64, .hidden_dim = 128, .n_layers = 1, .n_heads = 4, .n_kv_heads = 4};
  ASSERT_TRUE(write_synthetic_gguf(spec, dir_ + "/q8.gguf", GgufWeights::Q8_0).ok());
  auto loaded = load_gguf(dir_ + "/q8.gguf");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->layers[0].w_gate.dtype, DType::Q8_0);
  EXPECT_EQ(loaded->layers[0].attn_norm.dtype, DType::F32);
  EXPECT_EQ(loaded->config.hidden_dim, 128);
}

TEST_F(SynthTest, RefusesKeepAndBadShapesWithoutLeavingAFile) {
  Status keep = write_synthetic_gguf(SynthSpec{}, dir_ + "/keep.gguf", GgufWeights::Keep);
  ASSERT_FALSE(keep.ok());
  EXPECT_NE(keep.error().message.find("keep"), std::string::npos) << keep.error().message;
  Status heads = write_synthetic_gguf(SynthSpec{.dim = 64, .n_heads = 5}, dir_ + "/heads.gguf", GgufWeights::F32);
  ASSERT_FALSE(heads.ok());
  EXPECT_NE(heads.error().message.find("n_heads"), std::string::npos) << heads.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

}  // namespace
}  // namespace lv
