// libFuzzer target: how complaint fields (untrusted text from anyone, no account needed) are
// measured and cut: complaint_text_length (valid UTF-8, no control character but tab and,
// where allowed, line breaks) against the rule computed here, and first_chars never cutting
// a code point in two. Never a crash, never a disagreement.
#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightvault/hub/service/complaint_service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // utf8proc's view: valid or not, how many code points, any control character.
  size_t points = 0;
  bool valid = true, controls = false, breaks = false;
  for (size_t i = 0; i < text.size();) {
    utf8proc_int32_t cp = 0;
    auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                              static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
    if (n <= 0) {
      valid = false;
      break;
    }
    if (cp == '\n' || cp == '\r') {
      breaks = true;
    } else if ((cp < 0x20 && cp != '\t') || cp == 0x7f) {
      controls = true;
    }
    i += static_cast<size_t>(n);
    ++points;
  }
  for (bool allow_breaks : {false, true}) {
    auto mine = lv::hub::complaint_text_length(text, allow_breaks);
    bool expected = valid && !controls && (allow_breaks || !breaks);
    if (mine.has_value() != expected) __builtin_trap();
    if (mine && *mine != points) __builtin_trap();
  }
  if (valid) {
    for (size_t k : {size_t{0}, size_t{1}, points / 2, points}) {
      std::string cut = lv::hub::first_chars(text, k);
      if (text.compare(0, cut.size(), cut) != 0) __builtin_trap();
      if (!controls && !breaks && lv::hub::complaint_text_length(cut, false) != std::min(k, points)) __builtin_trap();
    }
  }
  return 0;
}
