// Every fast path against the scalar reference (lv::ref), for each instruction set this CPU
// has, all four weight types and ragged shapes.
//
// Tolerance. The references accumulate in double (int for int8 products), the fast paths in
// float, in a different order. A float sum of k terms is off by at most about
// k_eff * 2^-24 * sum|terms|, where k_eff is the number of additions one lane sees (cols/16
// plus the final reduction), so for the sizes here (cols <= 1000) the error is below 1e-6
// times sum|terms|. We allow 1e-5 * sum_c |w_c * x_c|: ten times the bound, yet a thousand
// times tighter than int8 quantization error (~1e-2), so a fast int8 path that quantized X
// differently from the reference, or lost a product, fails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lightvault/tensor/kernels.h"
#include "lightvault/tensor/kernels_internal.h"
#include "lightvault/tensor/quantize.h"

namespace lv {
namespace {

constexpr double kRelTol = 1e-5;

// A weight tensor of random values with its storage. Int8 types get raw random bytes over the
// whole int8 range, -128 included (files from other tools may hold it), and random scales.
struct Weight {
  Tensor t;
  std::vector<float> scales;
};

Weight random_weight(DType dtype, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f);
  auto storage = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(rows) * row_bytes(dtype, cols));
  uint8_t* p = storage->data();
  Weight w;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = p + r * row_bytes(dtype, cols);
    switch (dtype) {
      case DType::F32:
        for (int64_t c = 0; c < cols; ++c) reinterpret_cast<float*>(row)[c] = uni(rng);
        break;
      case DType::F16:
        for (int64_t c = 0; c < cols; ++c) reinterpret_cast<uint16_t*>(row)[c] = f32_to_f16(uni(rng));
        break;
      case DType::Q8_0:
        for (int64_t b = 0; b < cols / kQ8BlockSize; ++b) {
          BlockQ8_0& blk = reinterpret_cast<BlockQ8_0*>(row)[b];
          blk.d = f32_to_f16(scale(rng));
          for (auto& q : blk.qs) q = static_cast<int8_t>(byte(rng));
        }
        break;
      case DType::I8:
        for (int64_t c = 0; c < cols; ++c) reinterpret_cast<int8_t*>(row)[c] = static_cast<int8_t>(byte(rng));
        w.scales.push_back(scale(rng));
        break;
    }
  }
  w.t.dtype = dtype;
  w.t.rows = rows;
  w.t.cols = cols;
  w.t.data = p;
  w.t.owner = storage;
  if (dtype == DType::I8) w.t.scales = w.scales.data();
  return w;
}

std::vector<float> random_floats(int64_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> uni(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = uni(rng);
  return v;
}

// sum_c |W[r][c] * X[t][c]| for every output: the scale of the rounding error.
std::vector<double> magnitudes(const Tensor& W, const float* X, int64_t n) {
  std::vector<double> mag(static_cast<size_t>(n * W.rows));
  std::vector<float> row(static_cast<size_t>(W.cols));
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row(W, r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      double s = 0.0;
      for (int64_t c = 0; c < W.cols; ++c) s += std::fabs(static_cast<double>(row[c]) * X[t * W.cols + c]);
      mag[t * W.rows + r] = s;
    }
  }
  return mag;
}

// Runs the public matmul (with the ISA forced by the fixture) and the reference, and compares.
void expect_matches_reference(const Tensor& W, const std::vector<float>& X, int64_t n) {
  std::vector<float> fast(static_cast<size_t>(n * W.rows), -12345.0f);
  std::vector<float> want(static_cast<size_t>(n * W.rows));
  matmul(W, X.data(), n, fast.data());
  ref::matmul(W, X.data(), n, want.data());
  const std::vector<double> mag = magnitudes(W, X.data(), n);
  int failures = 0;
  for (size_t i = 0; i < fast.size() && failures < 5; ++i) {
    const double tol = kRelTol * mag[i];
    if (!(std::fabs(static_cast<double>(fast[i]) - want[i]) <= tol)) {
      ++failures;
      ADD_FAILURE() << dtype_name(W.dtype) << " rows=" << W.rows << " cols=" << W.cols << " n=" << n
                    << " token=" << i / W.rows << " row=" << i % W.rows << ": fast " << fast[i] << " ref " << want[i]
                    << " tolerance " << tol;
    }
  }
}

