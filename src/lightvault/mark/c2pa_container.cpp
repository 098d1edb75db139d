#include "lightvault/mark/c2pa_container.h"

#include <array>
#include <set>

namespace lv::mark {
namespace {

constexpr std::string_view kPngSignature{"\x89PNG\r\n\x1a\n", 8};
constexpr uint8_t kMarkerSOS = 0xDA;
constexpr uint8_t kMarkerEOI = 0xD9;
constexpr uint8_t kMarkerAPP0 = 0xE0;
constexpr uint8_t kMarkerAPP1 = 0xE1;
constexpr uint8_t kMarkerAPP11 = 0xEB;
// JPEG XT box instance number for C2PA stores, as the C2PA reference implementations write it.
constexpr uint16_t kC2paBoxInstance = 0x0211;
// Per APP11 segment: Lp (2) + "JP" (2) + En (2) + Z (4) + LBox/TBox (8) of the 65535 Lp allows.
constexpr size_t kApp11Overhead = 18;
constexpr size_t kMaxApp11Chunk = 65535 - kApp11Overhead;
constexpr size_t kJpegXtHeader = 16;  // "JP" En Z LBox TBox, at the start of an APP11 payload

uint32_t be32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
uint16_t be16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) | static_cast<uint8_t>(s[at + 1]));
}
void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

uint32_t png_crc32(std::string_view data) {
  // PNG's CRC (ISO 3309, reflected polynomial 0xEDB88320), table built once.
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (char ch : data) c = table[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

namespace {

std::string at_offset(size_t offset) { return "offset " + std::to_string(offset); }

std::string marker_name(uint8_t marker) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("0xFF") + kHex[marker >> 4] + kHex[marker & 0xf];
}

struct Segment {
  size_t offset = 0;  // of the 0xFF
  size_t size = 0;    // marker, length and payload
  uint8_t marker = 0;
  std::string_view payload;  // after the length field
};

// JPEG marker segments from SOI up to (not including) the first SOS or EOI.
Result<std::vector<Segment>> jpeg_segments(std::string_view file, const std::string& context) {
  std::vector<Segment> out;
  size_t pos = 2;
  while (true) {
    if (pos + 2 > file.size()) return make_error(context, "JPEG ends before its first scan (" + at_offset(pos) + ")");
    if (static_cast<uint8_t>(file[pos]) != 0xFF) return make_error(context, "JPEG marker expected at " + at_offset(pos));
    const auto marker = static_cast<uint8_t>(file[pos + 1]);
    if (marker == 0xFF) {  // fill byte before a marker
      ++pos;
      continue;
    }
    if (marker == kMarkerSOS || marker == kMarkerEOI) return out;
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // standalone markers
      pos += 2;
      continue;
    }
    if (pos + 4 > file.size()) return make_error(context, "truncated JPEG segment length at " + at_offset(pos));
    const size_t length = be16(file, pos + 2);
    if (length < 2 || pos + 2 + length > file.size()) {
      return make_error(context, "JPEG segment " + marker_name(marker) + " at " + at_offset(pos) + " runs past the end");
    }
    out.push_back(Segment{pos, 2 + length, marker, file.substr(pos + 4, length - 2)});
    pos += 2 + length;
  }
}

struct App11Box {
  uint16_t instance = 0;
  uint32_t sequence = 0;
  uint32_t lbox = 0;
  bool starts_c2pa_store = false;  // the first packet of a superbox whose jumd type is c2pa
};

std::optional<App11Box> app11_box(const Segment& s) {
  if (s.marker != kMarkerAPP11 || s.payload.size() < kJpegXtHeader || s.payload.substr(0, 2) != "JP") return std::nullopt;
  if (s.payload.substr(12, 4) != "jumb") return std::nullopt;
  App11Box box;
  box.instance = be16(s.payload, 2);
  box.sequence = be32(s.payload, 4);
  box.lbox = be32(s.payload, 8);
  // First packet: jumd box header then the description's type UUID, which starts "c2pa".
  box.starts_c2pa_store = box.sequence == 1 && s.payload.size() >= 28 && s.payload.substr(20, 4) == "jumd" &&
                          s.payload.substr(24, 4) == "c2pa";
  return box;
}

Result<std::optional<C2paEmbedding>> find_in_jpeg(std::string_view file, const std::string& context) {
  LV_ASSIGN_OR_RETURN(std::vector<Segment> segments, jpeg_segments(file, context));
  std::optional<C2paEmbedding> found;
  std::optional<App11Box> first;
  uint32_t last_sequence = 0;
  for (const Segment& s : segments) {
    std::optional<App11Box> box = app11_box(s);
    if (!box) continue;
    if (!first) {
      if (!box->starts_c2pa_store || box->lbox < 8) continue;
      first = box;
      last_sequence = 1;
      found.emplace();
      found->store = std::string(s.payload.substr(8));
      found->ranges.emplace_back(s.offset, s.size);
    } else if (box->instance == first->instance) {
      if (box->sequence != last_sequence + 1 || box->lbox != first->lbox) {
        return make_error(context, "C2PA APP11 packet out of sequence at " + at_offset(s.offset));
      }
      last_sequence = box->sequence;
      found->store.append(s.payload.substr(kJpegXtHeader));
      found->ranges.emplace_back(s.offset, s.size);
    } else {
      continue;
    }
    if (found->store.size() > first->lbox) {
      return make_error(context, "C2PA APP11 packets hold more than the box's " + std::to_string(first->lbox) + " bytes");
    }
    if (found->store.size() == first->lbox) return found;
  }
  if (found) return make_error(context, "C2PA manifest store in APP11 segments is incomplete (" + std::to_string(found->store.size()) + " of " + std::to_string(first->lbox) + " bytes)");
  return std::optional<C2paEmbedding>{};
}

struct Chunk {
  size_t offset = 0;
  size_t size = 0;  // length field, type, data and CRC
  std::string_view type;
  std::string_view data;
};

Result<std::vector<Chunk>> png_chunks(std::string_view file, const std::string& context) {
  std::vector<Chunk> out;
  size_t pos = kPngSignature.size();
  while (true) {
    if (pos + 12 > file.size()) return make_error(context, "truncated PNG chunk at " + at_offset(pos));
    const size_t length = be32(file, pos);
    if (length > 0x7fffffffu || length > file.size() - pos - 12) {
      return make_error(context, "PNG chunk at " + at_offset(pos) + " runs past the end");
    }
    Chunk c{pos, 12 + length, file.substr(pos + 4, 4), file.substr(pos + 8, length)};
    out.push_back(c);
    pos += c.size;
    if (c.type == "IEND") return out;
  }
}

}  // namespace

