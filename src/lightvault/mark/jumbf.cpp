#include "lightvault/mark/jumbf.h"

namespace lv::mark {
namespace {

void put_u32(std::string& out, uint64_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t read_u32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

// Description box toggles: bit 0 requestable, bit 1 label present (ISO/IEC 19566-5 table B.1).
constexpr uint8_t kToggleRequestable = 0x01;
constexpr uint8_t kToggleLabel = 0x02;

class Parser {
 public:
  explicit Parser(const std::string& context) : context_(context) {}

  // The boxes laid end to end in `region`, which starts at `base` in the whole input.
  Result<std::vector<JumbfBox>> boxes(std::string_view region, size_t base, int depth) {
    std::vector<JumbfBox> out;
    size_t pos = 0;
    while (pos < region.size()) {
      LV_ASSIGN_OR_RETURN(JumbfBox box, one(region.substr(pos), base + pos, depth));
      pos += box.box.size();
      out.push_back(std::move(box));
    }
    return out;
  }

  // The box at the start of `rest`.
  Result<JumbfBox> one(std::string_view rest, size_t offset, int depth) {
    if (depth > kMaxJumbfDepth) return fail(offset, "JUMBF boxes nested deeper than " + std::to_string(kMaxJumbfDepth));
    if (rest.size() < 8) return fail(offset, "truncated JUMBF box header");
    uint64_t size = read_u32(rest, 0);
    size_t header = 8;
    if (size == 1) {  // XLBox: a 64-bit size follows the type
      if (rest.size() < 16) return fail(offset, "truncated JUMBF XLBox");
      size = (uint64_t{read_u32(rest, 8)} << 32) | read_u32(rest, 12);
      header = 16;
    } else if (size == 0) {  // the box runs to the end of its container
      size = rest.size();
    }
    if (size < header || size > rest.size()) {
      return fail(offset, "JUMBF box size " + std::to_string(size) + " outside its container (" + std::to_string(rest.size()) + " bytes left)");
    }
    JumbfBox box;
    box.type = std::string(rest.substr(4, 4));
    box.offset = offset;
    box.box = rest.substr(0, size);
    box.payload = box.box.substr(header);
    if (!box.is_superbox()) return box;

    LV_ASSIGN_OR_RETURN(std::vector<JumbfBox> inner, boxes(box.payload, offset + header, depth + 1));
    if (inner.empty() || inner.front().type != "jumd") return fail(offset, "JUMBF superbox without a description box");
    LV_RETURN_IF_ERROR(describe(inner.front(), box));
    inner.erase(inner.begin());
    box.children = std::move(inner);
    return box;
  }

 private:
  Status describe(const JumbfBox& jumd, JumbfBox& into) {
    std::string_view d = jumd.payload;
    if (d.size() < 17) return fail(jumd.offset, "JUMBF description box shorter than 17 bytes");
    into.uuid = std::string(d.substr(0, 16));
    const auto toggles = static_cast<uint8_t>(d[16]);
    if (toggles & kToggleLabel) {
      const size_t end = d.find('\0', 17);
      if (end == std::string_view::npos) return fail(jumd.offset, "JUMBF label without its terminating NUL");
      into.label = std::string(d.substr(17, end - 17));
    }
    return Status::Ok();
  }

  Error fail(size_t offset, const std::string& what) const {
    return make_error(context_, what + " (offset " + std::to_string(offset) + ")");
  }

  const std::string& context_;
};

}  // namespace

std::string c2pa_jumbf_uuid(std::string_view four_chars) {
  static constexpr unsigned char kTail[12] = {0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  std::string uuid(four_chars.substr(0, 4));
  uuid.append(reinterpret_cast<const char*>(kTail), sizeof kTail);
  return uuid;
}

std::string jumbf_box(std::string_view type, std::string_view payload) {
  std::string out;
  out.reserve(8 + payload.size());
  put_u32(out, 8 + payload.size());
  out.append(type.substr(0, 4));
  out.append(payload);
  return out;
}

std::string jumbf_superbox(std::string_view uuid, std::string_view label, std::string_view children) {
  std::string description(uuid);
  description.push_back(static_cast<char>(kToggleRequestable | kToggleLabel));
  description.append(label);
  description.push_back('\0');
  std::string payload = jumbf_box("jumd", description);
  payload.append(children);
  return jumbf_box("jumb", payload);
}

const JumbfBox* JumbfBox::child(std::string_view child_label) const {
  for (const auto& c : children) {
    if (c.is_superbox() && c.label == child_label) return &c;
  }
  return nullptr;
}

Result<JumbfBox> parse_jumbf(std::string_view bytes, const std::string& context) {
  Parser parser(context);
  LV_ASSIGN_OR_RETURN(JumbfBox box, parser.one(bytes, 0, 0));
  if (box.box.size() != bytes.size()) {
    return make_error(context, "trailing bytes after the JUMBF box (offset " + std::to_string(box.box.size()) + ")");
  }
  return box;
}

}  // namespace lv::mark