// Forces an instruction set for one test and restores the previous one afterwards.
class IsaScope {
 public:
  explicit IsaScope(Isa isa) : saved_(active_isa()), ok_(force_isa(isa) == isa) {}
  ~IsaScope() { force_isa(saved_); }
  bool ok() const { return ok_; }

 private:
  Isa saved_;
  bool ok_;
};

const std::vector<Isa> kAllIsas = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

// ---- matmul against the reference, per ISA x dtype ---------------------------------------

class MatmulVsReference : public ::testing::TestWithParam<std::tuple<Isa, DType>> {
 protected:
  void SetUp() override {
    scope_ = std::make_unique<IsaScope>(std::get<0>(GetParam()));
    if (!scope_->ok()) GTEST_SKIP() << "this CPU lacks " << isa_name(std::get<0>(GetParam()));
  }
  void TearDown() override { scope_.reset(); }
  DType dtype() const { return std::get<1>(GetParam()); }

 private:
  std::unique_ptr<IsaScope> scope_;
};

TEST_P(MatmulVsReference, RaggedShapes) {
  std::mt19937 rng(1234);
  const std::vector<int64_t> float_cols = {1, 5, 31, 33, 64, 100, 257};
  const std::vector<int64_t> q8_cols = {32, 64, 96, 160, 256, 288};
  const std::vector<int64_t>& cols_list = dtype() == DType::Q8_0 ? q8_cols : float_cols;
  for (int64_t rows : {1, 3, 7, 33, 65}) {
    for (int64_t cols : cols_list) {
      const Weight w = random_weight(dtype(), rows, cols, rng);
      for (int64_t n : {1, 2, 3, 5, 8}) {
        expect_matches_reference(w.t, random_floats(n * cols, rng), n);
      }
    }
  }
}

// Large enough (> 64K multiply-adds) to run on all threads, with ragged row units.
TEST_P(MatmulVsReference, ThreadedShapes) {
  std::mt19937 rng(99);
  const int64_t cols = dtype() == DType::Q8_0 ? 992 : 1001;
  for (int64_t rows : {301, 1024}) {
    const Weight w = random_weight(dtype(), rows, cols, rng);
    for (int64_t n : {1, 7, 16}) expect_matches_reference(w.t, random_floats(n * cols, rng), n);
  }
}

// Activations with large outliers next to tiny values, as real hidden states have.
TEST_P(MatmulVsReference, OutlierActivations) {
  std::mt19937 rng(7);
  const int64_t rows = 37, cols = 256, n = 3;
  const Weight w = random_weight(dtype(), rows, cols, rng);
  std::vector<float> x = random_floats(n * cols, rng, -1e-3f, 1e-3f);
  x[5] = 300.0f;
  x[cols + 77] = -45.0f;
  x[2 * cols + 200] = 1e4f;
  expect_matches_reference(w.t, x, n);
}

