// Plain C++ kernels, in two flavours:
//  - lv::ref: the references the tests hold the fast paths to. Single-threaded loops that
//    accumulate in double (int32/int64 for int8 products), so their own rounding error is far
//    below that of any float fast path.
//  - scalar_kernels(): the fallback the public kernels use on a CPU without AVX2. Float
//    accumulation like the SIMD paths, and run on all threads by kernels.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lightvault/tensor/kernels.h"
#include "lightvault/tensor/kernels_internal.h"
#include "lightvault/tensor/quantize.h"

namespace lv {
namespace ref {
namespace {

// Y[t][r] for float weights: W[r][c] comes from `weight(row_ptr, c)`.
template <class Weight>
void matmul_float(const Tensor& W, const float* X, int64_t n, float* Y, Weight weight) {
  for (int64_t t = 0; t < n; ++t) {
    const float* x = X + t * W.cols;
    for (int64_t r = 0; r < W.rows; ++r) {
      const uint8_t* w = W.row_ptr(r);
      double sum = 0.0;
      for (int64_t c = 0; c < W.cols; ++c) sum += static_cast<double>(weight(w, c)) * x[c];
      Y[t * W.rows + r] = static_cast<float>(sum);
    }
  }
}

// llama.cpp's Q8_0 x Q8_0 dot product: X's row is quantized to Q8_0 blocks too, each block
// contributes d_w * d_x * (exact int32 sum of q_w * q_x). Both scales are float16 values, so
// d_w * d_x * sum is exact in double; only the sum over blocks rounds.
void matmul_q8_0(const Tensor& W, const float* X, int64_t n, float* Y) {
  const int64_t nb = W.cols / kQ8BlockSize;
  std::vector<BlockQ8_0> xq(static_cast<size_t>(nb));
  for (int64_t t = 0; t < n; ++t) {
    quantize_row_q8_0(X + t * W.cols, xq.data(), W.cols);
    for (int64_t r = 0; r < W.rows; ++r) {
      const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(W.row_ptr(r));
      double sum = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        int32_t sumi = 0;
        for (int i = 0; i < kQ8BlockSize; ++i) sumi += w[b].qs[i] * xq[b].qs[i];
        sum += static_cast<double>(f16_to_f32(w[b].d)) * f16_to_f32(xq[b].d) * sumi;
      }
      Y[t * W.rows + r] = static_cast<float>(sum);
    }
  }
}

// Per-row int8: X's row gets one scale too; s_w[r] * s_x * (exact integer sum).
void matmul_i8(const Tensor& W, const float* X, int64_t n, float* Y) {
  std::vector<int8_t> xq(static_cast<size_t>(W.cols));
  for (int64_t t = 0; t < n; ++t) {
    const float sx = quantize_row_i8(X + t * W.cols, xq.data(), W.cols);
    for (int64_t r = 0; r < W.rows; ++r) {
      const int8_t* w = reinterpret_cast<const int8_t*>(W.row_ptr(r));
      int64_t sumi = 0;  // int64: exact for any length (the fast paths use int32, see kernels.cpp)
      for (int64_t c = 0; c < W.cols; ++c) sumi += w[c] * xq[c];
      Y[t * W.rows + r] = static_cast<float>(static_cast<double>(W.scales[r]) * sx * static_cast<double>(sumi));
    }
  }
}

}  // namespace

void matmul(const Tensor& W, const float* X, int64_t n, float* Y) {
  switch (W.dtype) {
    case DType::F32:
      return matmul_float(W, X, n, Y, [](const uint8_t* w, int64_t c) { return reinterpret_cast<const float*>(w)[c]; });
    case DType::F16:
      return matmul_float(W, X, n, Y,
                          [](const uint8_t* w, int64_t c) { return f16_to_f32(reinterpret_cast<const uint16_t*>(w)[c]); });
    case DType::Q8_0:
      return matmul_q8_0(W, X, n, Y);
    case DType::I8:
      return matmul_i8(W, X, n, Y);
  }
}

float dot(const float* a, const float* b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(sum);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(y[i] + static_cast<double>(a) * x[i]);
}

void matmul_transposed(const Tensor& W, const float* dY, int64_t n, float* dX) {
  std::vector<float> row(static_cast<size_t>(W.cols));
  std::vector<double> sum(static_cast<size_t>(W.cols));
  for (int64_t t = 0; t < n; ++t) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t r = 0; r < W.rows; ++r) {
      dequantize_row(W, r, row.data());
      const double a = dY[t * W.rows + r];
      for (int64_t c = 0; c < W.cols; ++c) sum[c] += a * row[c];
    }
    for (int64_t c = 0; c < W.cols; ++c) dX[t * W.cols + c] = static_cast<float>(sum[c]);
  }
}

}  // namespace ref

