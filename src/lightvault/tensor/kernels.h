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

// Dot product and y += a*x of length n, for attention.
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);

namespace ref {
void matmul(const Tensor& W, const float* X, int64_t n, float* Y);
float dot(const float* a, const float* b, int64_t n);
void axpy(float a, const float* x, float* y, int64_t n);
}  // namespace ref

}  // namespace lv
