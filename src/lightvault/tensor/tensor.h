#pragma once
// A named, typed, immutable view of a weight tensor. Model weights are 1-D or 2-D; a 2-D
// tensor is `rows` rows of `cols` contiguous elements (the GGUF ne[0] is `cols`). The data
// may live in a memory mapping or on the heap; `owner` keeps it alive either way.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lightvault/tensor/dtype.h"

namespace lv {

struct Tensor {
  DType dtype = DType::F32;
  int64_t rows = 0;  // 1 for a vector
  int64_t cols = 0;
  const void* data = nullptr;
  const float* scales = nullptr;  // I8 only: one scale per row
  std::shared_ptr<const void> owner;

  bool empty() const { return data == nullptr; }
  int64_t numel() const { return rows * cols; }
  size_t nbytes() const { return static_cast<size_t>(rows) * row_bytes(dtype, cols); }
  const uint8_t* row_ptr(int64_t r) const {
    return static_cast<const uint8_t*>(data) + static_cast<size_t>(r) * row_bytes(dtype, cols);
  }
  const float* f32() const { return static_cast<const float*>(data); }

  // A heap tensor of zeros that the caller may fill through mutable_f32().
  static Tensor zeros_f32(int64_t rows, int64_t cols);
  // Copies `values` (rows*cols floats) into a new heap tensor.
  static Tensor from_f32(int64_t rows, int64_t cols, const float* values);
  float* mutable_f32() const { return static_cast<float*>(const_cast<void*>(data)); }
};

// Writes row `r` of `t` as floats into `out` (t.cols values), whatever t's dtype.
void dequantize_row(const Tensor& t, int64_t r, float* out);
// The whole tensor as floats (rows*cols values).
std::vector<float> to_f32(const Tensor& t);

}  // namespace lv
