// Matmul throughput per instruction set and weight type, at Llama-7B layer shapes:
// 4096 x 4096 (attention projections) and 11008 x 4096 (MLP up/gate), for decode (n = 1) and
// prefill (n = 64). Counters:
//   W_read  weight bytes read per second (each weight byte is read once per call), the
//           figure that decides decode speed: it should approach memread below.
//   FLOPS   2 * rows * cols * n per second (int8 multiply-adds for Q8_0 and I8).
// membw/read is the roofline: how fast all threads can stream a 512 MiB buffer.
// The incache/ runs (1024 x 1024, n = 1: at most 4 MiB, mostly in L2/L3) show how fast the
// kernels compute when memory is not the limit; decode is memory-bound when this is well
// above membw/read.
//
// backward/ runs lv::matmul_transposed (dX = dY·W, the backward pass's product) at the 7B
// MLP shape with n = 128 tokens (one calibration chunk), beside backward_peer/, what the
// backward pass did before it: a transposed F32 copy of W, then lv::matmul with it.
//
// Run: kernels_bench [--benchmark_filter=avx512] ; OMP_NUM_THREADS sets the thread count.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lightvault/tensor/kernels.h"
#include "lightvault/tensor/quantize.h"
#include "lightvault/tensor/thread_pool.h"

namespace {

using lv::DType;
using lv::Isa;
using lv::Tensor;

struct Shape {
  int64_t rows;
  int64_t cols;
};

// `count` values uniform in [-1, 1), the same for the same seed.
std::vector<float> uniform_values(int64_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(count));
  for (auto& v : values) v = uni(rng);
  return values;
}

// Random weights of one dtype and shape; the last one made is kept, since the benchmarks of
// one shape run back to back and an 11008 x 4096 F32 matrix is 180 MB.
const Tensor& weights(DType dtype, Shape shape) {
  struct Cached {
    DType dtype;
    Shape shape;
    Tensor t;
    std::vector<float> scales;
  };
  static std::unique_ptr<Cached> cache;
  if (cache && cache->dtype == dtype && cache->shape.rows == shape.rows && cache->shape.cols == shape.cols) {
    return cache->t;
  }
  cache.reset();
  std::vector<float> values = uniform_values(shape.rows * shape.cols, 17);
  Tensor f32 = Tensor::from_f32(shape.rows, shape.cols, values.data());
  values = {};

  auto c = std::make_unique<Cached>();
  c->dtype = dtype;
  c->shape = shape;
  switch (dtype) {
    case DType::F32:
      c->t = f32;
      break;
    case DType::F16: {
      auto storage = std::shared_ptr<uint16_t[]>(new uint16_t[static_cast<size_t>(f32.numel())]);
      for (int64_t i = 0; i < f32.numel(); ++i) storage[i] = lv::f32_to_f16(f32.f32()[i]);
      c->t = f32;
      c->t.dtype = DType::F16;
      c->t.data = storage.get();
      c->t.owner = std::shared_ptr<const void>(storage, storage.get());
      break;
    }
    case DType::Q8_0:
      c->t = lv::quantize_q8_0(f32);
      break;
    case DType::I8: {
      auto storage = std::shared_ptr<int8_t[]>(new int8_t[static_cast<size_t>(f32.numel())]);
      for (int64_t r = 0; r < shape.rows; ++r) {
        c->scales.push_back(lv::quantize_row_i8(f32.f32() + r * shape.cols, storage.get() + r * shape.cols, shape.cols));
      }
      c->t = f32;
      c->t.dtype = DType::I8;
      c->t.data = storage.get();
      c->t.scales = c->scales.data();
      c->t.owner = std::shared_ptr<const void>(storage, storage.get());
      break;
    }
  }
  cache = std::move(c);
  return cache->t;
}

