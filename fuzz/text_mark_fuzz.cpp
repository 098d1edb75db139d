// libFuzzer target: what `lightvault detect` and `lightvault mark` do with a file's bytes
// (sniffing, labelling with a label taken from the input, tokenizing, scoring the watermark);
// every input must give a result or an error, never a crash.
#include <cstdint>
#include <string_view>

#include "lightvault/mark/media_kind.h"
#include "lightvault/mark/text_label.h"
#include "lightvault/mark/text_watermark.h"
#include "lightvault/model/synth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lv::Tokenizer tokenizer = lv::synthesize({.dim = 8, .hidden_dim = 8, .n_layers = 1, .n_heads = 1, .n_kv_heads = 1,
                                                         .vocab_size = 400, .seq_len = 8})
                                             .value()
                                             .tokenizer;
  static lv::mark::GreenList green("fuzzing key of sixteen bytes or more", {.context = 2});
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (lv::mark::sniff_media(bytes) != lv::mark::MediaKind::Text) return 0;
  std::string_view label = bytes.substr(0, bytes.find('\n'));
  if (lv::mark::validate_label(label).ok()) {
    for (auto position : {lv::mark::LabelPosition::Start, lv::mark::LabelPosition::End}) {
      std::string labelled = lv::mark::add_text_label(bytes, label, position);
      if (!lv::mark::has_text_label(labelled, label, position)) __builtin_trap();
    }
  }
  auto tokens = tokenizer.encode(bytes, false, "input");
  if (tokens.ok()) lv::mark::detect_text_watermark(green, *tokens, 0.25);
  return 0;
}
