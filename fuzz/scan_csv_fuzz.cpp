// libFuzzer target: the scan's CSV reader; every input must parse or fail with an error, and a
// parsed data set must have rows * dim finite values and one label per row.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lightvault/scan/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (std::optional<int> column : {std::optional<int>(), std::optional<int>(-1), std::optional<int>(0)}) {
    auto parsed = lv::scan::parse_csv(text, "fuzz.csv", column);
    if (!parsed.ok()) continue;
    if (parsed->values.size() != static_cast<size_t>(parsed->rows) * parsed->dim) std::abort();
    if (column && parsed->labels.size() != static_cast<size_t>(parsed->rows)) std::abort();
    for (float v : parsed->values) {
      if (!std::isfinite(v)) std::abort();
    }
    (void)lv::scan::check_scannable(*parsed);
    (void)lv::scan::parse_labels(text, "fuzz.labels", *parsed);
  }
  return 0;
}
