#pragma once
// JUMBF (ISO/IEC 19566-5) boxes as C2PA uses them: a box is LBox (4-byte big-endian size,
// header included), TBox (4 characters) and a payload; a superbox ("jumb") starts with a
// description box ("jumd": a 16-byte type UUID, toggles, a NUL-terminated label) followed by
// its content boxes and child superboxes.
// Contract: parse_jumbf reads one box spanning the whole input, nested at most
// kMaxJumbfDepth deep, and never reads outside it; the parsed boxes hold views into the input,
// which must outlive them. Errors name the context, the box and its offset.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::mark {

inline constexpr int kMaxJumbfDepth = 16;

// A JUMBF type UUID: four ASCII characters followed by C2PA's fixed tail
// 0011-0010-8000-00AA00389B71 (C2PA specification, "Use of JUMBF").
std::string c2pa_jumbf_uuid(std::string_view four_chars);

// LBox + TBox + payload.
std::string jumbf_box(std::string_view type, std::string_view payload);
// A superbox labelled `label`, of type `uuid` (16 bytes), holding `children` (encoded boxes).
std::string jumbf_superbox(std::string_view uuid, std::string_view label, std::string_view children);

struct JumbfBox {
  std::string type;          // TBox
  size_t offset = 0;         // of the box header in the parsed input
  std::string_view box;      // the whole box, header included
  std::string_view payload;  // after the header; for a superbox the jumd box and the children
  // Superboxes only:
  std::string uuid;  // 16 bytes
  std::string label;
  std::vector<JumbfBox> children;

  bool is_superbox() const { return type == "jumb"; }
  // The first child superbox with this label; nullptr when none.
  const JumbfBox* child(std::string_view child_label) const;
};

Result<JumbfBox> parse_jumbf(std::string_view bytes, const std::string& context);

}  // namespace lv::mark
