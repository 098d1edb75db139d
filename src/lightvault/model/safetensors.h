#pragma once
// The safetensors format (Hugging Face): a little-endian uint64 N, then N bytes of JSON
//
//   {"NAME": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
//
// (optionally padded with spaces), then the data buffer. Offsets are relative to the start of
// the buffer; each tensor is stored row-major, little-endian, in [begin, end).
//
// The reader memory-maps the file and validates the header strictly before anything points
// into the data: N is at most kMaxSafetensorsHeader and lies within the file; the header is
// a JSON object without duplicate names; every tensor has a known dtype, a shape of
// non-negative integers and end - begin == numel * dtype size (computed without overflow);
// and the tensors tile the buffer exactly: no overlap, no gap, nothing after the last one
// (what the reference implementation requires, so that no bytes hide in a file). Errors read
// "PATH: what is wrong (tensor 'NAME', offset N)", offsets counted from the start of the file.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lightvault/util/mapped_file.h"
#include "lightvault/util/status.h"

namespace lv {

// Largest header accepted, as in the reference implementation (100 MB).
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// The element types a safetensors file may declare. All are parsed (so that files holding,
// say, an I64 buffer can still be opened); which ones a model loader accepts is its choice.
enum class StDType : uint8_t { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64, F8_E4M3, F8_E5M2 };

// "F32", "BF16", ... as written in the header.
std::string_view st_dtype_name(StDType t);
// Bytes per element (1, 2, 4 or 8).
size_t st_dtype_size(StDType t);
// The dtype written as `name`, or nothing when the name is not one of the above.
std::optional<StDType> st_dtype_from_name(std::string_view name);

// One tensor as the header describes it.
struct StTensorInfo {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;  // empty for a scalar
  uint64_t begin = 0;          // data_offsets, relative to the data buffer
  uint64_t end = 0;

  int64_t numel() const;       // product of shape (validated not to overflow)
  uint64_t nbytes() const { return end - begin; }
};

// A parsed, validated header.
struct StHeader {
  std::vector<StTensorInfo> tensors;          // in the order of their data in the buffer
  std::map<std::string, std::string> metadata;  // "__metadata__", empty when absent
  uint64_t data_offset = 0;                   // file offset of the data buffer: 8 + N
  uint64_t data_size = 0;                     // bytes in the data buffer

  // The tensor called `name`, or nullptr.
  const StTensorInfo* find(std::string_view name) const;

 private:
  friend Result<StHeader> parse_safetensors(const uint8_t* file, size_t size, const std::string& source);
  std::unordered_map<std::string, size_t> index_;
};

// Parses and validates the header of the safetensors file whose whole content is
// `file[0, size)`. `source` (usually the path) starts every error message. Never reads
// outside the buffer, whatever its content.
Result<StHeader> parse_safetensors(const uint8_t* file, size_t size, const std::string& source);

// An open, validated safetensors file. Copies share the mapping.
class SafetensorsFile {
 public:
  // Maps `path` and validates its header. Errors name the path.
  static Result<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return mapping_->path(); }
  uint64_t file_size() const { return mapping_->size(); }
  const StHeader& header() const { return header_; }
  const std::vector<StTensorInfo>& tensors() const { return header_.tensors; }
  const StTensorInfo* find(std::string_view name) const { return header_.find(name); }
  // First byte of `t`'s data inside the mapping (t must come from this file's header).
  const uint8_t* data(const StTensorInfo& t) const { return mapping_->data() + header_.data_offset + t.begin; }
  // The mapping, for tensors that point into it to keep it alive.
  const std::shared_ptr<MappedFile>& mapping() const { return mapping_; }

 private:
  SafetensorsFile(std::shared_ptr<MappedFile> mapping, StHeader header)
      : mapping_(std::move(mapping)), header_(std::move(header)) {}
  std::shared_ptr<MappedFile> mapping_;
  StHeader header_;
};

// A tensor to write: `data` holds numel(shape) * st_dtype_size(dtype) bytes, row-major.
struct StTensorRef {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
};

// Writes a safetensors file that the reader above (and the reference implementation)
// accepts: the header padded with spaces to a multiple of 8 bytes and the tensors laid out
// by decreasing element size (then in the given order), so every tensor is aligned to its
// element size when the file is mapped. Atomic: the bytes go to a temporary file in the same
// directory, which is synced and renamed over `path` only when complete; on failure nothing
// is left at `path` that was not there before. Fails on duplicate or reserved names
// ("__metadata__") and negative dimensions.
Status write_safetensors(const std::string& path, const std::vector<StTensorRef>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace lv
