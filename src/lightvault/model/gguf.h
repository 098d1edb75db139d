#pragma once
// GGUF, llama.cpp's model file format (versions 2 and 3, little-endian): a header, typed
// metadata ("key = value"), tensor descriptions, then the tensor data, each tensor starting
// at a multiple of `general.alignment` (default 32) from the start of the data section.
//
// Three layers, each usable alone:
//   - GgufValue / GgufMetadata / GgufFile: the generic container, for `lightvault inspect`
//     and for any architecture. GgufFile::parse reads untrusted bytes: every count, length
//     and offset is checked before use, and a bad file yields an Error, never a crash.
//   - load_gguf / save_gguf: a Llama-family Model in and out (architectures `llama` and
//     `deci`; see save_gguf for when each is written).
//   - write_gguf: the generic writer that save_gguf is built on.
//
// Every error reads "PATH: what is wrong (field 'NAME', offset N)", naming the file and
// the metadata key or tensor, the byte offset, or both.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lightvault/model/model.h"
#include "lightvault/util/status.h"

namespace lv {

// ---------------------------------------------------------------------------------------
// Metadata values

// The GGUF metadata value types, with their on-disk codes.
enum class GgufType : uint32_t {
  Uint8 = 0,
  Int8 = 1,
  Uint16 = 2,
  Int16 = 3,
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
  Int64 = 11,
  Float64 = 12,
};

// "UINT8", "STRING", ...; "type N" for a code that is not a GgufType.
std::string gguf_type_name(GgufType t);
// True for the codes 0..12.
bool gguf_type_valid(uint32_t code);
// Bytes of one value of a fixed-size type (1 for Bool); 0 for String and Array.
size_t gguf_type_size(GgufType t);

// The C++ type that stores each fixed-size GgufType (bool for Bool).
template <class T> struct GgufTypeOf;
template <> struct GgufTypeOf<uint8_t> { static constexpr GgufType value = GgufType::Uint8; };
template <> struct GgufTypeOf<int8_t> { static constexpr GgufType value = GgufType::Int8; };
template <> struct GgufTypeOf<uint16_t> { static constexpr GgufType value = GgufType::Uint16; };
template <> struct GgufTypeOf<int16_t> { static constexpr GgufType value = GgufType::Int16; };
template <> struct GgufTypeOf<uint32_t> { static constexpr GgufType value = GgufType::Uint32; };
template <> struct GgufTypeOf<int32_t> { static constexpr GgufType value = GgufType::Int32; };
template <> struct GgufTypeOf<float> { static constexpr GgufType value = GgufType::Float32; };
template <> struct GgufTypeOf<bool> { static constexpr GgufType value = GgufType::Bool; };
template <> struct GgufTypeOf<uint64_t> { static constexpr GgufType value = GgufType::Uint64; };
template <> struct GgufTypeOf<int64_t> { static constexpr GgufType value = GgufType::Int64; };
template <> struct GgufTypeOf<double> { static constexpr GgufType value = GgufType::Float64; };

// One metadata value: a scalar, a string, or an array whose elements all have one type
// (arrays may nest: an ARRAY of ARRAYs, each inner array with its own element type).
// Fixed-size values are kept as their little-endian bytes, so a value read from a file
// writes back bit for bit (NaN payloads included) and equality is bitwise.
class GgufValue {
 public:
  GgufValue() : bytes_(1, 0) {}  // UINT8 0

  // A scalar of the fixed-size type that stores T (uint8_t .. double, bool).
  template <class T>
  static GgufValue scalar(T v) {
    return from_bytes(GgufTypeOf<T>::value, &v, 1, /*as_array=*/false);
  }
  static GgufValue string(std::string s);
  // An array of a fixed-size type.
  template <class T>
  static GgufValue array(const std::vector<T>& items) {
    return from_bytes(GgufTypeOf<T>::value, items.data(), items.size());
  }
  static GgufValue array(const std::vector<bool>& items);
  static GgufValue array(std::vector<std::string> items);
  // An array of arrays. Every item must itself be an array (asserted).
  static GgufValue array_of_arrays(std::vector<GgufValue> items);
  // `count` values of fixed-size type `t` (not String or Array) taken from `bytes`, which
  // holds count * gguf_type_size(t) little-endian bytes. count == 1 with as_array == false
  // makes a scalar. Bool bytes must be 0 or 1 (asserted; the parser checks files).
  static GgufValue from_bytes(GgufType t, const void* bytes, uint64_t count, bool as_array = true);