Result<ImageFormat> sniff_image_format(std::string_view file, const std::string& context) {
  if (file.size() >= 3 && static_cast<uint8_t>(file[0]) == 0xFF && static_cast<uint8_t>(file[1]) == 0xD8 &&
      static_cast<uint8_t>(file[2]) == 0xFF) {
    return ImageFormat::Jpeg;
  }
  if (file.substr(0, kPngSignature.size()) == kPngSignature) return ImageFormat::Png;
  return make_error(context, "not a JPEG or PNG file");
}

Result<std::optional<C2paEmbedding>> find_c2pa_store(std::string_view file, ImageFormat format, const std::string& context) {
  if (format == ImageFormat::Jpeg) return find_in_jpeg(file, context);
  LV_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, png_chunks(file, context));
  for (const Chunk& c : chunks) {
    if (c.type != "caBX") continue;
    C2paEmbedding found;
    found.store = std::string(c.data);
    found.ranges.emplace_back(c.offset, c.size);
    return std::optional<C2paEmbedding>(std::move(found));
  }
  return std::optional<C2paEmbedding>{};
}

Result<std::string> remove_c2pa_stores(std::string_view file, ImageFormat format, const std::string& context) {
  std::vector<std::pair<size_t, size_t>> drop;
  if (format == ImageFormat::Jpeg) {
    LV_ASSIGN_OR_RETURN(std::vector<Segment> segments, jpeg_segments(file, context));
    std::set<uint16_t> c2pa_instances;
    for (const Segment& s : segments) {
      std::optional<App11Box> box = app11_box(s);
      if (!box) continue;
      if (box->starts_c2pa_store) c2pa_instances.insert(box->instance);
      if (c2pa_instances.count(box->instance)) drop.emplace_back(s.offset, s.size);
    }
  } else {
    LV_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, png_chunks(file, context));
    for (const Chunk& c : chunks) {
      if (c.type == "caBX") drop.emplace_back(c.offset, c.size);
    }
  }
  std::string out;
  out.reserve(file.size());
  size_t pos = 0;
  for (const auto& [start, length] : drop) {
    out.append(file.substr(pos, start - pos));
    pos = start + length;
  }
  out.append(file.substr(pos));
  return out;
}

Result<size_t> c2pa_insert_offset(std::string_view file, ImageFormat format, const std::string& context) {
  if (format == ImageFormat::Jpeg) {
    LV_ASSIGN_OR_RETURN(std::vector<Segment> segments, jpeg_segments(file, context));
    size_t offset = 2;
    for (const Segment& s : segments) {
      if (s.offset != offset || (s.marker != kMarkerAPP0 && s.marker != kMarkerAPP1)) break;
      offset += s.size;
    }
    return offset;
  }
  LV_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, png_chunks(file, context));
  if (chunks.front().type != "IHDR") return make_error(context, "PNG does not start with IHDR");
  return chunks.front().offset + chunks.front().size;
}

Result<std::string> frame_c2pa_store(std::string_view store, ImageFormat format) {
  if (store.size() < 8 || store.size() > 0x7fffffffu) return Error{"C2PA manifest store of " + std::to_string(store.size()) + " bytes cannot be embedded"};
  std::string out;
  if (format == ImageFormat::Png) {
    std::string typed = "caBX";
    typed.append(store);
    put_be(out, store.size(), 4);
    out.append(typed);
    put_be(out, png_crc32(typed), 4);
    return out;
  }
  const std::string_view header = store.substr(0, 8);
  const std::string_view payload = store.substr(8);
  uint32_t sequence = 1;
  for (size_t pos = 0; pos < payload.size() || sequence == 1; pos += kMaxApp11Chunk, ++sequence) {
    const std::string_view chunk = payload.substr(pos, kMaxApp11Chunk);
    out.push_back(static_cast<char>(0xFF));
    out.push_back(static_cast<char>(kMarkerAPP11));
    put_be(out, kApp11Overhead + chunk.size(), 2);
    out.append("JP");
    put_be(out, kC2paBoxInstance, 2);
    put_be(out, sequence, 4);
    out.append(header);
    out.append(chunk);
  }
  return out;
}

}  // namespace lv::mark
