// Parsing GGUF bytes into a GgufFile. The input is untrusted: every read is bounds-checked,
// every count is compared with the bytes left before anything is allocated for it, and all
// size arithmetic is overflow-checked.
#include <cstring>

#include "lightvault/model/gguf.h"
#include "lightvault/util/mapped_file.h"

namespace lv {
namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr int kMaxArrayDepth = 16;
constexpr uint64_t kMaxKeyBytes = 65535;
constexpr uint64_t kMaxNameBytes = 65535;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;
constexpr uint32_t kMaxDims = 4;
constexpr uint64_t kMaxElements = uint64_t{1} << 62;
// The fewest bytes a metadata entry and a tensor description can take.
constexpr uint64_t kMinEntryBytes = 8 + 4 + 1;       // key length, type, a 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

std::string num(uint64_t n) { return std::to_string(n); }

}  // namespace

// Reads a GgufFile's bytes front to back, filling it in.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& file) : f_(file) {}

  Status run() {
    uint64_t n_tensors = 0, n_kv = 0;
    LV_RETURN_IF_ERROR(header(&n_tensors, &n_kv));
    LV_RETURN_IF_ERROR(metadata(n_kv));
    LV_RETURN_IF_ERROR(alignment());
    for (uint64_t i = 0; i < n_tensors; ++i) LV_RETURN_IF_ERROR(tensor_info(i));
    return locate_data();
  }

 private:
  Status header(uint64_t* n_tensors, uint64_t* n_kv) {
    LV_RETURN_IF_ERROR(need(4, "magic"));
    if (std::memcmp(f_.data_, kMagic, 4) != 0) {
      return fail("not a GGUF file: magic is '" + gguf_printable(std::string_view(reinterpret_cast<const char*>(f_.data_), 4)) +
                      "', expected 'GGUF'",
                  "magic", 0);
    }
    pos_ = 4;
    LV_ASSIGN_OR_RETURN(uint32_t version, read<uint32_t>("version"));
    if (version != 2 && version != 3) {
      uint32_t swapped = __builtin_bswap32(version);
      if (swapped == 2 || swapped == 3) return fail("big-endian GGUF files are not supported", "version", 4);
      return fail("unsupported GGUF version " + num(version) + " (2 and 3 are supported)", "version", 4);
    }
    f_.version_ = version;
    LV_ASSIGN_OR_RETURN(*n_tensors, read<uint64_t>("tensor_count"));
    LV_ASSIGN_OR_RETURN(*n_kv, read<uint64_t>("metadata_kv_count"));
    // Both counts are bounded by what the rest of the file could hold, so nothing sized by
    // them is ever allocated beyond a small multiple of the file's size.
    if (*n_tensors > remaining() / kMinTensorInfoBytes) {
      return fail("tensor count " + num(*n_tensors) + " is more than the " + num(remaining()) +
                      " bytes left could describe",
                  "tensor_count", 8);
    }
    if (*n_kv > remaining() / kMinEntryBytes) {
      return fail("metadata count " + num(*n_kv) + " is more than the " + num(remaining()) + " bytes left could hold",
                  "metadata_kv_count", 16);
    }
    return Status::Ok();
  }

  Status metadata(uint64_t n_kv) {
    for (uint64_t i = 0; i < n_kv; ++i) {
      uint64_t at = pos_;
      std::string field = "metadata key #" + num(i);
      LV_ASSIGN_OR_RETURN(std::string key, read_string(field, kMaxKeyBytes));
      if (f_.metadata_.contains(key)) return fail("duplicate metadata key", key, at);
      LV_ASSIGN_OR_RETURN(uint32_t type, read<uint32_t>(key));
      LV_ASSIGN_OR_RETURN(GgufValue value, read_value(type, key, 0));
      f_.key_offsets_.emplace(key, at);
      f_.metadata_.set(std::move(key), std::move(value));
    }
    return Status::Ok();
  }

  Status alignment() {
    const GgufValue* v = f_.metadata_.find("general.alignment");
    if (v == nullptr) return Status::Ok();
    uint64_t at = f_.key_offset("general.alignment");
    std::optional<int64_t> a = v->as_int();
    if (!a) return fail("general.alignment must be an integer, not " + gguf_type_name(v->type()), "general.alignment", at);
    if (*a <= 0 || static_cast<uint64_t>(*a) > kMaxAlignment || (*a & (*a - 1)) != 0) {
      return fail("general.alignment " + std::to_string(*a) + " is not a power of two up to 2^30", "general.alignment", at);
    }
    f_.alignment_ = static_cast<uint64_t>(*a);
    return Status::Ok();
  }

  Status tensor_info(uint64_t index) {
    GgufTensorInfo t;
    t.info_offset = pos_;
    LV_ASSIGN_OR_RETURN(t.name, read_string("tensor #" + num(index), kMaxNameBytes));
    if (f_.tensor_index_.count(t.name) != 0) return fail("duplicate tensor name", t.name, t.info_offset);
    LV_RETURN_IF_ERROR(tensor_shape(t));
    LV_ASSIGN_OR_RETURN(t.type, read<uint32_t>(t.name));
    const GgmlTypeInfo* type = ggml_type_info(t.type);
    if (type == nullptr) return fail("unknown tensor type " + num(t.type), t.name, pos_ - 4);
    if (t.cols() % type->block_size != 0) {
      return fail("row length " + std::to_string(t.cols()) + " is not a multiple of " + std::string(type->name) +
                      "'s block size " + std::to_string(type->block_size),
                  t.name, t.info_offset);
    }
    uint64_t row_bytes = 0, nbytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.cols() / type->block_size),
                               static_cast<uint64_t>(type->block_bytes), &row_bytes) ||
        __builtin_mul_overflow(row_bytes, static_cast<uint64_t>(t.rows()), &nbytes)) {
      return fail("data size overflows 64 bits", t.name, t.info_offset);
    }
    t.nbytes = nbytes;
    uint64_t offset_at = pos_;
    LV_ASSIGN_OR_RETURN(t.offset, read<uint64_t>(t.name));
    if (t.offset % f_.alignment_ != 0) {
      return fail("data offset " + num(t.offset) + " is not a multiple of the alignment " + num(f_.alignment_), t.name,
                  offset_at);
    }
    f_.tensor_index_.emplace(t.name, f_.tensors_.size());
    f_.tensors_.push_back(std::move(t));
    return Status::Ok();
  }

  Status tensor_shape(GgufTensorInfo& t) {
    uint64_t dims_at = pos_;
    LV_ASSIGN_OR_RETURN(uint32_t n_dims, read<uint32_t>(t.name));
    if (n_dims > kMaxDims) return fail(num(n_dims) + " dimensions, more than 4", t.name, dims_at);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t at = pos_;
      LV_ASSIGN_OR_RETURN(uint64_t ne, read<uint64_t>(t.name));
      if (ne > static_cast<uint64_t>(INT64_MAX)) return fail("dimension " + num(d) + " is " + num(ne), t.name, at);
      if (__builtin_mul_overflow(numel, ne, &numel) || numel > kMaxElements) {
        return fail("element count overflows (more than 2^62)", t.name, at);
      }
      t.dims.push_back(static_cast<int64_t>(ne));
    }
    return Status::Ok();
  }

  // Places the data section after the descriptions and checks every tensor lies within it.
  Status locate_data() {
    uint64_t pad = (f_.alignment_ - pos_ % f_.alignment_) % f_.alignment_;
    f_.data_offset_ = pos_ + pad;  // pos_ <= size < 2^63, pad < 2^30: no overflow
    for (auto& t : f_.tensors_) {
      uint64_t end = 0;
      if (__builtin_add_overflow(f_.data_offset_, t.offset, &t.file_offset) ||
          __builtin_add_overflow(t.file_offset, t.nbytes, &end) || end > f_.size_) {
        return fail("data (" + num(t.nbytes) + " bytes at data offset " + num(t.offset) +
                        ") runs past the end of the file (" + num(f_.size_) + " bytes)",
                    t.name, t.info_offset);
      }
    }
    return Status::Ok();
  }

  // A value of type code `type` (already read) for `key`.
  Result<GgufValue> read_value(uint32_t type, const std::string& key, int depth) {
    uint64_t at = pos_;
    if (!gguf_type_valid(type)) return fail("unknown value type " + num(type), key, at - 4);
    auto t = static_cast<GgufType>(type);
    if (t == GgufType::Array) return read_array(key, depth);
    if (t == GgufType::String) {
      LV_ASSIGN_OR_RETURN(std::string s, read_string(key, UINT64_MAX));
      return GgufValue::string(std::move(s));
    }
    size_t width = gguf_type_size(t);
    LV_RETURN_IF_ERROR(need(width, key));
    LV_RETURN_IF_ERROR(check_bools(t, 1, key));
    pos_ += width;
    return GgufValue::from_bytes(t, f_.data_ + at, 1, /*as_array=*/false);
  }

  Result<GgufValue> read_array(const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) return fail("arrays nested more than 16 deep", key, pos_);
    uint64_t at = pos_;
    LV_ASSIGN_OR_RETURN(uint32_t type, read<uint32_t>(key));
    if (!gguf_type_valid(type)) return fail("unknown array element type " + num(type), key, at);
    auto element = static_cast<GgufType>(type);
    uint64_t count_at = pos_;
    LV_ASSIGN_OR_RETURN(uint64_t count, read<uint64_t>(key));
    // The smallest encoding of one element bounds the count by the bytes left.
    size_t width = gguf_type_size(element);
    uint64_t min_bytes = width > 0 ? width : element == GgufType::String ? 8 : 4 + 8;
    if (count > remaining() / min_bytes) {
      return fail("array of " + num(count) + " " + gguf_type_name(element) + " runs past the end of the file (" +
                      num(remaining()) + " bytes left)",
                  key, count_at);
    }
    if (width > 0) {
      LV_RETURN_IF_ERROR(check_bools(element, count, key));
      GgufValue v = GgufValue::from_bytes(element, f_.data_ + pos_, count);
      pos_ += count * width;
      return v;
    }
    if (element == GgufType::String) {
      std::vector<std::string> items;
      items.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        LV_ASSIGN_OR_RETURN(std::string s, read_string(key, UINT64_MAX));
        items.push_back(std::move(s));
      }
      return GgufValue::array(std::move(items));
    }
    std::vector<GgufValue> items;
    items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      LV_ASSIGN_OR_RETURN(GgufValue item, read_array(key, depth + 1));
      items.push_back(std::move(item));
    }
    return GgufValue::array_of_arrays(std::move(items));
  }

  // Fails unless every one of the next `count` bytes of a BOOL value is 0 or 1.
  Status check_bools(GgufType t, uint64_t count, const std::string& key) {
    if (t != GgufType::Bool) return Status::Ok();
    for (uint64_t i = 0; i < count; ++i) {
      uint8_t b = f_.data_[pos_ + i];
      if (b > 1) return fail("BOOL byte " + num(b) + " is neither 0 nor 1", key, pos_ + i);
    }
    return Status::Ok();
  }

  Result<std::string> read_string(std::string_view field, uint64_t max_bytes) {
    uint64_t at = pos_;
    LV_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(field));
    if (len > remaining()) {
      return fail("string length " + num(len) + " runs past the end of the file (" + num(remaining()) + " bytes left)",
                  field, at);
    }
    if (len > max_bytes) return fail("string length " + num(len) + " is over the limit of " + num(max_bytes), field, at);
    std::string s(reinterpret_cast<const char*>(f_.data_ + pos_), len);
    pos_ += len;
    return s;
  }

  template <class T>
  Result<T> read(std::string_view field) {
    LV_RETURN_IF_ERROR(need(sizeof(T), field));
    T v;
    std::memcpy(&v, f_.data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  Status need(uint64_t n, std::string_view field) {
    if (n > remaining()) {
      return fail("truncated: " + num(n) + " bytes needed, " + num(remaining()) + " left", field, pos_);
    }
    return Status::Ok();
  }

  uint64_t remaining() const { return f_.size_ - pos_; }

  Error fail(const std::string& what, std::string_view field, uint64_t offset) const {
    return gguf_error(f_.path_, what, field, static_cast<int64_t>(offset));
  }

  GgufFile& f_;
  uint64_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// GgufFile

Result<GgufFile> GgufFile::open(const std::string& path) {
  LV_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapped, MappedFile::open(path));
  const uint8_t* data = mapped->data();
  size_t size = mapped->size();
  return parse(data, size, path, std::move(mapped));
}

Result<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, std::string path,
                                 std::shared_ptr<const void> owner) {
  GgufFile f;
  f.path_ = std::move(path);
  f.owner_ = std::move(owner);
  f.data_ = data;
  f.size_ = size;
  GgufParser parser(f);
  LV_RETURN_IF_ERROR(parser.run());
  return f;
}

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // bounded by 2^62 at parse time
  return n;
}