  // The value's type: a scalar type, String, or Array.
  GgufType type() const { return type_; }
  bool is_array() const { return type_ == GgufType::Array; }
  // Arrays only: the type of the elements.
  GgufType element_type() const { return element_; }
  // Arrays: the number of elements; scalars and strings: 1.
  uint64_t size() const { return count_; }

  // Scalar access. Each returns nullopt when the value is not of a fitting kind:
  // as_int accepts every integer type whose value fits int64 (not Bool); as_float accepts
  // Float32 and Float64; as_bool accepts Bool; as_string accepts String.
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;

  // Element access for arrays; i must be < size() (asserted). int_at / float_at /
  // bool_at follow the rules of as_int / as_float / as_bool for the element type.
  std::optional<int64_t> int_at(uint64_t i) const;
  std::optional<double> float_at(uint64_t i) const;
  std::optional<bool> bool_at(uint64_t i) const;
  const std::string& string_at(uint64_t i) const;    // element_type() == String
  const GgufValue& array_at(uint64_t i) const;       // element_type() == Array

  // For printing: scalars in full, strings quoted and escaped (cut after 64 bytes), arrays
  // as "[a, b, c, ...] (N x TYPE)" showing at most `max_items` elements.
  std::string describe(size_t max_items = 6) const;

  // The little-endian bytes of a fixed-size scalar or of a fixed-size array's elements.
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  friend bool operator==(const GgufValue&, const GgufValue&) = default;

 private:
  GgufType type_ = GgufType::Uint8;
  GgufType element_ = GgufType::Uint8;  // arrays only
  uint64_t count_ = 1;
  std::vector<uint8_t> bytes_;          // fixed-size scalar or array elements
  std::vector<std::string> strings_;    // the string, or the elements of a String array
  std::vector<GgufValue> arrays_;       // the elements of an Array array
};

// Key/value metadata in insertion order (the order of the file), with look-up by key.
class GgufMetadata {
 public:
  // Adds `key`, or replaces its value in place when it is already present.
  void set(std::string key, GgufValue value);
  // The value of `key`, or nullptr.
  const GgufValue* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }

  friend bool operator==(const GgufMetadata& a, const GgufMetadata& b) { return a.entries_ == b.entries_; }

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// ---------------------------------------------------------------------------------------
// Tensor types (ggml's codes)

constexpr uint32_t kGgmlF32 = 0;
constexpr uint32_t kGgmlF16 = 1;
constexpr uint32_t kGgmlQ8_0 = 8;

struct GgmlTypeInfo {
  std::string_view name;  // "F32", "Q4_K", ...
  int64_t block_size;     // elements per block (1 for plain types)
  int64_t block_bytes;    // bytes per block
};

// The layout of the ggml tensor type with this code, or nullptr when the code is unknown
// (including the codes ggml has retired). Covers every type ggml writes to GGUF, so sizes
// (and therefore bounds) are checked for all tensors, loadable or not.
const GgmlTypeInfo* ggml_type_info(uint32_t code);
// The type's name, or "type N" for an unknown code.
std::string ggml_type_name(uint32_t code);

// ---------------------------------------------------------------------------------------
// Reading

struct GgufTensorInfo {
  std::string name;
  uint32_t type = 0;            // ggml type code; ggml_type_info(type) is never null here
  std::vector<int64_t> dims;    // ne[0] first: ne[0] is the row length; 0..4 dims
  uint64_t offset = 0;          // from the start of the data section, as stored
  uint64_t file_offset = 0;     // from the start of the file
  uint64_t nbytes = 0;          // size of the data
  uint64_t info_offset = 0;     // where this tensor's description starts in the file

  int64_t numel() const;
  int64_t cols() const { return dims.empty() ? 1 : dims[0]; }
  int64_t rows() const;         // product of dims[1..], 1 for a vector
};

class GgufFile {
 public:
  // Maps the file at `path` and parses everything but the tensor data. Tensor data stays
  // in the mapping, which lives as long as any copy of owner() does.
  static Result<GgufFile> open(const std::string& path);

