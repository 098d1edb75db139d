#include "lightvault/model/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "lightvault/util/json_reason.h"
#include "lightvault/util/text.h"

namespace lv {
namespace {

using json = nlohmann::json;

constexpr uint64_t kLengthBytes = 8;  // the uint64 header length that starts the file
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeEntry {
  StDType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {StDType::BOOL, "BOOL", 1}, {StDType::U8, "U8", 1},     {StDType::I8, "I8", 1},
    {StDType::I16, "I16", 2},   {StDType::U16, "U16", 2},   {StDType::F16, "F16", 2},
    {StDType::BF16, "BF16", 2}, {StDType::I32, "I32", 4},   {StDType::U32, "U32", 4},
    {StDType::F32, "F32", 4},   {StDType::F64, "F64", 8},   {StDType::I64, "I64", 8},
    {StDType::U64, "U64", 8},   {StDType::F8_E4M3, "F8_E4M3", 1}, {StDType::F8_E5M2, "F8_E5M2", 1},
};

uint64_t read_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void append_le64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

std::string quote_name(std::string_view name) { return quote_for_message(name, 120); }

Error tensor_error(const std::string& source, std::string_view name, const std::string& what) {
  return make_error(source, what + " (tensor " + quote_name(name) + ")");
}

Error offset_error(const std::string& source, std::string_view name, const std::string& what, uint64_t offset) {
  return make_error(source, what + " (tensor " + quote_name(name) + ", offset " + std::to_string(offset) + ")");
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// numel * elem_size, or nothing when it does not fit in int64.
std::optional<uint64_t> checked_bytes(const std::vector<int64_t>& shape, size_t elem_size) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  }
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
      __builtin_mul_overflow(n, static_cast<uint64_t>(elem_size), &n)) {
    return std::nullopt;
  }
  return n;
}

// Parses the header JSON, refusing an object that names the same key twice (nlohmann would
// silently keep the last one, and two readers could then disagree about a file).
Result<json> parse_header_json(std::string_view text, const std::string& source) {
  std::vector<std::set<std::string>> keys_of_open_objects;
  std::string duplicate;
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys_of_open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys_of_open_objects.empty() && parsed.is_string() &&
            !keys_of_open_objects.back().insert(parsed.get_ref<const std::string&>()).second && duplicate.empty()) {
          duplicate = parsed.get_ref<const std::string&>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), on_event);
  } catch (const json::parse_error& e) {
    uint64_t at = kLengthBytes + (e.byte > 0 ? e.byte - 1 : 0);
    return make_error(source, "header is not valid JSON: " + json_reason(e) + " (offset " + std::to_string(at) + ")");
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    return make_error(source, "header is not valid JSON: " + json_reason(e));
  }
  if (!duplicate.empty()) return make_error(source, "header names " + quote_name(duplicate) + " twice");
  if (!header.is_object()) return make_error(source, "header is not a JSON object (offset 8)");
  return header;
}

Result<std::map<std::string, std::string>> parse_metadata(const json& value, const std::string& source) {
  if (!value.is_object()) return make_error(source, "__metadata__ is not a JSON object");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) return make_error(source, "__metadata__ value of " + quote_name(key) + " is not a string");
    metadata.emplace(key, v.get<std::string>());
  }
  return metadata;
}

// Reads one tensor entry and checks it on its own (dtype, shape, size, bounds).
Result<StTensorInfo> parse_tensor_info(const std::string& name, const json& value, uint64_t data_offset,
                                       uint64_t data_size, const std::string& source) {
  if (!value.is_object()) return tensor_error(source, name, "entry is not a JSON object");
  StTensorInfo info;
  info.name = name;

  auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) return tensor_error(source, name, "no \"dtype\" string");
  auto dtype = st_dtype_from_name(dtype_it->get_ref<const std::string&>());
  if (!dtype) return tensor_error(source, name, "unknown dtype " + quote_name(dtype_it->get_ref<const std::string&>()));
  info.dtype = *dtype;

  auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) return tensor_error(source, name, "no \"shape\" array");
  for (const json& d : *shape_it) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return tensor_error(source, name, "shape has an entry that is not a non-negative integer");
    }
    info.shape.push_back(d.get<int64_t>());
  }

  auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    return tensor_error(source, name, "\"data_offsets\" is not a pair of non-negative integers");
  }
  info.begin = (*offsets_it)[0].get<uint64_t>();
  info.end = (*offsets_it)[1].get<uint64_t>();
  if (info.begin > info.end) {
    return tensor_error(source, name, "data_offsets begin " + std::to_string(info.begin) + " is after end " +
                                          std::to_string(info.end));
  }
  if (info.end > data_size) {
    return tensor_error(source, name, "data_offsets end " + std::to_string(info.end) +
                                          " lies past the end of the " + std::to_string(data_size) +
                                          "-byte data buffer");
  }

  auto bytes = checked_bytes(info.shape, st_dtype_size(info.dtype));
  if (!bytes) return tensor_error(source, name, "shape " + shape_string(info.shape) + " is too large");
  if (*bytes != info.nbytes()) {
    return offset_error(source, name, "data_offsets span " + std::to_string(info.nbytes()) + " bytes but " +
                                          std::string(st_dtype_name(info.dtype)) + " " + shape_string(info.shape) +
                                          " needs " + std::to_string(*bytes), data_offset + info.begin);
  }
  return info;
}

