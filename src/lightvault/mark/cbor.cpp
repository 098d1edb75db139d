#include "lightvault/mark/cbor.h"

#include <cmath>
#include <cstring>

namespace lv::mark::cbor {

Value Value::integer(int64_t v) {
  Value out;
  if (v >= 0) {
    out.type = Type::Unsigned;
    out.number = static_cast<uint64_t>(v);
  } else {
    out.type = Type::Negative;
    out.number = static_cast<uint64_t>(-(v + 1));
  }
  return out;
}

Value Value::bytes(std::string_view b) {
  Value out;
  out.type = Type::Bytes;
  out.string = std::string(b);
  return out;
}

Value Value::text(std::string_view t) {
  Value out;
  out.type = Type::Text;
  out.string = std::string(t);
  return out;
}

Value Value::array(std::vector<Value> items) {
  Value out;
  out.type = Type::Array;
  out.items = std::move(items);
  return out;
}

Value Value::map(std::vector<MapEntry> entries) {
  Value out;
  out.type = Type::Map;
  out.entries = std::move(entries);
  return out;
}

Value Value::tagged(uint64_t tag, Value item) {
  Value out;
  out.type = Type::Tag;
  out.number = tag;
  out.items.push_back(std::move(item));
  return out;
}

Value Value::null() { return Value{}; }

bool Value::as_int64(int64_t* out) const {
  constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
  if (type == Type::Unsigned && number <= kMax) {
    *out = static_cast<int64_t>(number);
    return true;
  }
  if (type == Type::Negative && number <= kMax) {
    *out = -1 - static_cast<int64_t>(number);
    return true;
  }
  return false;
}

const Value* Value::find(std::string_view key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& [k, v] : entries) {
    if (k.type == Type::Text && k.string == key) return &v;
  }
  return nullptr;
}

const Value* Value::find(int64_t key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& [k, v] : entries) {
    int64_t n = 0;
    if (k.as_int64(&n) && n == key) return &v;
  }
  return nullptr;
}

namespace {

void put_head(std::string& out, int major, uint64_t n) {
  const auto m = static_cast<uint8_t>(major << 5);
  auto put_be = [&](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  if (n < 24) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xff) {
    out.push_back(static_cast<char>(m | 24));
    put_be(n, 1);
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(m | 25));
    put_be(n, 2);
  } else if (n <= 0xffffffffULL) {
    out.push_back(static_cast<char>(m | 26));
    put_be(n, 4);
  } else {
    out.push_back(static_cast<char>(m | 27));
    put_be(n, 8);
  }
}

void encode_into(std::string& out, const Value& v) {
  using T = Value::Type;
  switch (v.type) {
    case T::Unsigned: put_head(out, 0, v.number); break;
    case T::Negative: put_head(out, 1, v.number); break;
    case T::Bytes:
      put_head(out, 2, v.string.size());
      out += v.string;
      break;
    case T::Text:
      put_head(out, 3, v.string.size());
      out += v.string;
      break;
    case T::Array:
      put_head(out, 4, v.items.size());
      for (const auto& item : v.items) encode_into(out, item);
      break;
    case T::Map:
      put_head(out, 5, v.entries.size());
      for (const auto& [key, value] : v.entries) {
        encode_into(out, key);
        encode_into(out, value);
      }
      break;
    case T::Tag:
      put_head(out, 6, v.number);
      encode_into(out, v.items.empty() ? Value::null() : v.items.front());
      break;
    case T::Bool: out.push_back(static_cast<char>(v.boolean ? 0xf5 : 0xf4)); break;
    case T::Null: out.push_back(static_cast<char>(0xf6)); break;
    case T::Undefined: out.push_back(static_cast<char>(0xf7)); break;
    case T::Float: {
      uint64_t bits = 0;
      std::memcpy(&bits, &v.real, sizeof bits);
      out.push_back(static_cast<char>(0xfb));
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
      break;
    }
  }
}

class Decoder {
 public:
  Decoder(std::string_view in, const std::string& context) : in_(in), context_(context) {}