  // Parses `size` bytes at `data` (the whole file); `path` names it in errors. `owner`, if
  // given, keeps `data` alive; otherwise the caller must keep it alive as long as it uses
  // tensor_data() or tensors built from this file.
  //
  // Checks made (each failure an Error naming the field and/or byte offset):
  //   magic "GGUF"; version 2 or 3 (big-endian files and version 1 are refused);
  //   counts of tensors, keys and array elements no larger than the bytes left could hold;
  //   string lengths within the file; keys unique, at most 65535 bytes; value types known;
  //   BOOL bytes 0 or 1; arrays nested at most 16 deep; general.alignment an integer power
  //   of two up to 2^30; tensor names unique, at most 4 dims, each dim < 2^63, element
  //   count at most 2^62, ne[0] a multiple of the type's block size; tensor type known;
  //   offset a multiple of the alignment; data within the file.
  static Result<GgufFile> parse(const uint8_t* data, size_t size, std::string path,
                                std::shared_ptr<const void> owner = nullptr);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the data section
  uint64_t file_size() const { return size_; }
  const GgufMetadata& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // The tensor named `name`, or nullptr.
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // The first byte of a tensor's data; its nbytes bytes all lie within the file.
  const uint8_t* tensor_data(const GgufTensorInfo& t) const { return data_ + t.file_offset; }
  // The byte offset of the key/value record of `key` (0 when absent), for error messages.
  uint64_t key_offset(std::string_view key) const;

