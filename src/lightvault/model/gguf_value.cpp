// GgufValue, GgufMetadata, the type tables and the error helpers of gguf.h.
#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>

#include "lightvault/model/gguf.h"

namespace lv {

static_assert(std::endian::native == std::endian::little, "GGUF values are kept as little-endian bytes");

// ---------------------------------------------------------------------------------------
// Types

std::string gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::Uint8: return "UINT8";
    case GgufType::Int8: return "INT8";
    case GgufType::Uint16: return "UINT16";
    case GgufType::Int16: return "INT16";
    case GgufType::Uint32: return "UINT32";
    case GgufType::Int32: return "INT32";
    case GgufType::Float32: return "FLOAT32";
    case GgufType::Bool: return "BOOL";
    case GgufType::String: return "STRING";
    case GgufType::Array: return "ARRAY";
    case GgufType::Uint64: return "UINT64";
    case GgufType::Int64: return "INT64";
    case GgufType::Float64: return "FLOAT64";
  }
  return "type " + std::to_string(static_cast<uint32_t>(t));
}

bool gguf_type_valid(uint32_t code) { return code <= static_cast<uint32_t>(GgufType::Float64); }

size_t gguf_type_size(GgufType t) {
  switch (t) {
    case GgufType::Uint8:
    case GgufType::Int8:
    case GgufType::Bool: return 1;
    case GgufType::Uint16:
    case GgufType::Int16: return 2;
    case GgufType::Uint32:
    case GgufType::Int32:
    case GgufType::Float32: return 4;
    case GgufType::Uint64:
    case GgufType::Int64:
    case GgufType::Float64: return 8;
    case GgufType::String:
    case GgufType::Array: return 0;
  }
  return 0;
}

