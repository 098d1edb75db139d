#include "lightvault/mark/text_label.h"

namespace lv::mark {

Result<LabelPosition> parse_label_position(std::string_view name) {
  if (name == "start") return LabelPosition::Start;
  if (name == "end") return LabelPosition::End;
  return make_error("--label-position", "must be start or end, not '" + std::string(name) + "'");
}

Status validate_label(std::string_view label) {
  if (label.empty()) return make_error("--label", "is empty");
  if (label.find_first_of("\r\n") != std::string_view::npos) return make_error("--label", "must be a single line");
  return Status::Ok();
}

bool label_names_ai_generation(std::string_view label) {
  auto has = [&](std::string_view s) { return label.find(s) != std::string_view::npos; };
  return (has("人工智能") || has("AI")) && (has("生成") || has("合成"));
}

bool has_text_label(std::string_view text, std::string_view label, LabelPosition position) {
  if (position == LabelPosition::Start) {
    return text.starts_with(label) && (text.size() == label.size() || text[label.size()] == '\n');
  }
  if (text.ends_with('\n')) text.remove_suffix(1);
  return text.ends_with(label) && (text.size() == label.size() || text[text.size() - label.size() - 1] == '\n');
}

std::string add_text_label(std::string_view text, std::string_view label, LabelPosition position) {
  std::string out;
  if (has_text_label(text, label, position)) return std::string(text);
  if (position == LabelPosition::Start) {
    out.append(label).append("\n").append(text);
  } else {
    out.append(text);
    if (!text.empty() && !text.ends_with('\n')) out += '\n';
    out.append(label).append("\n");
  }
  return out;
}

}  // namespace lv::mark