  // Typed metadata look-ups. A missing key or a value of the wrong type is an Error naming
  // the file, the key and its offset. get_int accepts every integer type; get_float
  // accepts FLOAT32, FLOAT64 and integers.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  // As above, but a missing key yields `fallback` (a present key of the wrong type is
  // still an Error).
  Result<int64_t> get_int_or(std::string_view key, int64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;

  // "PATH: what (field 'FIELD', offset N)" with the field's offset when `field` is a key
  // or a tensor name of this file, or "PATH: what (field 'FIELD')" otherwise.
  Error error(const std::string& what, std::string_view field) const;

 private:
  friend class GgufParser;
  std::string path_;
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  GgufMetadata metadata_;
  std::unordered_map<std::string, uint64_t> key_offsets_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// Builds "PATH: what (field 'FIELD', offset N)"; an empty field or a negative offset is
// left out of the parenthesis (and the parenthesis too when both are).
Error gguf_error(const std::string& path, const std::string& what, std::string_view field, int64_t offset = -1);

// Makes bytes from a file safe to print: printable ASCII kept (valid UTF-8 too), other
// bytes as \xNN, cut after `max_bytes` with "...".
std::string gguf_printable(std::string_view s, size_t max_bytes = 64);

// ---------------------------------------------------------------------------------------
// Llama-family models

// The model shape described by the metadata of a `llama` or `deci` file:
//   {arch}.embedding_length, .feed_forward_length (a scalar, or an array of equal values),
//   .block_count, .context_length, .attention.head_count (a scalar, or an integer array
//   with one count per layer), .attention.head_count_kv (same; default head_count),
//   .attention.layer_norm_rms_epsilon (default 1e-5), .rope.freq_base (default 10000),
//   .attention.key_length (the head size; default embedding_length / head_count of layer 0,
//   as llama.cpp does), .attention.value_length and .rope.dimension_count (must equal the
//   head size when present). vocab_size is the tokenizer's token count, or when the file
//   has no tokenizer, the rows of token_embd.weight. Every value is range-checked and
//   the result passes ModelConfig::validate.
Result<ModelConfig> gguf_model_config(const GgufFile& file);

// A Model from a parsed file of architecture `llama` or `deci`. Tensors:
// token_embd.weight, output_norm.weight, output.weight (absent: the classifier is shared
// with token_embd), blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
// ffn_gate, ffn_down, ffn_up}.weight. A layer with 0 heads has no attention tensors in the
// file (as llama.cpp's `deci` expects); its attn_norm reads back as ones and wq/wk/wv/wo as
// data-less tensors of 0 rows (wo: 0 cols). Types F32, F16 and Q8_0 are loaded; others are
// an Error naming the tensor and type. Missing, unexpected or misshapen tensors are
// Errors naming the tensor. Weights point into the file's data (owner() keeps it alive)
// unless their offset is misaligned for their type, in which case they are copied.
// The tokenizer is attached when the file has one (see gguf_tokenizer).
Result<Model> gguf_model(const GgufFile& file);

// Maps and loads the GGUF model at `path` (format "gguf"); see gguf_model.
Result<Model> load_gguf(const std::string& path);

// The tokenizer in the metadata: tokenizer.ggml.model must be "llama" (SentencePiece);
// .tokens (pieces with U+2581 for spaces), .scores (default 0) and .token_type (default:
// inferred) of equal length; .bos_token_id (default 1), .eos_token_id (2),
// .unknown_token_id (0) within the vocabulary. An Error when the file has no tokens.
Result<Tokenizer> gguf_tokenizer(const GgufFile& file);

// Reads just the tokenizer of the GGUF file at `path`.
Result<Tokenizer> load_gguf_tokenizer(const std::string& path);

// ---------------------------------------------------------------------------------------
// Writing

// Bytes to write for one tensor; `owner` keeps `data` alive until written.
struct GgufBlob {
  const void* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
};

struct GgufTensorSource {
  std::string name;
  uint32_t type = kGgmlF32;    // ggml type code
  std::vector<int64_t> dims;   // ne[0] first, 1..4 dims
  // Called once, when the writer reaches this tensor, so that converted copies are made
  // one at a time; must yield exactly the bytes that type and dims call for.
  std::function<Result<GgufBlob>()> bytes;
};

// Writes a GGUF v3 file: `metadata` in its order, then the tensor descriptions and data in
// the order given, each tensor's data padded to general.alignment (taken from the metadata,
// where it must be a UINT32 power of two; 32 when absent). Names must be unique and at
// most 63 bytes (llama.cpp's limit), ne[0] a multiple of the type's block size.
// The file is written to a temporary file in the same directory, synced and renamed over
// `path`, so that a failed write leaves no file and an existing `path` untouched.
Status write_gguf(const std::string& path, const GgufMetadata& metadata,
                  const std::vector<GgufTensorSource>& tensors);

enum class GgufWeights {
  Keep,  // F32, F16 and Q8_0 weights as they are; I8 becomes Q8_0 (F32 if cols % 32 != 0)
  F32,   // every tensor as F32
  Q8_0,  // 2-D weights (token_embd included) with cols % 32 == 0 as Q8_0, the rest F32
  F16,   // 2-D weights as F16 (rounded to nearest even), norms F32
};

struct GgufWriteOptions {
  GgufWeights weights = GgufWeights::Keep;
  std::string name;          // general.name; empty: the model path's file name, or "model"
  uint32_t alignment = 32;   // general.alignment; a power of two
};

// Writes `m` (which must pass Model::validate) so that llama.cpp loads it.
// Architecture `llama` when the heads are uniform, otherwise `deci` with per-layer INT32
// arrays for attention.head_count and .head_count_kv, explicit key_length/value_length,
// and no attention tensors (attn_norm included) for layers with 0 heads. (llama.cpp, as of
// early 2025, derives the head size from layer 0 and so cannot load a `deci` file whose
// layer 0 has no heads; lightvault reads it.) Metadata:
// general.architecture, .name, .alignment, .file_type (0 all F32, 1 mostly F16, 7 mostly
// Q8_0), .quantization_version (when quantized); {arch}.context_length, .embedding_length,
// .feed_forward_length, .block_count, .vocab_size, .rope.dimension_count, .rope.freq_base,
// .attention.{head_count, head_count_kv, key_length, value_length,
// layer_norm_rms_epsilon}; and when the model has a tokenizer, tokenizer.ggml.{model =
// "llama", tokens, scores, token_type, bos/eos/unknown_token_id, add_bos_token = true,
// add_eos_token = false}. Norms are always F32. A shared classifier writes no
// output.weight. Written atomically (see write_gguf).
Status save_gguf(const Model& m, const std::string& path, const GgufWriteOptions& opt = {});

struct GgufSlot;
// The tensor of one slot (shape slot.rows x slot.cols), made on demand.
using GgufSlotTensor = std::function<Result<Tensor>(const GgufSlot&)>;

// save_gguf of the model whose tensors `tensor_of` derives from m's one slot at a time, as the
// writer reaches it (each released before the next), so that the derived model never exists
// whole: `dtype_of(slot)` must be the dtype tensor_of returns for it, and its shape m's. The
// metadata, tokenizer and name are m's.
Status save_gguf_derived(const Model& m, const std::function<DType(const GgufSlot&)>& dtype_of,
                         const GgufSlotTensor& tensor_of, const std::string& path, const GgufWriteOptions& opt = {});

// Writes a model of shape `c` that never exists in memory as a whole: `tensor_of` is called
// once per slot, in file order, as the writer reaches it, and its tensor is released before
// the next call, so peak memory is about one tensor (and its converted copy). opt.weights
// must not be Keep (the file's types are fixed before any tensor exists). The file is what
// save_gguf writes for a Model holding the same tensors, with general.name "model" unless
// opt.name says otherwise; a tensor of the wrong shape fails the write, which leaves no file.
Status save_gguf_streamed(const ModelConfig& c, bool shared_classifier, const Tokenizer& tokenizer,
                          const GgufSlotTensor& tensor_of, const std::string& path,
                          const GgufWriteOptions& opt);

}  // namespace lv