const GgmlTypeInfo* ggml_type_info(uint32_t code) {
  // Block layouts of ggml's types (ggml.h / ggml-common.h); retired codes are absent.
  static const GgmlTypeInfo kTypes[] = {
      {"F32", 1, 4},         {"F16", 1, 2},        {"Q4_0", 32, 18},     {"Q4_1", 32, 20},
      {"", 0, 0},            {"", 0, 0},           {"Q5_0", 32, 22},     {"Q5_1", 32, 24},
      {"Q8_0", 32, 34},      {"Q8_1", 32, 36},     {"Q2_K", 256, 84},    {"Q3_K", 256, 110},
      {"Q4_K", 256, 144},    {"Q5_K", 256, 176},   {"Q6_K", 256, 210},   {"Q8_K", 256, 292},
      {"IQ2_XXS", 256, 66},  {"IQ2_XS", 256, 74},  {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
      {"IQ4_NL", 32, 18},    {"IQ3_S", 256, 110},  {"IQ2_S", 256, 82},   {"IQ4_XS", 256, 136},
      {"I8", 1, 1},          {"I16", 1, 2},        {"I32", 1, 4},        {"I64", 1, 8},
      {"F64", 1, 8},         {"IQ1_M", 256, 56},   {"BF16", 1, 2},       {"", 0, 0},
      {"", 0, 0},            {"", 0, 0},           {"TQ1_0", 256, 54},   {"TQ2_0", 256, 66},
  };
  if (code >= std::size(kTypes) || kTypes[code].block_size == 0) return nullptr;
  return &kTypes[code];
}

std::string ggml_type_name(uint32_t code) {
  const GgmlTypeInfo* info = ggml_type_info(code);
  return info != nullptr ? std::string(info->name) : "type " + std::to_string(code);
}

// ---------------------------------------------------------------------------------------
// GgufValue

GgufValue GgufValue::string(std::string s) {
  GgufValue v;
  v.type_ = GgufType::String;
  v.bytes_.clear();
  v.strings_.push_back(std::move(s));
  return v;
}

GgufValue GgufValue::array(const std::vector<bool>& items) {
  std::vector<uint8_t> bytes(items.begin(), items.end());
  return from_bytes(GgufType::Bool, bytes.data(), bytes.size());
}

GgufValue GgufValue::array(std::vector<std::string> items) {
  GgufValue v;
  v.type_ = GgufType::Array;
  v.element_ = GgufType::String;
  v.count_ = items.size();
  v.bytes_.clear();
  v.strings_ = std::move(items);
  return v;
}

GgufValue GgufValue::array_of_arrays(std::vector<GgufValue> items) {
  for ([[maybe_unused]] const auto& item : items) assert(item.is_array());
  GgufValue v;
  v.type_ = GgufType::Array;
  v.element_ = GgufType::Array;
  v.count_ = items.size();
  v.bytes_.clear();
  v.arrays_ = std::move(items);
  return v;
}

GgufValue GgufValue::from_bytes(GgufType t, const void* bytes, uint64_t count, bool as_array) {
  size_t width = gguf_type_size(t);
  assert(width > 0);
  assert(as_array || count == 1);
  GgufValue v;
  v.type_ = as_array ? GgufType::Array : t;
  v.element_ = as_array ? t : GgufType::Uint8;
  v.count_ = count;
  const auto* p = static_cast<const uint8_t*>(bytes);
  v.bytes_.assign(p, p + count * width);
  if (t == GgufType::Bool) {
    for ([[maybe_unused]] uint8_t b : v.bytes_) assert(b <= 1);
  }
  return v;
}

namespace {

// Reads element i of a fixed-size type as an integer, or nullopt for non-integer types
// and UINT64 values beyond int64.
std::optional<int64_t> int_of(GgufType t, const std::vector<uint8_t>& bytes, uint64_t i) {
  auto load = [&](auto sample) {
    decltype(sample) x;
    std::memcpy(&x, bytes.data() + i * sizeof(x), sizeof(x));
    return x;
  };
  switch (t) {
    case GgufType::Uint8: return load(uint8_t{});
    case GgufType::Int8: return load(int8_t{});
    case GgufType::Uint16: return load(uint16_t{});
    case GgufType::Int16: return load(int16_t{});
    case GgufType::Uint32: return load(uint32_t{});
    case GgufType::Int32: return load(int32_t{});
    case GgufType::Int64: return load(int64_t{});
    case GgufType::Uint64: {
      uint64_t x = load(uint64_t{});
      if (x > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<int64_t>(x);
    }
    default: return std::nullopt;
  }
}

std::optional<double> float_of(GgufType t, const std::vector<uint8_t>& bytes, uint64_t i) {
  if (t == GgufType::Float32) {
    float x;
    std::memcpy(&x, bytes.data() + i * 4, 4);
    return x;
  }
  if (t == GgufType::Float64) {
    double x;
    std::memcpy(&x, bytes.data() + i * 8, 8);
    return x;
  }
  return std::nullopt;
}

std::optional<bool> bool_of(GgufType t, const std::vector<uint8_t>& bytes, uint64_t i) {
  if (t != GgufType::Bool) return std::nullopt;
  return bytes[i] != 0;
}

// Shortest text that reads back as the same float / double.
template <class F>
std::string float_text(F x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

std::string element_text(GgufType t, const std::vector<uint8_t>& bytes, uint64_t i) {
  if (auto b = bool_of(t, bytes, i)) return *b ? "true" : "false";
  if (t == GgufType::Float32) return float_text(static_cast<float>(*float_of(t, bytes, i)));
  if (t == GgufType::Float64) return float_text(*float_of(t, bytes, i));
  if (auto n = int_of(t, bytes, i)) return std::to_string(*n);
  uint64_t u;  // a UINT64 beyond int64
  std::memcpy(&u, bytes.data() + i * 8, 8);
  return std::to_string(u);
}

}  // namespace

std::optional<int64_t> GgufValue::as_int() const {
  if (is_array() || type_ == GgufType::String) return std::nullopt;
  return int_of(type_, bytes_, 0);
}

std::optional<double> GgufValue::as_float() const {
  if (is_array() || type_ == GgufType::String) return std::nullopt;
  return float_of(type_, bytes_, 0);
}

std::optional<bool> GgufValue::as_bool() const {
  if (is_array() || type_ == GgufType::String) return std::nullopt;
  return bool_of(type_, bytes_, 0);
}

const std::string* GgufValue::as_string() const {
  return type_ == GgufType::String ? &strings_[0] : nullptr;
}

std::optional<int64_t> GgufValue::int_at(uint64_t i) const {
  assert(is_array() && i < count_);
  if (gguf_type_size(element_) == 0) return std::nullopt;
  return int_of(element_, bytes_, i);
}

std::optional<double> GgufValue::float_at(uint64_t i) const {
  assert(is_array() && i < count_);
  if (gguf_type_size(element_) == 0) return std::nullopt;
  return float_of(element_, bytes_, i);
}

std::optional<bool> GgufValue::bool_at(uint64_t i) const {
  assert(is_array() && i < count_);
  return bool_of(element_, bytes_, i);
}

const std::string& GgufValue::string_at(uint64_t i) const {
  assert(is_array() && element_ == GgufType::String && i < count_);
  return strings_[i];
}

const GgufValue& GgufValue::array_at(uint64_t i) const {
  assert(is_array() && element_ == GgufType::Array && i < count_);
  return arrays_[i];
}

std::string GgufValue::describe(size_t max_items) const {
  if (type_ == GgufType::String) return "\"" + gguf_printable(strings_[0]) + "\"";
  if (!is_array()) return element_text(type_, bytes_, 0);
  std::string out = "[";
  uint64_t shown = std::min<uint64_t>(count_, max_items);
  for (uint64_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    if (element_ == GgufType::String) {
      out += "\"" + gguf_printable(strings_[i], 32) + "\"";
    } else if (element_ == GgufType::Array) {
      out += arrays_[i].describe(std::max<size_t>(max_items / 2, 1));
    } else {
      out += element_text(element_, bytes_, i);
    }
  }
  if (shown < count_) out += shown > 0 ? ", ..." : "...";
  out += "] (" + std::to_string(count_) + " x " + gguf_type_name(element_) + ")";
  return out;
}

// ---------------------------------------------------------------------------------------
// GgufMetadata

void GgufMetadata::set(std::string key, GgufValue value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

const GgufValue* GgufMetadata::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

// ---------------------------------------------------------------------------------------
// Errors

Error gguf_error(const std::string& path, const std::string& what, std::string_view field, int64_t offset) {
  std::string where;
  if (!field.empty()) where = "field '" + gguf_printable(field) + "'";
  if (offset >= 0) where += (where.empty() ? "offset " : ", offset ") + std::to_string(offset);
  return make_error(path, where.empty() ? what : what + " (" + where + ")");
}

namespace {

// Length of the valid UTF-8 sequence (2..4 bytes, no overlongs or surrogates) at the start
// of `s`, or 0 when there is none.
size_t utf8_sequence(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  size_t len = (lead & 0xe0) == 0xc0 ? 2 : (lead & 0xf0) == 0xe0 ? 3 : (lead & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || len > s.size()) return 0;
  uint32_t cp = lead & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (byte(k) & 0x3f);
  }
  bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
  if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

}  // namespace

std::string gguf_printable(std::string_view s, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t len = c >= 0x80 ? utf8_sequence(s.substr(i)) : 0; len > 0) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace lv
