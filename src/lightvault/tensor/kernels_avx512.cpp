// AVX-512 kernels (F, BW, VL, DQ and VNNI: Ice Lake, Sapphire Rapids, Zen 4 and later).
//
// Float paths use 16-wide FMA with masked loads for ragged tails. Int8 paths use vpdpbusd,
// which multiplies unsigned by signed bytes and adds groups of four into int32 lanes. Both
// operands are signed here, so either
//  - each weight byte is flipped to w + 128 (an XOR with 0x80) and the excess 128 * sum(x)
//    is taken back out (I8 rows, Q8_0 prefill tiles, where the correction is shared), or
//  - the sign of w moves onto x: |w| * (x * sign(w)) == w * x (Q8_0 decode).
// Every step is exact integer arithmetic.
//
// GCC 12's AVX-512 headers fill "don't care" lanes with a self-initialized variable, which
// -Wuninitialized flags once those intrinsics are inlined (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "lightvault/tensor/kernels_internal.h"

namespace lv::kernels_detail {
namespace {

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Sum of the 16 lanes modulo 2^32. (GCC's _mm512_reduce_add_epi32 adds as signed int, which
// is undefined behaviour where the I8 kernel relies on wrapping.)
uint32_t hsum_wrapping(__m512i v) {
  const __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(q));
}

// Lanes [0, n) set; n <= 16 (or 64 for bytes).
__mmask16 tail_mask16(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
__mmask64 tail_mask64(int64_t n) { return n >= 64 ? ~0ull : (1ull << n) - 1ull; }

// ---- F32 and F16 weights -------------------------------------------------------------

struct F32Weights {
  static constexpr int kDecodeRows = 4;  // see rows_by_shape
  static __m512 load16(const uint8_t* row, int64_t c) { return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c); }
  static __m512 load_tail(const uint8_t* row, int64_t c, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + c);
  }
};

struct F16Weights {
  static constexpr int kDecodeRows = 1;
  static __m512 load16(const uint8_t* row, int64_t c) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
  }
  static __m512 load_tail(const uint8_t* row, int64_t c, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * c));
  }
};

// R weight rows x T tokens of float dot products, 16 columns per step; the last partial step
// uses masked loads (masked lanes read as 0 and add nothing).
template <class Weights>
struct FloatTile {
  static constexpr int kDecodeRows = Weights::kDecodeRows;

  template <int R, int T>
  static void tile(const MatmulJob& job, int64_t r0, int64_t t0) {
    const uint8_t* w[R];
    const float* x[T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) w[r] = job.w + (r0 + r) * job.w_stride;
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) x[t] = job.x + (t0 + t) * job.cols;

    __m512 acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

    int64_t c = 0;
    for (; c + 16 <= job.cols; c += 16) {
      __m512 xv[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x[t] + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 wv = Weights::load16(w[r], c);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
      }
    }
    if (c < job.cols) {
      const __mmask16 m = tail_mask16(job.cols - c);
      __m512 xv[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x[t] + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 wv = Weights::load_tail(w[r], c, m);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) job.y[(t0 + t) * job.rows + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
  }

  // Decode: one row against X with four accumulators, so that the FMA latency never holds
  // up the stream of weight loads.
  static float row(const MatmulJob& job, int64_t r) {
    const uint8_t* w = job.w + r * job.w_stride;
    const float* x = job.x;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    int64_t c = 0;
    for (; c + 64 <= job.cols; c += 64) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        acc[k] = _mm512_fmadd_ps(Weights::load16(w, c + 16 * k), _mm512_loadu_ps(x + c + 16 * k), acc[k]);
      }
    }
    for (; c < job.cols; c += 16) {
      const __mmask16 m = tail_mask16(job.cols - c < 16 ? job.cols - c : 16);
      acc[0] = _mm512_fmadd_ps(Weights::load_tail(w, c, m), _mm512_maskz_loadu_ps(m, x + c), acc[0]);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
  }
};

// ---- Q8_0 weights: per block of 32, d_w * d_x * (int8 dot) -------------------------------

// Prefill tiles take two blocks per step in one zmm: lanes 0-7 hold block b, lanes 8-15
// block b + 1 (the two 32-byte blocks are 34 bytes apart in the file, so a weight vector is
// built from two loads). Each int32 lane of vpdpbusd sums four products; the weight bytes are
// flipped to w + 128 (unsigned) and the lane starts from -128 * (sum of its four x), which
// leaves exactly the sum of its four w * x. (One bias for a whole block in one lane would be
// exact too, but lanes of opposite sign ~16000 would then cancel in the float sum and lose
// digits.) The bias costs one vpdpbusd per token and step, shared by the R weight rows; the
// per-block scales are applied in float, one multiply and one FMA per row, token and step.
struct Q8Tile {
  static constexpr int kDecodeRows = 1;

  // Lanes 0-7 take lane 0 of `two`, lanes 8-15 lane 1.
  static __m512 spread_pair(__m128 two) {
    const __m512i index = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_permutexvar_ps(index, _mm512_castps128_ps512(two));
  }