namespace kernels_detail {
namespace {

// ---- the scalar fallback: same job layout and float accumulation as the SIMD paths ----

// Eight partial sums: the compiler keeps them in two SSE registers and vectorizes the loop,
// which a single running sum would forbid (float addition is not associative).
float dot8(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  float sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void rows_f32(const MatmulJob& job, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* w = reinterpret_cast<const float*>(job.w + r * job.w_stride);
    for (int64_t t = 0; t < job.n; ++t) job.y[t * job.rows + r] = dot8(w, job.x + t * job.cols, job.cols);
  }
}

void rows_f16(const MatmulJob& job, int64_t r0, int64_t r1) {
  std::vector<float> w(static_cast<size_t>(job.cols));
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* h = reinterpret_cast<const uint16_t*>(job.w + r * job.w_stride);
    for (int64_t c = 0; c < job.cols; ++c) w[c] = f16_to_f32(h[c]);  // convert each row once
    for (int64_t t = 0; t < job.n; ++t) job.y[t * job.rows + r] = dot8(w.data(), job.x + t * job.cols, job.cols);
  }
}

void rows_q8_0(const MatmulJob& job, int64_t r0, int64_t r1) {
  const int64_t nb = job.cols / kQ8BlockSize;
  for (int64_t r = r0; r < r1; ++r) {
    const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(job.w + r * job.w_stride);
    for (int64_t t = 0; t < job.n; ++t) {
      const int8_t* xq = job.xq + t * job.cols;
      const float* xd = job.xd + t * nb;
      float sum = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        int32_t sumi = 0;
        for (int i = 0; i < kQ8BlockSize; ++i) sumi += w[b].qs[i] * xq[b * kQ8BlockSize + i];
        sum += f16_to_f32(w[b].d) * xd[b] * static_cast<float>(sumi);
      }
      job.y[t * job.rows + r] = sum;
    }
  }
}

void rows_i8(const MatmulJob& job, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int8_t* w = reinterpret_cast<const int8_t*>(job.w + r * job.w_stride);
    for (int64_t t = 0; t < job.n; ++t) {
      const int8_t* xq = job.xq + t * job.cols;
      int32_t sumi = 0;
      for (int64_t c = 0; c < job.cols; ++c) sumi += w[c] * xq[c];
      job.y[t * job.rows + r] = job.w_scales[r] * job.xd[t] * static_cast<float>(sumi);
    }
  }
}

int32_t int8_sum(const int8_t* q, int64_t n) {
  int32_t s = 0;
  for (int64_t i = 0; i < n; ++i) s += q[i];
  return s;
}

void quantize_q8_0(const float* x, int64_t cols, int8_t* q, float* d) {
  BlockQ8_0 block;
  for (int64_t b = 0; b < cols / kQ8BlockSize; ++b) {
    quantize_row_q8_0(x + b * kQ8BlockSize, &block, kQ8BlockSize);
    for (int i = 0; i < kQ8BlockSize; ++i) q[b * kQ8BlockSize + i] = block.qs[i];
    d[b] = f16_to_f32(block.d);
  }
}

void quantize_i8(const float* x, int64_t cols, int8_t* q, float* d, int32_t* bias) {
  d[0] = quantize_row_i8(x, q, cols);
  bias[0] = -128 * int8_sum(q, cols);
}

float dot(const float* a, const float* b, int64_t n) { return dot8(a, b, n); }

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void accumulate_panel(const float* a, int64_t a_stride, int64_t tokens, const float* w, int64_t w_stride, int64_t k,
                      float* y, int64_t y_stride, int64_t len) {
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t i = 0; i < k; ++i) axpy(a[t * a_stride + i], w + i * w_stride, y + t * y_stride, len);
  }
}

void widen_f16(const uint16_t* h, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
}

void widen_q8_0(const BlockQ8_0* blocks, int64_t n, float* out) {
  for (int64_t b = 0; b < n; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    for (int i = 0; i < kQ8BlockSize; ++i) out[b * kQ8BlockSize + i] = d * blocks[b].qs[i];
  }
}

}  // namespace

namespace {
constexpr IsaKernels kScalar{rows_f32, rows_f16, rows_q8_0, rows_i8, quantize_q8_0, quantize_i8, dot, axpy,
                             accumulate_panel, widen_f16, widen_q8_0};
}  // namespace

const IsaKernels& scalar_kernels() { return kScalar; }

}  // namespace kernels_detail
}  // namespace lv