// With `tensors` sorted by offset, checks that they tile [0, data_size) exactly.
Status check_layout(const std::vector<StTensorInfo>& tensors, uint64_t data_offset, uint64_t data_size,
                    const std::string& source) {
  uint64_t covered = 0;
  const StTensorInfo* previous = nullptr;
  for (const auto& t : tensors) {
    if (t.begin < covered) {
      return offset_error(source, t.name, "data overlaps tensor " + quote_name(previous->name), data_offset + t.begin);
    }
    if (t.begin > covered) {
      return offset_error(source, t.name, std::to_string(t.begin - covered) + " unused bytes before the data",
                          data_offset + covered);
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_size) {
    return make_error(source, std::to_string(data_size - covered) + " bytes after the last tensor's data (offset " +
                                  std::to_string(data_offset + covered) + ")");
  }
  return Status::Ok();
}

// write(2) until all of [data, data + size) is written.
bool write_all(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string_view st_dtype_name(StDType t) {
  for (const auto& d : kDTypes) {
    if (d.type == t) return d.name;
  }
  return "?";
}

size_t st_dtype_size(StDType t) {
  for (const auto& d : kDTypes) {
    if (d.type == t) return d.size;
  }
  return 0;
}

std::optional<StDType> st_dtype_from_name(std::string_view name) {
  for (const auto& d : kDTypes) {
    if (d.name == name) return d.type;
  }
  return std::nullopt;
}

int64_t StTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const StTensorInfo* StHeader::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors[it->second];
}

Result<StHeader> parse_safetensors(const uint8_t* file, size_t size, const std::string& source) {
  if (size < kLengthBytes) {
    return make_error(source, "file is " + std::to_string(size) +
                                  " bytes, too short for the 8-byte header length (offset 0)");
  }
  uint64_t n = read_le64(file);
  if (n > kMaxSafetensorsHeader) {
    return make_error(source, "header length " + std::to_string(n) + " exceeds the limit of " +
                                  std::to_string(kMaxSafetensorsHeader) + " bytes (offset 0)");
  }
  if (n > size - kLengthBytes) {
    return make_error(source, "header length " + std::to_string(n) + " runs past the end of the " +
                                  std::to_string(size) + "-byte file (offset 0)");
  }
  std::string_view text(reinterpret_cast<const char*>(file + kLengthBytes), n);
  LV_ASSIGN_OR_RETURN(json root, parse_header_json(text, source));

  StHeader header;
  header.data_offset = kLengthBytes + n;
  header.data_size = size - header.data_offset;
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      LV_ASSIGN_OR_RETURN(header.metadata, parse_metadata(value, source));
      continue;
    }
    LV_ASSIGN_OR_RETURN(StTensorInfo info, parse_tensor_info(key, value, header.data_offset, header.data_size, source));
    header.tensors.push_back(std::move(info));
  }
  std::sort(header.tensors.begin(), header.tensors.end(), [](const StTensorInfo& a, const StTensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  LV_RETURN_IF_ERROR(check_layout(header.tensors, header.data_offset, header.data_size, source));
  for (size_t i = 0; i < header.tensors.size(); ++i) header.index_.emplace(header.tensors[i].name, i);
  return header;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  LV_ASSIGN_OR_RETURN(auto mapping, MappedFile::open(path));
  LV_ASSIGN_OR_RETURN(StHeader header, parse_safetensors(mapping->data(), mapping->size(), path));
  return SafetensorsFile(std::move(mapping), std::move(header));
}

Status write_safetensors(const std::string& path, const std::vector<StTensorRef>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  // Place the tensors: widest elements first keeps every tensor aligned to its element size.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return st_dtype_size(tensors[a].dtype) > st_dtype_size(tensors[b].dtype);
  });

  json header = json::object();
  if (!metadata.empty()) header[std::string(kMetadataKey)] = metadata;
  std::vector<uint64_t> sizes(tensors.size());
  uint64_t offset = 0;
  for (size_t i : order) {
    const StTensorRef& t = tensors[i];
    if (t.name == kMetadataKey) return make_error(path, "the tensor name __metadata__ is reserved");
    if (header.contains(t.name)) return tensor_error(path, t.name, "name given twice");
    auto bytes = checked_bytes(t.shape, st_dtype_size(t.dtype));
    if (!bytes) return tensor_error(path, t.name, "invalid shape " + shape_string(t.shape));
    if (*bytes > 0 && t.data == nullptr) return tensor_error(path, t.name, "no data");
    sizes[i] = *bytes;
    header[t.name] = {{"dtype", std::string(st_dtype_name(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, offset + *bytes}}};
    offset += *bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception&) {
    return make_error(path, "a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string prefix;
  append_le64(prefix, text.size());
  prefix += text;

  std::string temp = path + ".tmp.XXXXXX";
  int fd = mkstemp(temp.data());
  if (fd < 0) return make_error(path, std::string("cannot create a temporary file: ") + std::strerror(errno));
  auto fail = [&](const char* what) {
    std::string message = std::string(what) + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(temp.c_str());
    return make_error(path, message);
  };
  if (fchmod(fd, 0644) != 0) return fail("cannot set permissions");
  if (!write_all(fd, prefix.data(), prefix.size())) return fail("cannot write");
  for (size_t i : order) {
    if (sizes[i] > 0 && !write_all(fd, tensors[i].data, sizes[i])) return fail("cannot write");
  }
  if (fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    std::string message = std::string("cannot close: ") + std::strerror(errno);
    ::unlink(temp.c_str());
    return make_error(path, message);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::string message = std::string("cannot rename the temporary file into place: ") + std::strerror(errno);
    ::unlink(temp.c_str());
    return make_error(path, message);
  }
  return Status::Ok();
}

}  // namespace lv