TEST_P(MatmulVsReference, ZeroActivationsGiveZero) {
  std::mt19937 rng(3);
  const Weight w = random_weight(dtype(), 9, 64, rng);
  std::vector<float> x(2 * 64, 0.0f), y(2 * 9, 1.0f);
  matmul(w.t, x.data(), 2, y.data());
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

std::string matmul_case_name(const ::testing::TestParamInfo<std::tuple<Isa, DType>>& info) {
  return std::string(isa_name(std::get<0>(info.param))) + "_" + std::string(dtype_name(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(Kernels, MatmulVsReference,
                         ::testing::Combine(::testing::ValuesIn(kAllIsas),
                                            ::testing::Values(DType::F32, DType::F16, DType::Q8_0, DType::I8)),
                         matmul_case_name);

// ---- matmul_transposed against its reference, per ISA x dtype -----------------------------

// Each output of matmul_transposed is a float sum over all W.rows rows, added one row at a
// time: its rounding error is at most about rows * 2^-24 * sum_r |W[r][c] * dY[t][r]|.
void expect_transposed_matches_reference(const Tensor& W, const std::vector<float>& dY, int64_t n) {
  std::vector<float> fast(static_cast<size_t>(n * W.cols), -12345.0f), want(fast.size());
  matmul_transposed(W, dY.data(), n, fast.data());
  ref::matmul_transposed(W, dY.data(), n, want.data());
  std::vector<double> mag(fast.size(), 0.0);
  std::vector<float> row(static_cast<size_t>(W.cols));
  for (int64_t r = 0; r < W.rows; ++r) {
    dequantize_row(W, r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t c = 0; c < W.cols; ++c) mag[t * W.cols + c] += std::fabs(static_cast<double>(row[c]) * dY[t * W.rows + r]);
    }
  }
  const double rel = static_cast<double>(W.rows + 16) * std::ldexp(1.0, -24);
  int failures = 0;
  for (size_t i = 0; i < fast.size() && failures < 5; ++i) {
    if (!(std::fabs(static_cast<double>(fast[i]) - want[i]) <= rel * mag[i])) {
      ++failures;
      ADD_FAILURE() << dtype_name(W.dtype) << " rows=" << W.rows << " cols=" << W.cols << " n=" << n
                    << " token=" << i / W.cols << " col=" << i % W.cols << ": fast " << fast[i] << " ref " << want[i]
                    << " tolerance " << rel * mag[i];
    }
  }
}

using MatmulTransposedVsReference = MatmulVsReference;

// Rows across several 64-row panels and columns across several panel widths, with ragged
// edges in both and token counts that leave partial register tiles.
TEST_P(MatmulTransposedVsReference, RaggedShapes) {
  std::mt19937 rng(4321);
  const std::vector<int64_t> float_cols = {1, 17, 64, 100, 257, 530};
  const std::vector<int64_t> q8_cols = {32, 96, 288, 544};
  for (int64_t rows : {1, 5, 64, 130}) {
    for (int64_t cols : dtype() == DType::Q8_0 ? q8_cols : float_cols) {
      const Weight w = random_weight(dtype(), rows, cols, rng);
      for (int64_t n : {1, 2, 3, 4, 5, 9}) expect_transposed_matches_reference(w.t, random_floats(n * rows, rng), n);
    }
  }
}

// Large enough to run on all threads.
TEST_P(MatmulTransposedVsReference, ThreadedShapes) {
  std::mt19937 rng(77);
  const int64_t cols = dtype() == DType::Q8_0 ? 1024 : 1000;
  const Weight w = random_weight(dtype(), 300, cols, rng);
  for (int64_t n : {1, 16}) expect_transposed_matches_reference(w.t, random_floats(n * 300, rng), n);
}

// Wᵀ·dY is the transpose of the forward product: <matmul_transposed(W, y), x> = <y, W x>
// for the float weight types (whose forward product is exact up to rounding).
TEST_P(MatmulTransposedVsReference, IsTheAdjointOfTheReferenceProduct) {
  if (dtype() == DType::Q8_0 || dtype() == DType::I8) GTEST_SKIP() << "the forward product quantizes X";
  std::mt19937 rng(5);
  const int64_t rows = 70, cols = 90;
  const Weight w = random_weight(dtype(), rows, cols, rng);
  const std::vector<float> x = random_floats(cols, rng), y = random_floats(rows, rng);
  std::vector<float> wx(static_cast<size_t>(rows)), wty(static_cast<size_t>(cols));
  ref::matmul(w.t, x.data(), 1, wx.data());
  matmul_transposed(w.t, y.data(), 1, wty.data());
  double a = 0.0, b = 0.0, scale = 0.0;
  for (int64_t c = 0; c < cols; ++c) a += static_cast<double>(wty[c]) * x[c], scale += std::fabs(wty[c] * x[c]);
  for (int64_t r = 0; r < rows; ++r) b += static_cast<double>(wx[r]) * y[r];
  EXPECT_NEAR(a, b, 1e-5 * scale);
}

INSTANTIATE_TEST_SUITE_P(Kernels, MatmulTransposedVsReference,
                         ::testing::Combine(::testing::ValuesIn(kAllIsas),
                                            ::testing::Values(DType::F32, DType::F16, DType::Q8_0, DType::I8)),
                         matmul_case_name);

// ---- int8 exactness at the edges ------------------------------------------------------

// The longest I8 rows allowed, every product at its maximum: sum(w * x) = 127*127*131072
// is just below 2^31, and the AVX-512 path's sum((w + 128) * x) wraps on the way.
TEST(KernelsInt8, LongestI8RowsAreExact) {
  const int64_t cols = 131072;
  std::vector<int8_t> q(static_cast<size_t>(2 * cols));
  for (int64_t c = 0; c < cols; ++c) {
    q[c] = 127;
    q[cols + c] = -128;
  }
  std::vector<float> scales = {1.0f, 1.0f};
  Tensor W;
  W.dtype = DType::I8;
  W.rows = 2;
  W.cols = cols;
  W.data = q.data();
  W.scales = scales.data();
  const std::vector<float> x(static_cast<size_t>(cols), 1.0f);  // quantizes to 127, scale 1/127
  for (Isa isa : kAllIsas) {
    IsaScope scope(isa);
    if (!scope.ok()) continue;
    float y[2];
    matmul(W, x.data(), 1, y);
    EXPECT_FLOAT_EQ(y[0], 127.0f * cols) << isa_name(isa);
    EXPECT_FLOAT_EQ(y[1], -128.0f * cols) << isa_name(isa);
  }
}

// ---- Q8_0 prefill tiles ---------------------------------------------------------------

// Prefill (n > 1) runs register tiles of several weight rows x several tokens, two blocks per
// step: odd token counts leave a partial token tile, rows not a multiple of the tile a partial
// row tile, and an odd number of blocks a last single-block step.
TEST(KernelsQ8Prefill, RaggedTilesMatchReference) {
  std::mt19937 rng(2024);
  for (Isa isa : kAllIsas) {
    IsaScope scope(isa);
    if (!scope.ok()) continue;
    SCOPED_TRACE(isa_name(isa));
    for (int64_t rows : {5, 18, 37}) {
      for (int64_t cols : {32, 96, 544, 1056}) {
        const Weight w = random_weight(DType::Q8_0, rows, cols, rng);
        for (int64_t n : {3, 7, 13}) expect_matches_reference(w.t, random_floats(n * cols, rng), n);
      }
    }
  }
}

// With every scale 1 the tile's arithmetic is all integers below 2^24, so the result must be
// exact: a bias off by one lane, a flipped byte counted twice or a block read from the wrong
// token would show. Weights cover the whole byte range, -128 included, and X quantizes to
// itself (each block holds a 127, so its scale is 1).
TEST(KernelsQ8Prefill, IntegerDataIsExact) {
  const int64_t rows = 9, cols = 160, n = 5, nb = cols / kQ8BlockSize;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_int_distribution<int> xval(-127, 127);
  std::vector<BlockQ8_0> blocks(static_cast<size_t>(rows * nb));
  for (BlockQ8_0& b : blocks) {
    b.d = f32_to_f16(1.0f);
    for (auto& q : b.qs) q = static_cast<int8_t>(byte(rng));
  }
  blocks[0].qs[0] = -128;
  Tensor W;
  W.dtype = DType::Q8_0;
  W.rows = rows;
  W.cols = cols;
  W.data = blocks.data();
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (int64_t i = 0; i < n * cols; ++i) x[i] = static_cast<float>(i % kQ8BlockSize == 0 ? 127 : xval(rng));
  x[1] = -127.0f;
  std::vector<float> want(static_cast<size_t>(n * rows));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      int64_t s = 0;
      for (int64_t c = 0; c < cols; ++c) {
        s += int64_t{blocks[r * nb + c / kQ8BlockSize].qs[c % kQ8BlockSize]} * static_cast<int64_t>(x[t * cols + c]);
      }
      want[t * rows + r] = static_cast<float>(s);
    }
  }
  for (Isa isa : kAllIsas) {
    IsaScope scope(isa);
    if (!scope.ok()) continue;
    std::vector<float> y(static_cast<size_t>(n * rows), -1.0f);
    matmul(W, x.data(), n, y.data());
    EXPECT_EQ(y, want) << isa_name(isa);
  }
}

// ---- X quantizers: bit-exact with quantize_row_q8_0 / quantize_row_i8 --------------------

// Rows that hit rounding ties, zero blocks and float16-subnormal scales.
std::vector<float> tricky_row(int64_t cols, std::mt19937& rng) {
  std::vector<float> x = random_floats(cols, rng, -3.0f, 3.0f);
  for (int64_t c = 0; c < cols; ++c) {
    const int64_t block = c / kQ8BlockSize;
    if (block % 4 == 1) x[c] = static_cast<float>(c % 64 - 32) + 0.5f;  // amax 31.5, ties
    if (block % 4 == 1 && c % kQ8BlockSize == 0) x[c] = 127.0f;         // scale exactly 1
    if (block % 4 == 2) x[c] = 0.0f;
    if (block % 4 == 3) x[c] *= 1e-6f;  // scale below float16's normal range
  }
  return x;
}

TEST(KernelsQuantize, MatchesReferenceQuantizers) {
  std::mt19937 rng(42);
  for (Isa isa : kAllIsas) {
    IsaScope scope(isa);
    if (!scope.ok()) continue;
    const kernels_detail::IsaKernels& k = kernels_detail::kernels_for(static_cast<int>(isa));
    for (int64_t cols : {32, 64, 256, 4096}) {
      const std::vector<float> x = tricky_row(cols, rng);
      const int64_t nb = cols / kQ8BlockSize;
      std::vector<BlockQ8_0> want(static_cast<size_t>(nb));
      quantize_row_q8_0(x.data(), want.data(), cols);
      std::vector<int8_t> q(static_cast<size_t>(cols));
      std::vector<float> d(static_cast<size_t>(nb));
      k.quantize_q8_0(x.data(), cols, q.data(), d.data());
      for (int64_t b = 0; b < nb; ++b) {
        ASSERT_EQ(d[b], f16_to_f32(want[b].d)) << isa_name(isa) << " block " << b;
        for (int i = 0; i < kQ8BlockSize; ++i) {
          ASSERT_EQ(q[b * kQ8BlockSize + i], want[b].qs[i]) << isa_name(isa) << " block " << b << " i " << i;
        }
      }
    }
    for (int64_t cols : {1, 5, 31, 33, 100, 257, 4096}) {
      const std::vector<float> x = tricky_row(cols, rng);
      std::vector<int8_t> want(static_cast<size_t>(cols)), q(static_cast<size_t>(cols));
      const float want_scale = quantize_row_i8(x.data(), want.data(), cols);
      float d = 0.0f;
      int32_t bias = 0;
      k.quantize_i8(x.data(), cols, q.data(), &d, &bias);
      ASSERT_EQ(d, want_scale) << isa_name(isa) << " cols " << cols;
      ASSERT_EQ(q, want) << isa_name(isa) << " cols " << cols;
      int32_t sum = 0;
      for (int8_t v : want) sum += v;
      ASSERT_EQ(bias, -128 * sum);
    }
  }
}

// ---- the references themselves ----------------------------------------------------------

// Q8_0 and I8 quantize X, so they differ from the float product of the dequantized weights
// by int8 rounding of X only: at most half a step (amax/254) per element.
TEST(KernelsReference, Int8ReferencesTrackDequantizedProduct) {
  std::mt19937 rng(5);
  for (DType dtype : {DType::Q8_0, DType::I8}) {
    const int64_t rows = 16, cols = 256, n = 2;
    const Weight w = random_weight(dtype, rows, cols, rng);
    const std::vector<float> x = random_floats(n * cols, rng);
    const Tensor wf = Tensor::from_f32(rows, cols, to_f32(w.t).data());
    std::vector<float> got(n * rows), exact(n * rows);
    ref::matmul(w.t, x.data(), n, got.data());
    ref::matmul(wf, x.data(), n, exact.data());
    const std::vector<float> wd = to_f32(w.t);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double bound = 0.0;  // sum |w| * (amax / 254), amax <= 1
        for (int64_t c = 0; c < cols; ++c) bound += std::fabs(wd[r * cols + c]) / 254.0;
        EXPECT_NEAR(got[t * rows + r], exact[t * rows + r], bound * 1.01) << dtype_name(dtype);
      }
    }
  }
}