  // One step of blocks [b, b + 2), or [b, b + 1) when kSingle (the last block of an odd
  // count: the upper lanes then hold zero weights, zero x and zero scales, and add nothing).
  // Nothing past the last block is read.
  template <int R, int T, bool kSingle>
  static void step(const BlockQ8_0* const* w, const int8_t* xq, const float* xd, int64_t cols, int64_t nb,
                   int64_t b, __m512 (&acc)[R][T]) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));  // also the unsigned byte 128
    const __m512i zero = _mm512_setzero_si512();
    __m512i bias[T];
    __m512 dx[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const int8_t* x = xq + t * cols + b * kQ8BlockSize;
      const __m512i xv = kSingle ? _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)))
                                 : _mm512_loadu_si512(x);
      bias[t] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, flip, xv));
      const float* d = xd + t * nb + b;
      dx[t] = spread_pair(kSingle ? _mm_load_ss(d) : _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(d))));
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs));
      __m512i wv;
      uint32_t halves = w[r][b].d;
      if constexpr (kSingle) {
        wv = _mm512_zextsi256_si512(lo);
      } else {
        wv = _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b + 1].qs)), 1);
        halves |= static_cast<uint32_t>(w[r][b + 1].d) << 16;
      }
      const __m512i wu = _mm512_xor_si512(wv, flip);
      const __m512 dw = spread_pair(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(halves))));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        // x is read again here rather than kept in a register: it is the memory operand of
        // vpdpbusd, and the registers are wanted for the R x T accumulators.
        const int8_t* x = xq + t * cols + b * kQ8BlockSize;
        const __m512i xv = kSingle ? _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)))
                                   : _mm512_loadu_si512(x);
        const __m512i dp = _mm512_dpbusd_epi32(bias[t], wu, xv);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }

  template <int R, int T>
  static void tile(const MatmulJob& job, int64_t r0, int64_t t0) {
    const int64_t nb = job.cols / kQ8BlockSize;
    const BlockQ8_0* w[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(job.w + (r0 + r) * job.w_stride);
    const int8_t* xq = job.xq + t0 * job.cols;
    const float* xd = job.xd + t0 * nb;

    __m512 acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) step<R, T, false>(w, xq, xd, job.cols, nb, b, acc);
    if (b < nb) step<R, T, true>(w, xq, xd, job.cols, nb, b, acc);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) job.y[(t0 + t) * job.rows + r0 + r] = _mm512_reduce_add_ps(acc[r][t]);
  }

  // Decode: with one weight row there is nothing to share a bias with, so this uses the
  // sign trick instead: |w| * (x * sign(w)) == w * x, every lane exact.
  static __m256 block(const BlockQ8_0& w, const int8_t* x, float dx, __m256 acc) {
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i dp = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dp), _mm256_set1_ps(half_to_float(w.d) * dx), acc);
  }

  static float row(const MatmulJob& job, int64_t r) {
    const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(job.w + r * job.w_stride);
    const int64_t nb = job.cols / kQ8BlockSize;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) acc[k] = block(w[b + k], job.xq + (b + k) * kQ8BlockSize, job.xd[b + k], acc[k]);
    }
    for (; b < nb; ++b) acc[0] = block(w[b], job.xq + b * kQ8BlockSize, job.xd[b], acc[0]);
    return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  }
};

// ---- I8 weights: one scale per row, so the whole row sums in int32 ------------------------

struct I8Tile {
  static constexpr int kDecodeRows = 1;

  template <int R, int T>
  static void tile(const MatmulJob& job, int64_t r0, int64_t t0) {
    const int8_t* w[R];
    const int8_t* x[T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const int8_t*>(job.w + (r0 + r) * job.w_stride);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) x[t] = job.xq + (t0 + t) * job.cols;
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));

    __m512i acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_si512();

    // Masked-off bytes load as 0: a weight of 0 flips to 128 but meets an x of 0.
    for (int64_t c = 0; c < job.cols; c += 64) {
      const __mmask64 m = tail_mask64(job.cols - c);
      __m512i xv[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_epi8(m, x[t] + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512i wu = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w[r] + c), flip);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], wu, xv[t]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) job.y[(t0 + t) * job.rows + r0 + r] = finish(job, r0 + r, t0 + t, acc[r][t]);
    }
  }

  // s_w * s_x * sum(w * x) from the lanes of sum((w + 128) * x). That sum may pass 2^31 on
  // the way; the true sum(w * x) fits (cols is bounded in kernels.cpp), so the bias is added
  // in unsigned arithmetic, which wraps instead of overflowing.
  static float finish(const MatmulJob& job, int64_t r, int64_t t, __m512i acc) {
    const uint32_t wrapped = hsum_wrapping(acc) + static_cast<uint32_t>(job.xbias[t]);
    return job.w_scales[r] * job.xd[t] * static_cast<float>(static_cast<int32_t>(wrapped));
  }

  // Decode: one row with the sign trick on 32-byte vectors, four accumulators. (Measured:
  // faster than 64-byte vectors here, whose loads from unaligned rows always straddle two
  // cache lines.) The lanes hold the exact sum(w * x), so no bias is needed.
  static float row(const MatmulJob& job, int64_t r) {
    const int8_t* w = reinterpret_cast<const int8_t*>(job.w + r * job.w_stride);
    const int8_t* x = job.xq;
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    int64_t c = 0;
    for (; c + 128 <= job.cols; c += 128) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + c + 32 * k));
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c + 32 * k));
        acc[k] = _mm256_dpbusd_epi32(acc[k], _mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
      }
    }
    for (; c < job.cols; c += 32) {  // masked-off bytes load as 0 and add 0
      const __mmask32 m = static_cast<__mmask32>(tail_mask64(job.cols - c < 32 ? job.cols - c : 32));
      const __m256i wv = _mm256_maskz_loadu_epi8(m, w + c);
      const __m256i xv = _mm256_maskz_loadu_epi8(m, x + c);
      acc[0] = _mm256_dpbusd_epi32(acc[0], _mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
    }
    const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(acc[0], acc[1]), _mm256_add_epi32(acc[2], acc[3]));
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
    return job.w_scales[r] * job.xd[0] * static_cast<float>(_mm_cvtsi128_si32(q));
  }
};

