// libFuzzer target: reading the GB 45438 AIGC field from untrusted JPEG/PNG bytes (exiv2's
// JPEG, PNG and XMP parsers, then our JSON reading), as `lightvault detect` does. Every input
// gives the field, nothing, or an error; never a crash.
#include <cstdint>
#include <string_view>

#include "lightvault/mark/aigc_metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto fields = lv::mark::read_aigc_metadata(bytes, "input");
  if (fields.ok() && fields->has_value()) {
    // What was read writes out and parses back the same.
    auto again = lv::mark::parse_aigc_json(lv::mark::aigc_json(**fields), "again");
    if (!again.ok() || !(*again == **fields)) __builtin_trap();
  }
  (void)lv::mark::parse_aigc_json(bytes, "json");
  return 0;
}
