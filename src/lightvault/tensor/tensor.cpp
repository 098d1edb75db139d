#include "lightvault/tensor/tensor.h"

#include <cstring>

namespace lv {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::Q8_0: return "Q8_0";
    case DType::I8: return "I8";
  }
  return "?";
}

Tensor Tensor::zeros_f32(int64_t rows, int64_t cols) {
  auto storage = std::shared_ptr<float[]>(new float[static_cast<size_t>(rows * cols)]());
  Tensor t;
  t.dtype = DType::F32;
  t.rows = rows;
  t.cols = cols;
  t.data = storage.get();
  t.owner = std::shared_ptr<const void>(storage, storage.get());
  return t;
}

Tensor Tensor::from_f32(int64_t rows, int64_t cols, const float* values) {
  Tensor t = zeros_f32(rows, cols);
  std::memcpy(t.mutable_f32(), values, static_cast<size_t>(rows * cols) * sizeof(float));
  return t;
}

void dequantize_row(const Tensor& t, int64_t r, float* out) {
  if (t.cols == 0 || t.data == nullptr) return;
  const uint8_t* p = t.row_ptr(r);
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(out, p, static_cast<size_t>(t.cols) * 4);
      return;
    case DType::F16: {
      const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
      for (int64_t c = 0; c < t.cols; ++c) out[c] = f16_to_f32(h[c]);
      return;
    }
    case DType::Q8_0: {
      const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(p);
      for (int64_t blk = 0; blk < t.cols / kQ8BlockSize; ++blk) {
        float d = f16_to_f32(b[blk].d);
        for (int i = 0; i < kQ8BlockSize; ++i) out[blk * kQ8BlockSize + i] = d * b[blk].qs[i];
      }
      return;
    }
    case DType::I8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(p);
      float s = t.scales[r];
      for (int64_t c = 0; c < t.cols; ++c) out[c] = s * q[c];
      return;
    }
  }
}

std::vector<float> to_f32(const Tensor& t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  for (int64_t r = 0; r < t.rows; ++r) dequantize_row(t, r, out.data() + r * t.cols);
  return out;
}

}  // namespace lv
