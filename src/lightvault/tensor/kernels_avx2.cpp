// AVX2 + FMA + F16C kernels (Haswell and later, Zen and later).
//
// The build also passes -mavxvnni to this file, but the Avx2 path must run on CPUs without
// AVX-VNNI (Zen 2/3, Skylake...), and GCC may emit VNNI dot-product instructions for plain
// vectorized loops once it is enabled. So it is switched off for the whole file here.
#pragma GCC target("no-avxvnni")

#include <immintrin.h>

#include "lightvault/tensor/kernels_internal.h"

namespace lv::kernels_detail {
namespace {

// ---- small helpers ---------------------------------------------------------------------
// Scalar math uses the __builtin_ forms rather than std:: wrappers, which are inline
// functions shared with baseline code (see kernels_internal.h).

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Sum of 32 products int8 x int8 as 8 int32 lanes. maddubs wants unsigned x signed, so move
// the sign of w onto x: |w| * (x * sign(w)) == w * x. Pairs of products fit int16 without
// saturation because |x| <= 127: 2 * 128 * 127 < 32767.
__m256i dot_i8x32(__m256i w, __m256i x) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// ---- quantization of X (bit-exact with quantize_row_q8_0 / quantize_row_i8) --------------

// std::lround of each lane: nearest integer, halves away from zero. v - trunc(v) is exact in
// float, so comparing it with 0.5 decides exactly as lround does (v + 0.5 would not).
__m256i round_half_away(__m256 v) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 plus_minus_one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
  return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, plus_minus_one)));
}

__m256 abs8(const float* x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_loadu_ps(x)); }

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float max_abs32(const float* x) {
  return hmax(_mm256_max_ps(_mm256_max_ps(abs8(x), abs8(x + 8)), _mm256_max_ps(abs8(x + 16), abs8(x + 24))));
}

float max_abs(const float* x, int64_t n) {
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, abs8(x + i));
  float amax = hmax(m);
  for (; i < n; ++i) amax = __builtin_fmaxf(amax, __builtin_fabsf(x[i]));
  return amax;
}

// Rounds 32 floats times `id` to int8 at q; returns their sum.
int32_t quantize32(const float* x, __m256 id, int8_t* q) {
  __m256i v[4];
  for (int k = 0; k < 4; ++k) v[k] = round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id));
  const __m256i sum = _mm256_add_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3]));
  // |values| <= 127 (|x| <= amax), so the saturating packs are exact. They interleave
  // 128-bit lanes; the permute puts the 32 bytes back in order.
  const __m256i packed =
      _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
  const __m256i ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), ordered);
  return hsum(sum);
}

void quantize_q8_0(const float* x, int64_t cols, int8_t* q, float* d) {
  for (int64_t b = 0; b < cols / kQ8BlockSize; ++b) {
    const float* v = x + b * kQ8BlockSize;
    const float scale = max_abs32(v) / 127.0f;
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    quantize32(v, _mm256_set1_ps(inv), q + b * kQ8BlockSize);
    // Q8_0 stores the scale as float16; the dot product uses that rounded value.
    d[b] = _cvtsh_ss(_cvtss_sh(scale, _MM_FROUND_TO_NEAREST_INT));
  }
}

void quantize_i8(const float* x, int64_t cols, int8_t* q, float* d, int32_t* bias) {
  const float scale = max_abs(x, cols) / 127.0f;
  const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
  int32_t sum = 0;
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) sum += quantize32(x + c, _mm256_set1_ps(inv), q + c);
  for (; c < cols; ++c) {
    const long v = __builtin_lroundf(x[c] * inv);
    q[c] = static_cast<int8_t>(v > 127 ? 127 : (v < -127 ? -127 : v));
    sum += q[c];
  }
  d[0] = scale;
  bias[0] = -128 * sum;
}

// ---- F32 and F16 weights -------------------------------------------------------------

struct F32Weights {
  static constexpr int kDecodeRows = 4;  // see rows_by_shape
  static __m256 load8(const uint8_t* row, int64_t c) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c); }
  static float load1(const uint8_t* row, int64_t c) { return reinterpret_cast<const float*>(row)[c]; }
};

struct F16Weights {
  static constexpr int kDecodeRows = 1;
  static __m256 load8(const uint8_t* row, int64_t c) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  }
  static float load1(const uint8_t* row, int64_t c) { return half_to_float(reinterpret_cast<const uint16_t*>(row)[c]); }
};

