#pragma once
// A decoded 8-bit image and its reading and writing as JPEG (libjpeg-turbo) and PNG (libpng).
// Contract: pixels are interleaved, row-major, top row first, `channels` bytes per pixel
// (1 grey, 3 RGB, 4 RGBA), so pixels.size() == width * height * channels. Readers refuse
// images over kMaxImagePixels before allocating, and every error names the file and what is
// wrong: "FILE: truncated JPEG data", "FILE: PNG width 100000 x 100000 over the limit".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::mark {

enum class ImageFormat { Jpeg, Png };

// 1 << 28 pixels (16384 x 16384): larger than any camera or generator output, small enough
// that a hostile header cannot make us allocate gigabytes.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1, 3 or 4
  ImageFormat format = ImageFormat::Png;  // the format it was read from; written back as such
  std::vector<uint8_t> pixels;

  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * channels; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * channels; }
};

struct ImageWriteOptions {
  int jpeg_quality = 95;        // 1..100
  bool jpeg_chroma_444 = true;  // false: 4:2:0 subsampling
};

// Decodes JPEG or PNG bytes (chosen by signature); `name` is the context of errors.
Result<Image> decode_image(std::string_view bytes, const std::string& name);
// Encodes in image.format. RGBA written as JPEG loses its alpha (JPEG has none).
Result<std::string> encode_image(const Image& image, const ImageWriteOptions& options = {});

}  // namespace lv::mark
