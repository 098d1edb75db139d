// libFuzzer target: decoding untrusted JPEG and PNG bytes, as `lightvault mark` and `detect`
// do. Every input gives an image or an error, never a crash; what decodes must encode and
// decode again to the same size.
#include <cstdint>
#include <string_view>

#include "lightvault/mark/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto image = lv::mark::decode_image(bytes, "input");
  if (!image.ok()) return 0;
  if (image->pixels.size() != static_cast<size_t>(image->width) * image->height * image->channels) __builtin_trap();
  // Re-encoding large images costs the fuzzer more time than it finds bugs.
  if (static_cast<int64_t>(image->width) * image->height > (1 << 16)) return 0;
  auto encoded = lv::mark::encode_image(*image);
  if (!encoded.ok()) __builtin_trap();
  auto again = lv::mark::decode_image(*encoded, "re-encoded");
  if (!again.ok() || again->width != image->width || again->height != image->height) __builtin_trap();
  return 0;
}