TEST(KernelsReference, SmallHandComputedProduct) {
  const float w[6] = {1, 2, 3, -1, 0.5f, 4};
  const float x[3] = {2, -1, 0.25f};
  const Tensor W = Tensor::from_f32(2, 3, w);
  float y[2];
  ref::matmul(W, x, 1, y);
  EXPECT_FLOAT_EQ(y[0], 2 - 2 + 0.75f);
  EXPECT_FLOAT_EQ(y[1], -2 - 0.5f + 1);
  EXPECT_FLOAT_EQ(ref::dot(w, w + 3, 3), -1 + 1 + 12);
}

// ---- dot and axpy ---------------------------------------------------------------------

TEST(KernelsVector, DotAndAxpyMatchReference) {
  std::mt19937 rng(11);
  for (Isa isa : kAllIsas) {
    IsaScope scope(isa);
    if (!scope.ok()) continue;
    for (int64_t n : {0, 1, 5, 15, 16, 17, 31, 63, 64, 65, 100, 1000, 4099}) {
      const std::vector<float> a = random_floats(n, rng), b = random_floats(n, rng);
      double mag = 0.0;
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(a[i]) * b[i]);
      EXPECT_NEAR(dot(a.data(), b.data(), n), ref::dot(a.data(), b.data(), n), kRelTol * mag)
          << isa_name(isa) << " n=" << n;

      // Each y[i] is one rounding of y + a*x: fused or not, within 2 ulps of the reference.
      std::vector<float> y = random_floats(n, rng), y_ref = y;
      axpy(0.75f, a.data(), y.data(), n);
      ref::axpy(0.75f, a.data(), y_ref.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], y_ref[i], 2.5e-7 * (std::fabs(y_ref[i]) + 0.75 * std::fabs(a[i])))
            << isa_name(isa) << " n=" << n << " i=" << i;
      }
    }
  }
}

