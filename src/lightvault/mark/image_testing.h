#pragma once
// Test helpers for mark/'s image tests (header-only, used by *_test.cpp and tests/): the shared
// photographs when present, synthetic images otherwise, and hand-built PNG chunk streams for
// the malformed files real encoders never write.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lightvault/mark/image.h"

namespace lv::mark::test_images {

// ../shared/images beside the checkout (LV_SHARED_MODELS is ../shared/models).
inline std::string shared_images_dir() { return std::string(LV_SHARED_MODELS) + "/../images"; }

inline std::vector<std::string> shared_image_paths() {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(shared_images_dir(), ec)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".png" || ext == ".jpg") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A smooth gradient with a deterministic texture, like a photo's mix of flat and busy areas.
inline Image synthetic_image(int width, int height, int channels, ImageFormat format = ImageFormat::Png) {
  Image image{width, height, channels, format, {}};
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  uint32_t noise = 12345;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      noise = noise * 1664525u + 1013904223u;
      for (int c = 0; c < channels; ++c) {
        int v = (c == 3) ? 200 + (x % 56) : (x * 255 / width + y * 128 / height + c * 40 + static_cast<int>(noise >> 28)) % 256;
        image.row(y)[x * channels + c] = static_cast<uint8_t>(v);
      }
    }
  }
  return image;
}

inline void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

// One PNG chunk: length, type, data, CRC over type and data.
inline std::string png_chunk(const std::string& type, const std::string& data) {
  std::string chunk;
  put_be32(chunk, static_cast<uint32_t>(data.size()));
  std::string body = type + data;
  chunk += body;
  put_be32(chunk, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  return chunk;
}

inline std::string zlib_compress(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 1);
  out.resize(size);
  return out;
}

// A PNG of `width` x `height` 8-bit grey pixels, all zero, whatever its size: the IDAT is
// `rows` zero rows compressed (a decompression bomb when width*height is huge), plus `extra`
// chunks before it.
inline std::string grey_png(uint32_t width, uint32_t height, uint32_t rows, const std::string& extra = "") {
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // depth 8, grey, deflate, filter 0, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  png += png_chunk("IHDR", ihdr);
  png += extra;
  png += png_chunk("IDAT", zlib_compress(std::string(static_cast<size_t>(rows) * (width + 1), '\0')));
  png += png_chunk("IEND", "");
  return png;
}

}  // namespace lv::mark::test_images
