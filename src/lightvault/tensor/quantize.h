#pragma once
// Symmetric uniform INT8 quantization: zero point 0, scale = max|w| / 127, round to nearest
// (halves away from zero), values in [-127, 127]. Per block of 32 values this is exactly
// GGUF's Q8_0 (llama.cpp's quantize_row_q8_0_ref), whose scale is stored as float16.
#include <cstdint>

#include "lightvault/tensor/tensor.h"

namespace lv {

// Quantizes n floats (n a multiple of 32) into n/32 Q8_0 blocks.
void quantize_row_q8_0(const float* x, BlockQ8_0* out, int64_t n);

// Quantizes n floats to int8 with one scale for the row; returns the scale.
float quantize_row_i8(const float* x, int8_t* out, int64_t n);

// A new heap tensor holding `t` (any dtype) quantized to Q8_0; t.cols must be a multiple of 32.
Tensor quantize_q8_0(const Tensor& t);

// An I8 tensor (one scale per row, cols a multiple of 32) re-encoded as Q8_0 without
// requantizing: every block keeps the row's int8 values and takes the row's scale (rounded
// to float16), so per-channel and per-tensor weights survive a trip through GGUF.
Tensor i8_as_q8_0(const Tensor& t);

}  // namespace lv
