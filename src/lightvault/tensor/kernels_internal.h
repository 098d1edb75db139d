#pragma once
// Shared between kernels.cpp (dispatch, threads) and the per-instruction-set kernel files.
//
// kernels_avx2.cpp and kernels_avx512.cpp are compiled with -mavx2/-mavx512... flags. An
// inline function from a shared header that such a file calls may be emitted there as a weak
// symbol compiled with those flags, and the linker may then hand that copy to baseline code,
// which would crash on an older CPU. So the per-ISA files see only plain structs and pointers
// from here (and types, never inline functions, from dtype.h), and keep their own helpers in
// an anonymous namespace.
#include <cstddef>
#include <cstdint>

#include "lightvault/tensor/dtype.h"

namespace lv::kernels_detail {

// One matmul call, flattened to pointers. Y[t*rows + r] = sum_c W[r][c] * X[t][c].
struct MatmulJob {
  const uint8_t* w = nullptr;  // row r starts at w + r * w_stride
  size_t w_stride = 0;         // bytes per weight row (row_bytes(dtype, cols))
  const float* w_scales = nullptr;  // I8: one scale per weight row
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t n = 0;  // tokens
  const float* x = nullptr;  // F32, F16: n rows of cols floats
  // Q8_0 and I8: X quantized once per call (see QuantizeQ8Fn, QuantizeI8Fn), n rows each.
  const int8_t* xq = nullptr;     // n * cols values
  const float* xd = nullptr;       // Q8_0: n * cols/32 block scales; I8: n row scales
  const int32_t* xbias = nullptr;  // I8: n values, -128 * (sum of xq over the row)
  float* y = nullptr;
};

// Computes Y for weight rows [r0, r1) and all n tokens.
using RowsFn = void (*)(const MatmulJob& job, int64_t r0, int64_t r1);

// Quantize one row of X (cols floats) to int8 exactly as quantize_row_q8_0 / quantize_row_i8
// do (same values, same scales, bit for bit), writing cols int8 to q.
// Q8_0: cols/32 block scales to d (the float16 scale, widened to float).
using QuantizeQ8Fn = void (*)(const float* x, int64_t cols, int8_t* q, float* d);
// I8: the row scale to *d, and *bias = -128 * sum(q). Kernels that compute sum((w + 128) * x)
// with vpdpbusd (unsigned x signed bytes) add the bias to get sum(w * x) exactly.
using QuantizeI8Fn = void (*)(const float* x, int64_t cols, int8_t* q, float* d, int32_t* bias);

// y[t*y_stride + j] += sum_{i<k} a[t*a_stride + i] * w[i*w_stride + j] for t < tokens and
// j < len: k float rows of a weight panel, weighted by each token's k coefficients, added into
// that token's output row. The inner step of matmul_transposed (kernels.cpp).
using PanelFn = void (*)(const float* a, int64_t a_stride, int64_t tokens, const float* w, int64_t w_stride, int64_t k,
                         float* y, int64_t y_stride, int64_t len);

struct IsaKernels {
  RowsFn rows_f32;
  RowsFn rows_f16;
  RowsFn rows_q8_0;
  RowsFn rows_i8;
  QuantizeQ8Fn quantize_q8_0;
  QuantizeI8Fn quantize_i8;
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);
  PanelFn accumulate_panel;
  // Weights widened to float exactly as dequantize_row does: n halves; n blocks of Q8_0
  // (32 n floats, d * q).
  void (*widen_f16)(const uint16_t* h, int64_t n, float* out);
  void (*widen_q8_0)(const BlockQ8_0* blocks, int64_t n, float* out);
};

// The tables are constant-initialized: no guard or start-up order to worry about.
const IsaKernels& scalar_kernels();
const IsaKernels& avx2_kernels();    // call only where the CPU has AVX2, FMA and F16C
const IsaKernels& avx512_kernels();  // call only where the CPU has AVX-512 F/BW/VL/DQ/VNNI

// The AVX2 X quantizers, which the AVX-512 table reuses (X is a small part of the work).
void avx2_quantize_q8_0(const float* x, int64_t cols, int8_t* q, float* d);
void avx2_quantize_i8(const float* x, int64_t cols, int8_t* q, float* d, int32_t* bias);
// The AVX2 + F16C weight wideners, which the AVX-512 table reuses too.
void avx2_widen_f16(const uint16_t* h, int64_t n, float* out);
void avx2_widen_q8_0(const BlockQ8_0* blocks, int64_t n, float* out);

// The kernels of an instruction set (Scalar, Avx2, Avx512 as ints, as in lv::Isa).
const IsaKernels& kernels_for(int isa);

// Parses an LV_ISA value ("scalar", "avx2", "avx512"); -1 when it names none of them.
int parse_isa(const char* name);

// Tiling helpers shared by the per-ISA files: pure templates, instantiated with kernel types
// from each file's anonymous namespace, so every instantiation stays local to its file.

// Calls K::template tile<R, T>(job, r, t) for the largest R <= RMax, T <= TMax that fit in
// rr rows and tt tokens, so ragged edges reuse the same code with smaller register tiles.
template <class K, int R, int T>
inline void dispatch_tile(const MatmulJob& job, int64_t r, int64_t t, int64_t rr, int64_t tt) {
  if constexpr (R > 1) {
    if (rr < R) return dispatch_tile<K, R - 1, T>(job, r, t, rr, tt);
  }
  if constexpr (T > 1) {
    if (tt < T) return dispatch_tile<K, R, T - 1>(job, r, t, rr, tt);
  }
  K::template tile<R, T>(job, r, t);
}

// Walks rows [r0, r1) (a few dozen rows: one unit of OpenMP work) in tiles of RMax weight
// rows x TMax tokens. Token tiles are the outer loop: the range's weights (16 rows: at most
// 256 KiB) stay in L2 while each token tile's X is read from memory once, instead of all of
// X (n rows) streaming through the cache once per weight tile. For n == 1 every weight byte
// is read exactly once either way.
template <class K, int RMax, int TMax>
inline void tile_rows(const MatmulJob& job, int64_t r0, int64_t r1) {
  for (int64_t t = 0; t < job.n; t += TMax) {
    const int64_t tt = job.n - t < TMax ? job.n - t : TMax;
    for (int64_t r = r0; r < r1; r += RMax) {
      const int64_t rr = r1 - r < RMax ? r1 - r : RMax;
      dispatch_tile<K, RMax, TMax>(job, r, t, rr, tt);
    }
  }
}

// The RowsFn of a kernel type K. Decode (n == 1) runs K::row, one weight row at a time with
// several accumulators, when K::kDecodeRows is 1, and tiles of kDecodeRows rows otherwise;
// prefill runs RMax x TMax register tiles.
//
// Which is faster for decode was measured (single core, 11008 x 4096, Zen 4/5 class): F16,
// Q8_0 and I8 stream faster as one sequential row at a time (Q8_0: ~20 vs ~10 GB/s), F32 as
// four interleaved rows (~23 vs ~16 GB/s). X sits in L1 either way.
template <class K, int RMax, int TMax>
void rows_by_shape(const MatmulJob& job, int64_t r0, int64_t r1) {
  if (job.n > 1) {
    tile_rows<K, RMax, TMax>(job, r0, r1);
  } else if constexpr (K::kDecodeRows == 1) {
    for (int64_t r = r0; r < r1; ++r) job.y[r] = K::row(job, r);
  } else {
    tile_rows<K, K::kDecodeRows, 1>(job, r0, r1);
  }
}

}  // namespace lv::kernels_detail