// R weight rows x T tokens of float dot products. Each step loads T vectors of X and R of W
// and does R*T multiply-adds, all accumulators in registers.
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

    __m256 acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();

    int64_t c = 0;
    for (; c + 8 <= job.cols; c += 8) {
      __m256 xv[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x[t] + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 wv = Weights::load8(w[r], c);
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        float sum = hsum(acc[r][t]);
        for (int64_t k = c; k < job.cols; ++k) sum = __builtin_fmaf(Weights::load1(w[r], k), x[t][k], sum);
        job.y[(t0 + t) * job.rows + r0 + r] = sum;
      }
    }
  }

  // Decode: one row against X with four accumulators, so that the FMA latency never holds
  // up the stream of weight loads.
  static float row(const MatmulJob& job, int64_t r) {
    const uint8_t* w = job.w + r * job.w_stride;
    const float* x = job.x;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t c = 0;
    for (; c + 32 <= job.cols; c += 32) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        acc[k] = _mm256_fmadd_ps(Weights::load8(w, c + 8 * k), _mm256_loadu_ps(x + c + 8 * k), acc[k]);
      }
    }
    for (; c + 8 <= job.cols; c += 8) acc[0] = _mm256_fmadd_ps(Weights::load8(w, c), _mm256_loadu_ps(x + c), acc[0]);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    for (; c < job.cols; ++c) sum = __builtin_fmaf(Weights::load1(w, c), x[c], sum);
    return sum;
  }
};

// ---- Q8_0 weights: per block of 32, d_w * d_x * (int8 dot) -------------------------------

struct Q8Tile {
  static constexpr int kDecodeRows = 1;

  template <int R, int T>
  static void tile(const MatmulJob& job, int64_t r0, int64_t t0) {
    const int64_t nb = job.cols / kQ8BlockSize;
    const BlockQ8_0* w[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) w[r] = reinterpret_cast<const BlockQ8_0*>(job.w + (r0 + r) * job.w_stride);
    const int8_t* xq = job.xq + t0 * job.cols;
    const float* xd = job.xd + t0 * nb;

    __m256 acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();

    for (int64_t b = 0; b < nb; ++b) {
      __m256 dx[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) dx[t] = _mm256_set1_ps(xd[t * nb + b]);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r][b].qs));
        const __m256 dw = _mm256_set1_ps(half_to_float(w[r][b].d));
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + t * job.cols + b * kQ8BlockSize));
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8x32(wv, xv)), _mm256_mul_ps(dw, dx[t]), acc[r][t]);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) job.y[(t0 + t) * job.rows + r0 + r] = hsum(acc[r][t]);
  }

  static __m256 block(const BlockQ8_0& w, const int8_t* x, float dx, __m256 acc) {
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_i8x32(wv, xv)), _mm256_set1_ps(half_to_float(w.d) * dx), acc);
  }

  // Decode: one row, four accumulators (one per block of a group of four).
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

    __m256i acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_si256();

    int64_t c = 0;
    for (; c + 32 <= job.cols; c += 32) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + c));
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[t] + c));
          acc[r][t] = _mm256_add_epi32(acc[r][t], dot_i8x32(wv, xv));
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t sum = hsum(acc[r][t]);
        for (int64_t k = c; k < job.cols; ++k) sum += w[r][k] * x[t][k];
        job.y[(t0 + t) * job.rows + r0 + r] = job.w_scales[r0 + r] * job.xd[t0 + t] * static_cast<float>(sum);
      }
    }
  }

  // Decode: one row, four accumulators of 32 bytes each.
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
        acc[k] = _mm256_add_epi32(acc[k], dot_i8x32(wv, xv));
      }
    }
    for (; c + 32 <= job.cols; c += 32) {
      const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + c));
      acc[0] = _mm256_add_epi32(acc[0], dot_i8x32(wv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c))));
    }
    int32_t sum = hsum(_mm256_add_epi32(_mm256_add_epi32(acc[0], acc[1]), _mm256_add_epi32(acc[2], acc[3])));
    for (; c < job.cols; ++c) sum += w[c] * x[c];
    return job.w_scales[r] * job.xd[0] * static_cast<float>(sum);
  }
};

// Prefill tiles: with 16 ymm registers, 4 x 3 is the largest float tile that keeps 12
// accumulators, 3 X vectors and a W vector in registers. The int8 tiles need more registers
// per product (|w|, sign-adjusted x, partial sums), so they are 2 x 4.
template <class K>
constexpr RowsFn rows = rows_by_shape<K, 4, 3>;
template <class K>
constexpr RowsFn rows_int8 = rows_by_shape<K, 2, 4>;