// Prefill tiles are 4 rows x 4 tokens: 16 accumulators plus 4 X vectors and a W vector fit
// the 32 vector registers. (Q8_0 keeps 4 biases and 4 X scales instead of the X vectors; 4 x 5
// and 4 x 6 tiles spill and measured 15-25% slower, 3 x 8 and 2 x 8 over 30% slower.)
template <class K>
constexpr RowsFn rows = rows_by_shape<K, 4, 4>;

// ---- dot and axpy ---------------------------------------------------------------------

float dot(const float* a, const float* b, int64_t n) {
  // Four independent accumulators hide the FMA latency.
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16 * k), _mm512_loadu_ps(b + i + 16 * k), acc[k]);
    }
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask16(n - i < 16 ? n - i : 16);
    acc[0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc[0]);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 m = tail_mask16(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// T tokens x 64 columns of accumulators (4T zmm registers) stay in registers over all k
// rows: each row's 4 weight vectors are loaded once and used by every token of the tile.
template <int T>
void panel_tile(const float* a, int64_t a_stride, const float* w, int64_t w_stride, int64_t k, float* y,
                int64_t y_stride, int64_t len) {
  int64_t j = 0;
  for (; j + 64 <= len; j += 64) {
    __m512 acc[T][4];
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < 4; ++q) acc[t][q] = _mm512_loadu_ps(y + t * y_stride + j + 16 * q);
    }
    for (int64_t i = 0; i < k; ++i) {
      const float* wi = w + i * w_stride + j;
      const __m512 w0 = _mm512_loadu_ps(wi), w1 = _mm512_loadu_ps(wi + 16), w2 = _mm512_loadu_ps(wi + 32),
                   w3 = _mm512_loadu_ps(wi + 48);
      for (int t = 0; t < T; ++t) {
        const __m512 b = _mm512_set1_ps(a[t * a_stride + i]);
        acc[t][0] = _mm512_fmadd_ps(b, w0, acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(b, w1, acc[t][1]);
        acc[t][2] = _mm512_fmadd_ps(b, w2, acc[t][2]);
        acc[t][3] = _mm512_fmadd_ps(b, w3, acc[t][3]);
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < 4; ++q) _mm512_storeu_ps(y + t * y_stride + j + 16 * q, acc[t][q]);
    }
  }
  for (; j < len; j += 16) {
    const __mmask16 m = tail_mask16(len - j < 16 ? len - j : 16);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_maskz_loadu_ps(m, y + t * y_stride + j);
    for (int64_t i = 0; i < k; ++i) {
      const __m512 wv = _mm512_maskz_loadu_ps(m, w + i * w_stride + j);
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(a[t * a_stride + i]), wv, acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride + j, m, acc[t]);
  }
}

void accumulate_panel(const float* a, int64_t a_stride, int64_t tokens, const float* w, int64_t w_stride, int64_t k,
                      float* y, int64_t y_stride, int64_t len) {
  int64_t t = 0;
  for (; t + 4 <= tokens; t += 4) panel_tile<4>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
  switch (tokens - t) {
    case 3: return panel_tile<3>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
    case 2: return panel_tile<2>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
    case 1: return panel_tile<1>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
    default: return;
  }
}

}  // namespace

namespace {
constexpr IsaKernels kAvx512{rows<FloatTile<F32Weights>>,
                             rows<FloatTile<F16Weights>>,
                             rows<Q8Tile>,
                             rows<I8Tile>,
                             avx2_quantize_q8_0,
                             avx2_quantize_i8,
                             dot,
                             axpy,
                             accumulate_panel,
                             avx2_widen_f16,
                             avx2_widen_q8_0};
}  // namespace

const IsaKernels& avx512_kernels() { return kAvx512; }

}  // namespace lv::kernels_detail