  Result<Value> item(int depth) {
    if (depth > kMaxCborDepth) return fail("CBOR nested deeper than " + std::to_string(kMaxCborDepth));
    const size_t start = pos_;
    if (pos_ >= in_.size()) return fail("CBOR truncated");
    const auto initial = static_cast<uint8_t>(in_[pos_++]);
    const int major = initial >> 5;
    const int info = initial & 0x1f;
    if (info == 31) return fail_at(start, "indefinite-length CBOR items are not supported");
    if (info >= 28) return fail_at(start, "reserved CBOR additional information " + std::to_string(info));
    if (major == 7) return simple(info, start);
    uint64_t n = info;
    if (info >= 24) {
      const int size = 1 << (info - 24);
      if (in_.size() - pos_ < static_cast<size_t>(size)) return fail("CBOR truncated");
      n = 0;
      for (int i = 0; i < size; ++i) n = (n << 8) | static_cast<uint8_t>(in_[pos_++]);
    }
    Value out;
    switch (major) {
      case 0:
      case 1:
        out.type = major == 0 ? Value::Type::Unsigned : Value::Type::Negative;
        out.number = n;
        return out;
      case 2:
      case 3:
        if (n > in_.size() - pos_) return fail_at(start, "CBOR string of " + std::to_string(n) + " bytes runs past the end");
        out.type = major == 2 ? Value::Type::Bytes : Value::Type::Text;
        out.string = std::string(in_.substr(pos_, n));
        pos_ += n;
        return out;
      case 4:
        // Every item takes at least one byte: a count over what is left cannot be honest.
        if (n > in_.size() - pos_) return fail_at(start, "CBOR array of " + std::to_string(n) + " items runs past the end");
        out.type = Value::Type::Array;
        out.items.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          LV_ASSIGN_OR_RETURN(Value element, item(depth + 1));
          out.items.push_back(std::move(element));
        }
        return out;
      case 5:
        if (n > (in_.size() - pos_) / 2) return fail_at(start, "CBOR map of " + std::to_string(n) + " entries runs past the end");
        out.type = Value::Type::Map;
        out.entries.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
          LV_ASSIGN_OR_RETURN(Value key, item(depth + 1));
          LV_ASSIGN_OR_RETURN(Value value, item(depth + 1));
          out.entries.push_back(MapEntry{std::move(key), std::move(value)});
        }
        return out;
      default: {  // 6: tag
        out.type = Value::Type::Tag;
        out.number = n;
        LV_ASSIGN_OR_RETURN(Value tagged, item(depth + 1));
        out.items.push_back(std::move(tagged));
        return out;
      }
    }
  }

  bool at_end() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }

 private:
  Result<Value> simple(int info, size_t start) {
    Value out;
    switch (info) {
      case 20:
      case 21:
        out.type = Value::Type::Bool;
        out.boolean = info == 21;
        return out;
      case 22: out.type = Value::Type::Null; return out;
      case 23: out.type = Value::Type::Undefined; return out;
      case 25:
      case 26:
      case 27: {
        const int size = 1 << (info - 24);
        if (in_.size() - pos_ < static_cast<size_t>(size)) return fail("CBOR truncated");
        uint64_t bits = 0;
        for (int i = 0; i < size; ++i) bits = (bits << 8) | static_cast<uint8_t>(in_[pos_++]);
        out.type = Value::Type::Float;
        out.real = to_double(bits, size);
        return out;
      }
      default: return fail_at(start, "unsupported CBOR simple value " + std::to_string(info));
    }
  }

  static double to_double(uint64_t bits, int size) {
    if (size == 8) {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    if (size == 4) {
      const auto b32 = static_cast<uint32_t>(bits);
      float f;
      std::memcpy(&f, &b32, sizeof f);
      return f;
    }
    // IEEE 754 half precision (RFC 8949 appendix D).
    const int exponent = static_cast<int>((bits >> 10) & 0x1f);
    const int mantissa = static_cast<int>(bits & 0x3ff);
    double value;
    if (exponent == 0) value = std::ldexp(mantissa, -24);
    else if (exponent != 31) value = std::ldexp(mantissa + 1024, exponent - 25);
    else value = mantissa == 0 ? INFINITY : NAN;
    return (bits & 0x8000) ? -value : value;
  }

  Error fail(const std::string& what) const { return fail_at(pos_, what); }
  Error fail_at(size_t offset, const std::string& what) const {
    return make_error(context_, what + " (offset " + std::to_string(offset) + ")");
  }

  std::string_view in_;
  const std::string& context_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode(const Value& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

Result<Value> decode(std::string_view bytes, const std::string& context) {
  Decoder decoder(bytes, context);
  LV_ASSIGN_OR_RETURN(Value value, decoder.item(0));
  if (!decoder.at_end()) {
    return make_error(context, "trailing bytes after the CBOR item (offset " + std::to_string(decoder.pos()) + ")");
  }
  return value;
}

}  // namespace lv::mark::cbor
