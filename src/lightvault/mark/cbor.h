#pragma once
// A small CBOR (RFC 8949) value with an encoder and a decoder for untrusted input: what C2PA
// claims, assertions and COSE_Sign1 structures need. nlohmann::json's CBOR support cannot
// write integer map keys or tags on arrays, both of which COSE requires (header label 1 is
// the algorithm, COSE_Sign1 is tag 18 on an array), so this is its own small type.
// Contract: decode() accepts exactly one well-formed, definite-length item that spans the
// whole input, nested at most kMaxCborDepth deep; every error names the context and the byte
// offset. encode() writes the shortest head for each length and map entries in their order.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::mark::cbor {

inline constexpr int kMaxCborDepth = 32;

struct MapEntry;

struct Value {
  enum class Type { Unsigned, Negative, Bytes, Text, Array, Map, Tag, Bool, Null, Undefined, Float };

  Type type = Type::Null;
  uint64_t number = 0;  // Unsigned: the value; Negative: n for the value -1 - n; Tag: the tag
  std::string string;   // Bytes and Text
  std::vector<Value> items;                       // Array; a Tag's one tagged item
  std::vector<MapEntry> entries;  // Map, in encoded order
  bool boolean = false;
  double real = 0;

  static Value integer(int64_t v);
  static Value bytes(std::string_view b);
  static Value text(std::string_view t);
  static Value array(std::vector<Value> items);
  static Value map(std::vector<MapEntry> entries);
  static Value tagged(uint64_t tag, Value item);
  static Value null();

  bool is_text() const { return type == Type::Text; }
  bool is_bytes() const { return type == Type::Bytes; }
  bool is_array() const { return type == Type::Array; }
  bool is_map() const { return type == Type::Map; }
  bool is_integer() const { return type == Type::Unsigned || type == Type::Negative; }
  // The integer value when it fits an int64_t; false otherwise.
  bool as_int64(int64_t* out) const;
  // The value of a map entry whose key is this text / integer; nullptr when absent or not a map.
  const Value* find(std::string_view key) const;
  const Value* find(int64_t key) const;
};

struct MapEntry {
  Value key;
  Value value;
};

std::string encode(const Value& value);

// `context` names the input in errors ("claim: CBOR truncated at offset 17").
Result<Value> decode(std::string_view bytes, const std::string& context);

}  // namespace lv::mark::cbor
