#include "lightvault/compress/quantize_model.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "lightvault/model/gguf.h"
#include "lightvault/model/synth_for_tests.h"

namespace lv {
namespace {

Tensor random_tensor(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.5f);
  Tensor t = Tensor::zeros_f32(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) t.mutable_f32()[i] = d(rng) * (1 + (i / cols) % 5);  // rows differ in scale
  return t;
}

// |w - dequantize(quantize(w))| <= scale / 2, where scale = max|w| / 127 over the unit.
void expect_within_half_a_step(const Tensor& t, QuantGranularity g) {
  Tensor q = quantize_tensor(t, g);
  std::vector<float> back = to_f32(q);
  const float* w = t.f32();
  double tensor_max = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) tensor_max = std::max(tensor_max, static_cast<double>(std::fabs(w[i])));
  for (int64_t r = 0; r < t.rows; ++r) {
    double row_max = 0.0;
    for (int64_t c = 0; c < t.cols; ++c) row_max = std::max(row_max, static_cast<double>(std::fabs(w[r * t.cols + c])));
    for (int64_t c = 0; c < t.cols; ++c) {
      double unit_max = g == QuantGranularity::Tensor ? tensor_max : row_max;
      if (g == QuantGranularity::Block32 && t.cols % 32 == 0) {
        unit_max = 0.0;
        for (int64_t k = c / 32 * 32; k < c / 32 * 32 + 32; ++k) unit_max = std::max(unit_max, static_cast<double>(std::fabs(w[r * t.cols + k])));
      }
      const double step = unit_max / 127.0;
      // Q8_0 stores its scale as float16: allow its rounding (2^-11 relative) on top.
      const double tol = step / 2 * 1.0001 + unit_max * 1.0 / 2048;
      ASSERT_LE(std::fabs(back[r * t.cols + c] - w[r * t.cols + c]), tol) << "row " << r << " col " << c;
    }
  }
}

TEST(QuantizeModelTest, ErrorWithinTheBoundTheScaleImplies) {
  for (auto g : {QuantGranularity::Tensor, QuantGranularity::Channel, QuantGranularity::Block32}) {
    expect_within_half_a_step(random_tensor(7, 64, 1), g);
    expect_within_half_a_step(random_tensor(5, 172, 2), g);  // not a multiple of 32
  }
}

TEST(QuantizeModelTest, SymmetricInt8) {
  Tensor t = random_tensor(3, 50, 3);
  Tensor q = quantize_tensor(t, QuantGranularity::Channel);
  ASSERT_EQ(q.dtype, DType::I8);
  const int8_t* v = static_cast<const int8_t*>(q.data);
  for (int64_t r = 0; r < q.rows; ++r) {
    int max = 0;
    for (int64_t c = 0; c < q.cols; ++c) {
      EXPECT_GE(v[r * q.cols + c], -127);
      max = std::max(max, std::abs(static_cast<int>(v[r * q.cols + c])));
    }
    EXPECT_EQ(max, 127) << "the largest weight of a channel maps to ±127";
  }
  Tensor per_tensor = quantize_tensor(t, QuantGranularity::Tensor);
  for (int64_t r = 1; r < t.rows; ++r) EXPECT_EQ(per_tensor.scales[r], per_tensor.scales[0]);
  EXPECT_EQ(quantize_tensor(t, QuantGranularity::Block32).dtype, DType::I8);  // 50 % 32 != 0
  EXPECT_EQ(quantize_tensor(random_tensor(2, 64, 4), QuantGranularity::Block32).dtype, DType::Q8_0);
}

TEST(QuantizeModelTest, ZeroTensorStaysZero) {
  Tensor t = Tensor::zeros_f32(2, 40);
  for (auto g : {QuantGranularity::Tensor, QuantGranularity::Channel, QuantGranularity::Block32}) {
    for (float v : to_f32(quantize_tensor(t, g))) EXPECT_EQ(v, 0.0f);
  }
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Quantizing tensor by tensor as the writer reaches them writes the same file as quantizing the
// whole model first: every granularity, a row length that is not a multiple of 32 (w_down's 48
// columns fall back to one scale per row), groups kept in float, a shared classifier.
TEST(QuantizeModelTest, QuantizingWhileWritingWritesTheSameFile) {
  const std::string dir = ::testing::TempDir() + "quantize_model_test_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (bool shared : {false, true}) {
    Model m = synthesize_for_test({.dim = 64, .hidden_dim = 48, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
                                   .vocab_size = 300, .seq_len = 32, .shared_classifier = shared, .seed = 3});
    for (auto g : {QuantGranularity::None, QuantGranularity::Tensor, QuantGranularity::Channel, QuantGranularity::Block32}) {
      for (const char* kept : {"", "attention", "ffn", "classifier"}) {
        QuantSpec spec{g};
        if (*kept != 0) {
          ASSERT_TRUE(keep_in_float(spec, kept).ok());
        }
        SCOPED_TRACE(std::string(granularity_name(g)) + " keeping '" + kept + "'" + (shared ? ", shared" : ""));
        const std::string whole = dir + "/whole.gguf", streamed = dir + "/streamed.gguf";
        ASSERT_TRUE(save_gguf(quantize_model(m, spec), whole).ok());
        ASSERT_TRUE(save_quantized_gguf(m, spec, streamed).ok());
        const std::string expected = file_bytes(whole);
        ASSERT_GT(expected.size(), 0u);
        EXPECT_TRUE(file_bytes(streamed) == expected);
      }
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lv