int64_t GgufTensorInfo::rows() const {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufFile::key_offset(std::string_view key) const {
  auto it = key_offsets_.find(std::string(key));
  return it == key_offsets_.end() ? 0 : it->second;
}

Error GgufFile::error(const std::string& what, std::string_view field) const {
  int64_t offset = -1;
  if (auto it = key_offsets_.find(std::string(field)); it != key_offsets_.end()) {
    offset = static_cast<int64_t>(it->second);
  } else if (const GgufTensorInfo* t = find_tensor(field)) {
    offset = static_cast<int64_t>(t->info_offset);
  }
  return gguf_error(path_, what, field, offset);
}

namespace {

Error wrong_type(const GgufFile& f, std::string_view key, const GgufValue& v, const char* expected) {
  std::string type = gguf_type_name(v.type());
  if (v.is_array()) type += " of " + gguf_type_name(v.element_type());
  return f.error("is " + type + ", expected " + expected, key);
}

}  // namespace

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = metadata_.find(key);
  if (v == nullptr) return error("missing metadata key", key);
  if (const std::string* s = v->as_string()) return *s;
  return wrong_type(*this, key, *v, "STRING");
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = metadata_.find(key);
  if (v == nullptr) return error("missing metadata key", key);
  if (auto n = v->as_int()) return *n;
  return wrong_type(*this, key, *v, "an integer");
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = metadata_.find(key);
  if (v == nullptr) return error("missing metadata key", key);
  if (auto x = v->as_float()) return *x;
  if (auto n = v->as_int()) return static_cast<double>(*n);
  return wrong_type(*this, key, *v, "a number");
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = metadata_.find(key);
  if (v == nullptr) return error("missing metadata key", key);
  if (auto b = v->as_bool()) return *b;
  return wrong_type(*this, key, *v, "BOOL");
}

Result<int64_t> GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  if (!metadata_.contains(key)) return fallback;
  return get_int(key);
}

Result<double> GgufFile::get_float_or(std::string_view key, double fallback) const {
  if (!metadata_.contains(key)) return fallback;
  return get_float(key);
}

}  // namespace lv