// ---- dispatch ---------------------------------------------------------------------------

TEST(KernelsDispatch, NamesAndParsing) {
  EXPECT_STREQ(isa_name(Isa::Scalar), "scalar");
  EXPECT_STREQ(isa_name(Isa::Avx2), "avx2");
  EXPECT_STREQ(isa_name(Isa::Avx512), "avx512");
  EXPECT_EQ(kernels_detail::parse_isa("scalar"), static_cast<int>(Isa::Scalar));
  EXPECT_EQ(kernels_detail::parse_isa("avx2"), static_cast<int>(Isa::Avx2));
  EXPECT_EQ(kernels_detail::parse_isa("avx512"), static_cast<int>(Isa::Avx512));
  EXPECT_EQ(kernels_detail::parse_isa("AVX9"), -1);
  EXPECT_EQ(kernels_detail::parse_isa(nullptr), -1);
}

TEST(KernelsDispatch, ForceIsaSwitchesAndRestores) {
  const Isa before = active_isa();
  EXPECT_EQ(force_isa(Isa::Scalar), Isa::Scalar);  // every CPU has the scalar path
  EXPECT_EQ(active_isa(), Isa::Scalar);
  force_isa(before);
  EXPECT_EQ(active_isa(), before);
  // Unless LV_ISA asked for less, the default is the best the CPU has: nothing better can be
  // forced, anything less can.
  if (std::getenv("LV_ISA") == nullptr) {
    if (before != Isa::Avx512) {
      EXPECT_EQ(force_isa(Isa::Avx512), before);
    }
    if (before == Isa::Scalar) {
      EXPECT_EQ(force_isa(Isa::Avx2), before);
    }
    if (before == Isa::Avx512) {
      EXPECT_EQ(force_isa(Isa::Avx2), Isa::Avx2);
    }
    force_isa(before);
  }
}

}  // namespace
}  // namespace lv
