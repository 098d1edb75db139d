#include "lightvault/tensor/quantize.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace lv {

void quantize_row_q8_0(const float* x, BlockQ8_0* out, int64_t n) {
  for (int64_t b = 0; b < n / kQ8BlockSize; ++b) {
    const float* v = x + b * kQ8BlockSize;
    float amax = 0.0f;
    for (int i = 0; i < kQ8BlockSize; ++i) amax = std::fmax(amax, std::fabs(v[i]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int i = 0; i < kQ8BlockSize; ++i) out[b].qs[i] = static_cast<int8_t>(std::lround(v[i] * id));
  }
}

float quantize_row_i8(const float* x, int8_t* out, int64_t n) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    long q = std::lround(x[i] * id);
    out[i] = static_cast<int8_t>(q > 127 ? 127 : (q < -127 ? -127 : q));
  }
  return d;
}

Tensor quantize_q8_0(const Tensor& t) {
  size_t bytes = t.nbytes() == 0 ? 0 : static_cast<size_t>(t.rows) * row_bytes(DType::Q8_0, t.cols);
  auto storage = std::shared_ptr<uint8_t[]>(new uint8_t[bytes]);
  std::vector<float> row(static_cast<size_t>(t.cols));
  for (int64_t r = 0; r < t.rows; ++r) {
    dequantize_row(t, r, row.data());
    quantize_row_q8_0(row.data(), reinterpret_cast<BlockQ8_0*>(storage.get() + r * row_bytes(DType::Q8_0, t.cols)),
                      t.cols);
  }
  Tensor q;
  q.dtype = DType::Q8_0;
  q.rows = t.rows;
  q.cols = t.cols;
  q.data = storage.get();
  q.owner = std::shared_ptr<const void>(storage, storage.get());
  return q;
}

Tensor i8_as_q8_0(const Tensor& t) {
  const size_t row = row_bytes(DType::Q8_0, t.cols);
  auto storage = std::shared_ptr<uint8_t[]>(new uint8_t[static_cast<size_t>(t.rows) * row]);
  for (int64_t r = 0; r < t.rows; ++r) {
    auto* blocks = reinterpret_cast<BlockQ8_0*>(storage.get() + r * row);
    const int8_t* q = reinterpret_cast<const int8_t*>(t.row_ptr(r));
    const uint16_t d = f32_to_f16(t.scales[r]);
    for (int64_t b = 0; b < t.cols / kQ8BlockSize; ++b) {
      blocks[b].d = d;
      std::memcpy(blocks[b].qs, q + b * kQ8BlockSize, kQ8BlockSize);
    }
  }
  Tensor out;
  out.dtype = DType::Q8_0;
  out.rows = t.rows;
  out.cols = t.cols;
  out.data = storage.get();
  out.owner = std::shared_ptr<const void>(storage, storage.get());
  return out;
}

}  // namespace lv