void BM_Matmul(benchmark::State& state, Isa isa, DType dtype, Shape shape, int64_t n) {
  if (lv::force_isa(isa) != isa) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  const Tensor& w = weights(dtype, shape);
  const std::vector<float> x = uniform_values(n * shape.cols, 3);
  std::vector<float> y(static_cast<size_t>(n * shape.rows));

  for (auto _ : state) {
    lv::matmul(w, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(w.nbytes()) + (dtype == DType::I8 ? 4.0 * shape.rows : 0.0);
  state.counters["W_read"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * shape.rows * shape.cols * n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = omp_get_max_threads();
}

void BM_MatmulTransposed(benchmark::State& state, Isa isa, DType dtype, Shape shape, int64_t n, bool copy_first) {
  if (lv::force_isa(isa) != isa) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  const Tensor& w = weights(dtype, shape);
  const std::vector<float> dy = uniform_values(n * shape.rows, 5);
  std::vector<float> dx(static_cast<size_t>(n * shape.cols));
  for (auto _ : state) {
    if (copy_first) {  // the backward pass's former transposed_f32, 64 rows of W per task
      Tensor t = Tensor::zeros_f32(shape.cols, shape.rows);
      float* out = t.mutable_f32();
      constexpr int64_t kBlock = 64;
      lv::parallel_for((shape.rows + kBlock - 1) / kBlock, 1, [&](int64_t first, int64_t last) {
        std::vector<float> rows(static_cast<size_t>(kBlock * shape.cols));
        for (int64_t b = first; b < last; ++b) {
          const int64_t r0 = b * kBlock, m = std::min(kBlock, shape.rows - r0);
          for (int64_t i = 0; i < m; ++i) lv::dequantize_row(w, r0 + i, &rows[i * shape.cols]);
          for (int64_t c = 0; c < shape.cols; ++c) {
            for (int64_t i = 0; i < m; ++i) out[c * shape.rows + r0 + i] = rows[i * shape.cols + c];
          }
        }
      });
      lv::matmul(t, dy.data(), n, dx.data());
    } else {
      lv::matmul_transposed(w, dy.data(), n, dx.data());
    }
    benchmark::DoNotOptimize(dx.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOPS"] =
      benchmark::Counter(2.0 * shape.rows * shape.cols * n, benchmark::Counter::kIsIterationInvariantRate);
}

// All threads each stream their share of one buffer (lv::dot of the share with itself, so
// every byte is loaded once): the memory bandwidth that decode can at best reach.
void BM_MemRead(benchmark::State& state) {
  const int64_t n = 128ll << 20;  // floats: 512 MiB, far beyond any cache
  std::vector<float> buf(static_cast<size_t>(n), 1.0f);
  float sink = 0.0f;
  for (auto _ : state) {
#pragma omp parallel reduction(+ : sink)
    {
      const int64_t share = n / omp_get_num_threads();
      const float* p = buf.data() + share * omp_get_thread_num();
      sink += lv::dot(p, p, share);
    }
    benchmark::DoNotOptimize(sink);
  }
  state.counters["read"] = benchmark::Counter(4.0 * n, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = omp_get_max_threads();
}

void register_all() {
  benchmark::RegisterBenchmark("membw/read", BM_MemRead)->UseRealTime()->Unit(benchmark::kMillisecond);
  const Shape shapes[] = {{4096, 4096}, {11008, 4096}};
  const DType dtypes[] = {DType::F32, DType::F16, DType::Q8_0, DType::I8};
  for (DType dtype : dtypes) {
    for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
      const std::string name = std::string("incache/") + lv::isa_name(isa) + "/" + std::string(dtype_name(dtype)) + "/1024x1024/n:1";
      benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, isa, dtype, Shape{1024, 1024}, int64_t{1})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (DType dtype : {DType::F32, DType::Q8_0}) {
    for (bool copy_first : {false, true}) {
      const std::string name = std::string(copy_first ? "backward_peer/copy_transposed_f32+matmul/" : "backward/") +
                               lv::isa_name(lv::active_isa()) + "/" + std::string(dtype_name(dtype)) + "/11008x4096/n:128";
      benchmark::RegisterBenchmark(name.c_str(), BM_MatmulTransposed, lv::active_isa(), dtype, Shape{11008, 4096},
                                   int64_t{128}, copy_first)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  // Shape outermost so that the cached weights are rebuilt once per shape and dtype.
  for (const Shape& shape : shapes) {
    for (DType dtype : dtypes) {
      for (Isa isa : {Isa::Avx512, Isa::Avx2, Isa::Scalar}) {
        for (int64_t n : {1, 64}) {
          const std::string name = std::string("matmul/") + lv::isa_name(isa) + "/" + std::string(dtype_name(dtype)) + "/" +
                                   std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
                                   "/n:" + std::to_string(n);
          benchmark::RegisterBenchmark(name.c_str(), BM_Matmul, isa, dtype, shape, n)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
