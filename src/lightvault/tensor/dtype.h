#pragma once
// Element types of weights and their storage layouts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace lv {

enum class DType : uint8_t {
  F32,   // IEEE float32
  F16,   // IEEE float16
  Q8_0,  // GGUF Q8_0: blocks of 32 values, each block {f16 scale d; int8 q[32]}, value = d*q
  I8,    // int8 rows with one float32 scale per row (per-channel; per-tensor = all scales equal)
};

constexpr int kQ8BlockSize = 32;
struct BlockQ8_0 {
  uint16_t d;  // float16 scale
  int8_t qs[kQ8BlockSize];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match the GGUF layout");

std::string_view dtype_name(DType t);

// Bytes taken by one row of `cols` elements (cols must be a multiple of 32 for Q8_0).
// For I8 this counts only the int8 values; scales are kept apart.
inline size_t row_bytes(DType t, int64_t cols) {
  switch (t) {
    case DType::F32: return static_cast<size_t>(cols) * 4;
    case DType::F16: return static_cast<size_t>(cols) * 2;
    case DType::Q8_0: return static_cast<size_t>(cols / kQ8BlockSize) * sizeof(BlockQ8_0);
    case DType::I8: return static_cast<size_t>(cols);
  }
  return 0;
}

// IEEE half <-> float, exact for every half value (round-to-nearest-even on the way down).
inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while ((mant & 0x400) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // overflow -> inf
  if (abs < 0x38800000u) {  // subnormal or zero in half
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t mant = (abs & 0x7fffff) | 0x800000;
    int shift = 113 - static_cast<int>(abs >> 23) + 13;  // 126 - e + 13 where half subnormal
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = ((abs >> 13) - ((127 - 15) << 10));
  uint32_t rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(sign | half);
}

}  // namespace lv
