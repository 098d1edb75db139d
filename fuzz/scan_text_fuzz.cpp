// libFuzzer target: the scan's text readers (blank-line separated and JSON Lines) and the
// sentence splitter; every input must parse or fail with an error, every sample must have text,
// and every sentence span must lie, trimmed and in order, inside its sample.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lightvault/scan/repeated_sentences.h"
#include "lightvault/scan/text_embedding.h"

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void check_sentences(std::string_view text) {
  size_t previous_end = 0;
  for (const lv::scan::TextSpan& s : lv::scan::split_sentences(text)) {
    if (s.begin < previous_end || s.end <= s.begin || s.end > text.size()) std::abort();
    if (is_space(text[s.begin]) || is_space(text[s.end - 1])) std::abort();
    previous_end = s.end;
    if (lv::scan::sentence_key(text.substr(s.begin, s.end - s.begin)).empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_sentences(text);
  for (auto format : {lv::scan::TextFormat::kBlankLineSeparated, lv::scan::TextFormat::kJsonl}) {
    auto samples = lv::scan::parse_text_samples(text, "fuzz.txt", format);
    if (!samples.ok()) continue;
    if (samples->empty()) std::abort();
    for (const auto& sample : *samples) {
      if (sample.text.empty() || sample.line < 1) std::abort();
      check_sentences(sample.text);
    }
  }
  return 0;
}