// ---- dot and axpy ---------------------------------------------------------------------

float dot(const float* a, const float* b, int64_t n) {
  // Four independent accumulators hide the FMA latency.
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * k), _mm256_loadu_ps(b + i + 8 * k), acc[k]);
    }
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum = __builtin_fmaf(a[i], b[i], sum);
  return sum;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] = __builtin_fmaf(a, x[i], y[i]);
}

// T tokens x 32 columns of accumulators (4T ymm registers; T <= 3 leaves room for the
// weights) stay in registers over all k rows: each row's weights are loaded once per tile.
template <int T>
void panel_tile(const float* a, int64_t a_stride, const float* w, int64_t w_stride, int64_t k, float* y,
                int64_t y_stride, int64_t len) {
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    __m256 acc[T][4];
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < 4; ++q) acc[t][q] = _mm256_loadu_ps(y + t * y_stride + j + 8 * q);
    }
    for (int64_t i = 0; i < k; ++i) {
      const float* wi = w + i * w_stride + j;
      const __m256 w0 = _mm256_loadu_ps(wi), w1 = _mm256_loadu_ps(wi + 8), w2 = _mm256_loadu_ps(wi + 16),
                   w3 = _mm256_loadu_ps(wi + 24);
      for (int t = 0; t < T; ++t) {
        const __m256 b = _mm256_set1_ps(a[t * a_stride + i]);
        acc[t][0] = _mm256_fmadd_ps(b, w0, acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(b, w1, acc[t][1]);
        acc[t][2] = _mm256_fmadd_ps(b, w2, acc[t][2]);
        acc[t][3] = _mm256_fmadd_ps(b, w3, acc[t][3]);
      }
    }
    for (int t = 0; t < T; ++t) {
      for (int q = 0; q < 4; ++q) _mm256_storeu_ps(y + t * y_stride + j + 8 * q, acc[t][q]);
    }
  }
  for (; j + 8 <= len; j += 8) {
    __m256 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm256_loadu_ps(y + t * y_stride + j);
    for (int64_t i = 0; i < k; ++i) {
      const __m256 wv = _mm256_loadu_ps(w + i * w_stride + j);
      for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(a[t * a_stride + i]), wv, acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * y_stride + j, acc[t]);
  }
  for (; j < len; ++j) {
    for (int t = 0; t < T; ++t) {
      float acc = y[t * y_stride + j];
      for (int64_t i = 0; i < k; ++i) acc = __builtin_fmaf(a[t * a_stride + i], w[i * w_stride + j], acc);
      y[t * y_stride + j] = acc;
    }
  }
}

void accumulate_panel(const float* a, int64_t a_stride, int64_t tokens, const float* w, int64_t w_stride, int64_t k,
                      float* y, int64_t y_stride, int64_t len) {
  int64_t t = 0;
  for (; t + 3 <= tokens; t += 3) panel_tile<3>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
  switch (tokens - t) {
    case 2: return panel_tile<2>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
    case 1: return panel_tile<1>(a + t * a_stride, a_stride, w, w_stride, k, y + t * y_stride, y_stride, len);
    default: return;
  }
}

}  // namespace

void avx2_quantize_q8_0(const float* x, int64_t cols, int8_t* q, float* d) { quantize_q8_0(x, cols, q, d); }

void avx2_quantize_i8(const float* x, int64_t cols, int8_t* q, float* d, int32_t* bias) {
  quantize_i8(x, cols, q, d, bias);
}

void avx2_widen_f16(const uint16_t* h, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  }
  for (; i < n; ++i) out[i] = half_to_float(h[i]);
}

void avx2_widen_q8_0(const BlockQ8_0* blocks, int64_t n, float* out) {
  for (int64_t b = 0; b < n; ++b) {
    const __m256 d = _mm256_set1_ps(half_to_float(blocks[b].d));
    for (int k = 0; k < kQ8BlockSize; k += 8) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[b].qs + k));
      _mm256_storeu_ps(out + b * kQ8BlockSize + k, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
    }
  }
}

namespace {
constexpr IsaKernels kAvx2{rows<FloatTile<F32Weights>>,
                           rows<FloatTile<F16Weights>>,
                           rows_int8<Q8Tile>,
                           rows_int8<I8Tile>,
                           quantize_q8_0,
                           quantize_i8,
                           dot,
                           axpy,
                           accumulate_panel,
                           avx2_widen_f16,
                           avx2_widen_q8_0};
}  // namespace

const IsaKernels& avx2_kernels() { return kAvx2; }

}  // namespace lv::kernels_detail
