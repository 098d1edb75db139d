#pragma once
// Matrix kernels for the forward pass. Every kernel has a plain scalar reference in
// namespace lv::ref that tests compare the fast paths with; the public functions pick the
// fastest path the processor supports (AVX-512, AVX2, scalar) once, at first use.
#include <cstdint>

#include "lightvault/tensor/tensor.h"

namespace lv {

enum class Isa { Scalar, Avx2, Avx512 };
// The instruction set the public kernels use: the best one this CPU has, unless forced.
Isa active_isa();
const char* isa_name(Isa isa);
// For tests and benchmarks: use `isa` from now on (ignored if the CPU lacks it; returns
// the isa actually set).
Isa force_isa(Isa isa);

// Y[t][r] = sum_c W[r][c] * X[t][c] for t < n, r < W.rows.
// X is n rows of W.cols floats, Y is n rows of W.rows floats (row-major, no aliasing).
// W may be F32, F16, Q8_0 or I8; Q8_0 and I8 quantize each row of X to int8 first (per block
// of 32 for Q8_0, per row for I8) so that the inner products are int8 x int8 -> int32.
// Uses parallel_threads() threads (thread_pool.h); n == 1 is the decode (matrix-vector) case.
void matmul(const Tensor& W, const float* X, int64_t n, float* Y);

// dX[t][c] = sum_r W[r][c] * dY[t][r] for t < n, c < W.cols: the product with Wᵀ that a
// backward pass needs. dY is n rows of W.rows floats, dX n rows of W.cols floats (overwritten,
// no aliasing). W may be F32, F16, Q8_0 or I8 and is never copied whole: each thread widens a
// panel of at most 64 rows x 256 columns to float at a time (exactly as dequantize_row does)
// and accumulates it into its own columns of dX in float, so memory beyond dX is a few hundred
// KiB and every weight is read once per call.
void matmul_transposed(const Tensor& W, const float* dY, int64_t n, float* dX);

// Dot product and y += a*x of length n, for attention.
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);

namespace ref {
void matmul(const Tensor& W, const float* X, int64_t n, float* Y);
// Accumulates in double over dequantize_row's floats.
void matmul_transposed(const Tensor& W, const float* dY, int64_t n, float* dX);
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);
}  // namespace ref

}  // namespace lv
