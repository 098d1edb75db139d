// libFuzzer target: the scan's .npy reader; every input must parse or fail with an error, and a
// parsed array must hold rows * dim finite values.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lightvault/scan/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = lv::scan::parse_npy(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.npy");
  if (!parsed.ok()) return 0;
  if (parsed->values.size() != static_cast<size_t>(parsed->rows) * parsed->dim) std::abort();
  for (float v : parsed->values) {
    if (!std::isfinite(v)) std::abort();
  }
  return 0;
}
