// The public kernels: pick an instruction set once, quantize X when the weights are int8,
// then split the weight rows over the threads (thread_pool.h). The arithmetic itself lives in
// kernels_scalar.cpp, kernels_avx2.cpp and kernels_avx512.cpp.
//
// This file is compiled for baseline x86-64, so it may run on any CPU: it only asks the CPU
// what it has and never executes AVX itself.
#include "lightvault/tensor/kernels.h"

#include <cpuid.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lightvault/tensor/kernels_internal.h"
#include "lightvault/tensor/thread_pool.h"

namespace lv {
namespace kernels_detail {

int parse_isa(const char* name) {
  if (name == nullptr) return -1;
  if (std::strcmp(name, "scalar") == 0) return static_cast<int>(Isa::Scalar);
  if (std::strcmp(name, "avx2") == 0) return static_cast<int>(Isa::Avx2);
  if (std::strcmp(name, "avx512") == 0) return static_cast<int>(Isa::Avx512);
  return -1;
}

const IsaKernels& kernels_for(int isa) {
  switch (static_cast<Isa>(isa)) {
    case Isa::Avx512: return avx512_kernels();
    case Isa::Avx2: return avx2_kernels();
    case Isa::Scalar: break;
  }
  return scalar_kernels();
}

}  // namespace kernels_detail

namespace {

using kernels_detail::IsaKernels;
using kernels_detail::MatmulJob;

// F16C is asked of CPUID directly: clang 14's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

bool cpu_has(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    case Isa::Avx512:
      // The AVX-512 file is built with F/BW/VL/DQ/VNNI and also uses AVX2+FMA+F16C code
      // (its X quantizer), so all of them must be there. Every AVX-512 VNNI CPU has DQ.
      return cpu_has(Isa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

Isa best_isa() {
  if (cpu_has(Isa::Avx512)) return Isa::Avx512;
  if (cpu_has(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

// The best ISA, or what LV_ISA asks for when the CPU has it.
Isa initial_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("LV_ISA");
  if (env == nullptr || *env == '\0') return best;
  const int wanted = kernels_detail::parse_isa(env);
  if (wanted < 0) {
    std::fprintf(stderr, "lightvault: LV_ISA=%s is not one of scalar, avx2, avx512; using %s\n", env,
                 isa_name(best));
    return best;
  }
  if (!cpu_has(static_cast<Isa>(wanted))) {
    std::fprintf(stderr, "lightvault: LV_ISA=%s but this CPU lacks it; using %s\n", env, isa_name(best));
    return best;
  }
  return static_cast<Isa>(wanted);
}

// -1 until first use; written by force_isa. Any thread may race to initialize: all compute
// the same value.
std::atomic<int> g_isa{-1};

const IsaKernels& active_kernels() { return kernels_detail::kernels_for(static_cast<int>(active_isa())); }

// Below this many multiply-adds a call runs on the calling thread: waking other threads
// costs a few microseconds, more than the work itself.
constexpr int64_t kMinParallelWork = 64 * 1024;

// Weight rows per unit of parallel work: a multiple of every kernel's register tile (4) so
// that only the last unit has a ragged edge.
constexpr int64_t kRowsPerUnit = 16;

// I8 kernels sum a whole row of int8 products in int32, and the X quantizers keep
// 128 * sum(x) in int32 too: 128 * 127 * kMaxI8Cols < 2^31. (Q8_0 sums only 32 products.)
constexpr int64_t kMaxI8Cols = 131072;

[[noreturn]] void fail(const char* what, const Tensor& W) {
  std::fprintf(stderr, "lightvault: matmul: %s (%s weight %lld x %lld)\n", what,
               std::string(dtype_name(W.dtype)).c_str(), static_cast<long long>(W.rows),
               static_cast<long long>(W.cols));
  std::abort();
}

// Callers (the runtime) check shapes when they load a model; a violation here is a bug.
void check_preconditions(const Tensor& W) {
  if (W.data == nullptr) fail("weight has no data", W);
  if (W.dtype == DType::Q8_0 && W.cols % kQ8BlockSize != 0) fail("Q8_0 needs cols to be a multiple of 32", W);
  if (W.dtype == DType::I8 && W.scales == nullptr) fail("I8 weight has no scales", W);
  if (W.dtype == DType::I8 && W.cols > kMaxI8Cols) fail("I8 rows longer than 131072 would overflow int32", W);
}

// Scratch for quantized X, owned by the calling thread and reused across calls so that
// decode (one call per weight matrix per token) does not allocate.
struct QuantScratch {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> bias;
};

void run_matmul(const IsaKernels& k, const Tensor& W, const float* X, int64_t n, float* Y) {
  if (W.rows <= 0 || n <= 0) return;
  check_preconditions(W);

  MatmulJob job;
  job.w = static_cast<const uint8_t*>(W.data);
  job.w_stride = row_bytes(W.dtype, W.cols);
  job.w_scales = W.scales;
  job.rows = W.rows;
  job.cols = W.cols;
  job.n = n;
  job.x = X;
  job.y = Y;

  kernels_detail::RowsFn rows_fn = nullptr;
  kernels_detail::QuantizeQ8Fn quantize_q8 = nullptr;
  kernels_detail::QuantizeI8Fn quantize_i8 = nullptr;
  int64_t scales_per_row = 0;  // entries of xd per token
  switch (W.dtype) {
    case DType::F32: rows_fn = k.rows_f32; break;
    case DType::F16: rows_fn = k.rows_f16; break;
    case DType::Q8_0:
      rows_fn = k.rows_q8_0;
      quantize_q8 = k.quantize_q8_0;
      scales_per_row = W.cols / kQ8BlockSize;
      break;
    case DType::I8:
      rows_fn = k.rows_i8;
      quantize_i8 = k.quantize_i8;
      scales_per_row = 1;
      break;
  }

  const bool quantized = scales_per_row > 0;
  int8_t* xq = nullptr;
  float* xd = nullptr;
  int32_t* xbias = nullptr;
  if (quantized) {
    thread_local QuantScratch scratch;
    scratch.q.resize(static_cast<size_t>(n * W.cols));
    scratch.d.resize(static_cast<size_t>(n * scales_per_row));
    scratch.bias.resize(static_cast<size_t>(n));
    job.xq = xq = scratch.q.data();
    job.xd = xd = scratch.d.data();
    job.xbias = xbias = scratch.bias.data();
  }

  // X is quantized once (tokens split over threads), then the weight rows are split; the
  // first parallel_for returns only when all of X is quantized. Small work runs here without
  // waking other threads: a wake-up costs microseconds, which a small model would pay dozens
  // of times per token.
  const int64_t work = W.rows * W.cols * n;
  auto quantize_tokens = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      if (quantize_q8 != nullptr) {
        quantize_q8(X + t * W.cols, W.cols, xq + t * W.cols, xd + t * scales_per_row);
      } else {
        quantize_i8(X + t * W.cols, W.cols, xq + t * W.cols, xd + t, xbias + t);
      }
    }
  };
  // rows_fn takes one unit of rows at a time: its tiling keeps a unit's weights in cache.
  const int64_t units = (W.rows + kRowsPerUnit - 1) / kRowsPerUnit;
  auto compute_units = [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      const int64_t r0 = u * kRowsPerUnit;
      rows_fn(job, r0, r0 + kRowsPerUnit < W.rows ? r0 + kRowsPerUnit : W.rows);
    }
  };
  if (work < kMinParallelWork) {
    if (quantized) quantize_tokens(0, n);
    compute_units(0, units);
    return;
  }
  if (quantized) parallel_for(n, 1, quantize_tokens);
  parallel_for(units, 1, compute_units);
}

// matmul_transposed works on panels of W: up to kPanelRows rows x kMaxPanelCols columns
// widened to float (64 KiB, which stays in L2 while every token's coefficients for those rows
// are applied). Each thread owns whole panels' columns of dX, so no two threads write the same
// output and the result does not depend on the thread count.
constexpr int64_t kPanelRows = 64;
constexpr int64_t kMaxPanelCols = 256;

// Columns [c0, c0 + count) of row r of W as floats; for Q8_0, c0 and count are multiples of 32.
void widen_columns(const IsaKernels& k, const Tensor& W, int64_t r, int64_t c0, int64_t count, float* out) {
  const uint8_t* row = W.row_ptr(r);
  switch (W.dtype) {
    case DType::F32:
      std::memcpy(out, reinterpret_cast<const float*>(row) + c0, static_cast<size_t>(count) * sizeof(float));
      return;
    case DType::F16:
      k.widen_f16(reinterpret_cast<const uint16_t*>(row) + c0, count, out);
      return;
    case DType::Q8_0:
      k.widen_q8_0(reinterpret_cast<const BlockQ8_0*>(row) + c0 / kQ8BlockSize, count / kQ8BlockSize, out);
      return;
    case DType::I8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(row) + c0;
      const float s = W.scales[r];
      for (int64_t c = 0; c < count; ++c) out[c] = s * q[c];
      return;
    }
  }
}

void run_matmul_transposed(const IsaKernels& k, const Tensor& W, const float* dY, int64_t n, float* dX) {
  if (n <= 0 || W.cols <= 0) return;
  if (W.rows <= 0) {
    std::memset(dX, 0, static_cast<size_t>(n * W.cols) * sizeof(float));
    return;
  }
  check_preconditions(W);
  // Narrower panels when there are few columns, so that every thread gets some (a multiple
  // of 32 keeps Q8_0 blocks whole).
  int64_t panel = kMaxPanelCols;
  while (panel > kQ8BlockSize && (W.cols + panel - 1) / panel < 2 * int64_t{parallel_threads()}) panel /= 2;
  const int64_t panels = (W.cols + panel - 1) / panel;
  auto compute_panels = [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> widened;
    widened.resize(static_cast<size_t>(kPanelRows * panel));
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c0 = p * panel, len = W.cols - c0 < panel ? W.cols - c0 : panel;
      for (int64_t t = 0; t < n; ++t) std::memset(dX + t * W.cols + c0, 0, static_cast<size_t>(len) * sizeof(float));
      for (int64_t r0 = 0; r0 < W.rows; r0 += kPanelRows) {
        const int64_t rows = W.rows - r0 < kPanelRows ? W.rows - r0 : kPanelRows;
        for (int64_t i = 0; i < rows; ++i) widen_columns(k, W, r0 + i, c0, len, widened.data() + i * panel);
        k.accumulate_panel(dY + r0, W.rows, n, widened.data(), panel, rows, dX + c0, W.cols, len);
      }
    }
  };
  if (W.rows * W.cols * n < kMinParallelWork) {
    compute_panels(0, panels);
    return;
  }
  parallel_for(panels, 1, compute_panels);
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

Isa active_isa() {
  int isa = g_isa.load(std::memory_order_relaxed);
  if (isa < 0) {
    isa = static_cast<int>(initial_isa());
    int expected = -1;
    // Keep a force_isa that ran meanwhile.
    if (!g_isa.compare_exchange_strong(expected, isa)) isa = expected;
  }
  return static_cast<Isa>(isa);
}

Isa force_isa(Isa isa) {
  if (!cpu_has(isa)) return active_isa();
  g_isa.store(static_cast<int>(isa));
  return isa;
}

void matmul(const Tensor& W, const float* X, int64_t n, float* Y) { run_matmul(active_kernels(), W, X, n, Y); }

void matmul_transposed(const Tensor& W, const float* dY, int64_t n, float* dX) {
  run_matmul_transposed(active_kernels(), W, dY, n, dX);
}

float dot(const float* a, const float* b, int64_t n) { return active_kernels().dot(a, b, n); }

void axpy(float a, const float* x, float* y, int64_t n) { active_kernels().axpy(a, x, y, n); }

}  // namespace lv
