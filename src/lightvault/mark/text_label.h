#pragma once
// Explicit labels for AI-generated text: a line a reader sees, as GB 45438-2025 asks ("人工智能"
// or "AI" together with "生成" or "合成", at the start or the end of the text).
#include <string>
#include <string_view>

#include "lightvault/util/status.h"

namespace lv::mark {

inline constexpr std::string_view kDefaultTextLabel = "【AI生成】";

enum class LabelPosition { Start, End };

// "start" or "end"; the error names --label-position.
Result<LabelPosition> parse_label_position(std::string_view name);

// A label must be one non-empty line; the error names --label.
Status validate_label(std::string_view label);

// Whether `label` says what GB 45438 asks a text label to say (AI, and generated/synthesized).
bool label_names_ai_generation(std::string_view label);

// Whether `text` already has `label` as its first (Start) or last (End) line.
bool has_text_label(std::string_view text, std::string_view label, LabelPosition position);

// `text` with `label` as its own first or last line; `text` as it is when it already has it.
std::string add_text_label(std::string_view text, std::string_view label, LabelPosition position);

}  // namespace lv::mark
