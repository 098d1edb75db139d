// Writing GGUF files: the generic write_gguf, and save_gguf for Llama-family models.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "lightvault/model/gguf.h"
#include "lightvault/model/gguf_layout.h"
#include "lightvault/tensor/quantize.h"

namespace lv {
namespace {

constexpr uint32_t kVersion = 3;
constexpr size_t kMaxTensorName = 63;  // llama.cpp's GGML_MAX_NAME - 1

// ---------------------------------------------------------------------------------------
// Serialization of the header

class ByteSink {
 public:
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void string(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void pad_to(uint64_t alignment) { out_.append((alignment - out_.size() % alignment) % alignment, '\0'); }

  // A value's payload (its type code is written by the caller).
  void value(const GgufValue& v) {
    if (v.type() == GgufType::String) return string(*v.as_string());
    if (!v.is_array()) return raw(v.bytes().data(), v.bytes().size());
    u32(static_cast<uint32_t>(v.element_type()));
    u64(v.size());
    if (v.element_type() == GgufType::String) {
      for (uint64_t i = 0; i < v.size(); ++i) string(v.string_at(i));
    } else if (v.element_type() == GgufType::Array) {
      for (uint64_t i = 0; i < v.size(); ++i) value(v.array_at(i));
    } else {
      raw(v.bytes().data(), v.bytes().size());
    }
  }

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

// ---------------------------------------------------------------------------------------
// A file that appears at its path only when committed.

class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {}
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status open() {
    std::string pattern = path_ + ".tmp-XXXXXX";
    fd_ = ::mkstemp(pattern.data());
    if (fd_ < 0) return fail("cannot create a temporary file beside it");
    tmp_ = pattern;
    if (::fchmod(fd_, 0644) != 0) return fail("cannot set permissions");
    return Status::Ok();
  }

  Status write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return fail("cannot write");
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::Ok();
  }

  Status write_zeros(uint64_t n) {
    static const char kZeros[4096] = {};
    for (; n > sizeof kZeros; n -= sizeof kZeros) LV_RETURN_IF_ERROR(write(kZeros, sizeof kZeros));
    return write(kZeros, n);
  }

  // Flushes, closes and renames the temporary file over the path.
  Status commit() {
    if (::fsync(fd_) != 0) return fail("cannot sync");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return fail("cannot close");
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) return fail("cannot rename the temporary file into place");
    tmp_.clear();
    return Status::Ok();
  }

 private:
  Error fail(const std::string& what) const { return make_error(path_, what + ": " + std::strerror(errno)); }

  std::string path_;
  std::string tmp_;
  int fd_ = -1;
};

// The data size of a tensor with this type and shape, after checking them.
Result<uint64_t> checked_nbytes(const std::string& path, const GgufTensorSource& t) {
  const GgmlTypeInfo* type = ggml_type_info(t.type);
  if (type == nullptr) return gguf_error(path, "unknown tensor type " + std::to_string(t.type), t.name);
  if (t.name.size() > kMaxTensorName) return gguf_error(path, "tensor name longer than 63 bytes", t.name);
  if (t.dims.empty() || t.dims.size() > 4) return gguf_error(path, "a tensor needs 1 to 4 dims", t.name);
  uint64_t numel = 1;
  for (int64_t d : t.dims) {
    if (d < 0 || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) {
      return gguf_error(path, "invalid dims", t.name);
    }
  }
  if (t.dims[0] % type->block_size != 0) {
    return gguf_error(path, "row length is not a multiple of the block size of " + std::string(type->name), t.name);
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel / static_cast<uint64_t>(type->block_size), static_cast<uint64_t>(type->block_bytes),
                             &nbytes)) {
    return gguf_error(path, "data size overflows", t.name);
  }
  return nbytes;
}

Result<uint64_t> alignment_of(const std::string& path, const GgufMetadata& md) {
  const GgufValue* v = md.find("general.alignment");
  if (v == nullptr) return uint64_t{32};
  std::optional<int64_t> a = v->as_int();
  if (v->type() != GgufType::Uint32 || *a == 0 || (*a & (*a - 1)) != 0 || *a > (int64_t{1} << 30)) {
    return gguf_error(path, "must be a UINT32 power of two", "general.alignment");
  }
  return static_cast<uint64_t>(*a);
}

}  // namespace

Status write_gguf(const std::string& path, const GgufMetadata& metadata, const std::vector<GgufTensorSource>& tensors) {
  LV_ASSIGN_OR_RETURN(uint64_t alignment, alignment_of(path, metadata));
  ByteSink header;
  header.raw("GGUF", 4);
  header.u32(kVersion);
  header.u64(tensors.size());
  header.u64(metadata.size());
  for (const auto& [key, value] : metadata.entries()) {
    header.string(key);
    header.u32(static_cast<uint32_t>(value.type()));
    header.value(value);
  }
  std::vector<uint64_t> sizes;
  std::unordered_set<std::string> names;
  uint64_t offset = 0;
  for (const GgufTensorSource& t : tensors) {
    if (!names.insert(t.name).second) return gguf_error(path, "duplicate tensor name", t.name);
    LV_ASSIGN_OR_RETURN(uint64_t nbytes, checked_nbytes(path, t));
    header.string(t.name);
    header.u32(static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) header.u64(static_cast<uint64_t>(d));
    header.u32(t.type);
    header.u64(offset);
    offset += nbytes + (alignment - nbytes % alignment) % alignment;
    sizes.push_back(nbytes);
  }
  header.pad_to(alignment);

  AtomicFile out(path);
  LV_RETURN_IF_ERROR(out.open());
  LV_RETURN_IF_ERROR(out.write(header.bytes().data(), header.bytes().size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    LV_ASSIGN_OR_RETURN(GgufBlob blob, tensors[i].bytes());
    if (blob.size != sizes[i] || (blob.data == nullptr && blob.size != 0)) {
      return gguf_error(path, "tensor data has " + std::to_string(blob.size) + " bytes where " +
                                  std::to_string(sizes[i]) + " were expected",
                        tensors[i].name);
    }
    LV_RETURN_IF_ERROR(out.write(blob.data, blob.size));
    LV_RETURN_IF_ERROR(out.write_zeros((alignment - sizes[i] % alignment) % alignment));
  }
  return out.commit();
}

// ---------------------------------------------------------------------------------------
// Models

namespace {

// The ggml type a model tensor of dtype `dtype` is written as (`dtype` matters only for Keep).
uint32_t target_type(const GgufSlot& slot, DType dtype, GgufWeights weights) {
  bool q8_ok = !slot.vector && slot.cols % kQ8BlockSize == 0;
  if (slot.vector || weights == GgufWeights::F32) return kGgmlF32;
  if (weights == GgufWeights::Q8_0) return q8_ok ? kGgmlQ8_0 : kGgmlF32;
  if (weights == GgufWeights::F16) return kGgmlF16;
  switch (dtype) {  // Keep
    case DType::F16: return kGgmlF16;
    case DType::Q8_0: return kGgmlQ8_0;
    case DType::I8: return q8_ok ? kGgmlQ8_0 : kGgmlF32;
    case DType::F32: return kGgmlF32;
  }
  return kGgmlF32;
}

GgufBlob blob_of(const Tensor& t) { return GgufBlob{t.data, t.nbytes(), t.owner}; }

// The bytes of `t` as ggml type `type`, converted only when its dtype differs.
GgufBlob convert(const Tensor& t, uint32_t type) {
  if (type == kGgmlQ8_0) {
    if (t.dtype == DType::Q8_0) return blob_of(t);
    // I8 keeps its values and per-row scales exactly (up to the float16 scale).
    return blob_of(t.dtype == DType::I8 ? i8_as_q8_0(t) : quantize_q8_0(t));
  }
  if (type == kGgmlF16) {
    if (t.dtype == DType::F16) return blob_of(t);
    std::vector<float> values = to_f32(t);
    auto halves = std::make_shared<std::vector<uint16_t>>(values.size());
    for (size_t i = 0; i < values.size(); ++i) (*halves)[i] = f32_to_f16(values[i]);
    return GgufBlob{halves->data(), halves->size() * sizeof(uint16_t), halves};
  }
  if (t.dtype == DType::F32) return blob_of(t);
  auto values = std::make_shared<std::vector<float>>(to_f32(t));
  return GgufBlob{values->data(), values->size() * sizeof(float), values};
}

std::string default_name(const Model& m) {
  std::string name = m.path;
  if (size_t slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
  if (size_t dot = name.find_last_of('.'); dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  return name.empty() ? "model" : name;
}

void add_shape_metadata(GgufMetadata& md, const ModelConfig& c, const std::string& arch) {
  GgufKeys k(arch);
  auto u32 = [](int64_t v) { return GgufValue::scalar(static_cast<uint32_t>(v)); };
  md.set(k.context_length, u32(c.seq_len));
  md.set(k.embedding_length, u32(c.dim));
  md.set(k.feed_forward_length, u32(c.hidden_dim));
  md.set(k.block_count, u32(c.n_layers()));
  md.set(k.vocab_size, u32(c.vocab_size));
  md.set(k.rope_dimension_count, u32(c.head_dim));
  md.set(k.rope_freq_base, GgufValue::scalar(c.rope_theta));
  if (c.uniform_heads()) {
    md.set(k.head_count, u32(c.layers[0].n_heads));
    md.set(k.head_count_kv, u32(c.layers[0].n_kv_heads));
  } else {  // llama.cpp reads per-layer counts from INT32 arrays
    std::vector<int32_t> heads, kv;
    for (const LayerShape& l : c.layers) {
      heads.push_back(l.n_heads);
      kv.push_back(l.n_kv_heads);
    }
    md.set(k.head_count, GgufValue::array(heads));
    md.set(k.head_count_kv, GgufValue::array(kv));
  }
  md.set(k.key_length, u32(c.head_dim));
  md.set(k.value_length, u32(c.head_dim));
  md.set(k.rms_epsilon, GgufValue::scalar(c.norm_eps));
}

void add_tokenizer_metadata(GgufMetadata& md, const Tokenizer& tok) {
  md.set("tokenizer.ggml.model", GgufValue::string("llama"));
  md.set("tokenizer.ggml.tokens", GgufValue::array(tok.pieces()));
  md.set("tokenizer.ggml.scores", GgufValue::array(tok.scores()));
  md.set("tokenizer.ggml.token_type", GgufValue::array(tok.types()));
  auto set_id = [&](const char* key, int id) {
    if (id >= 0) md.set(key, GgufValue::scalar(static_cast<uint32_t>(id)));
  };
  set_id("tokenizer.ggml.bos_token_id", tok.bos_id());
  set_id("tokenizer.ggml.eos_token_id", tok.eos_id());
  set_id("tokenizer.ggml.unknown_token_id", tok.unk_id());
  md.set("tokenizer.ggml.add_bos_token", GgufValue::scalar(true));
  md.set("tokenizer.ggml.add_eos_token", GgufValue::scalar(false));
}

// llama.cpp's llama_ftype for the types written: 0 all F32, 1 mostly F16, 7 mostly Q8_0.
uint32_t file_type(const std::vector<GgufTensorSource>& tensors) {
  bool f16 = false;
  for (const auto& t : tensors) {
    if (t.type == kGgmlQ8_0) return 7;
    f16 = f16 || t.type == kGgmlF16;
  }
  return f16 ? 1 : 0;
}

}  // namespace

namespace {

// The writer behind save_gguf and save_gguf_streamed: the types of every tensor are decided
// from the slots and `dtype_of` before any data exists; `tensor_of` is asked for each
// tensor's data only as the file reaches it, and what it returns is released right after.
Status save_slots(const ModelConfig& c, bool shared_classifier, const Tokenizer& tokenizer,
                  const std::function<DType(const GgufSlot&)>& dtype_of, const GgufSlotTensor& tensor_of,
                  const std::string& path, const GgufWriteOptions& opt, const std::string& default_model_name) {
  if (opt.alignment == 0 || (opt.alignment & (opt.alignment - 1)) != 0 || opt.alignment > (1u << 30)) {
    return make_error(path, "alignment " + std::to_string(opt.alignment) + " is not a power of two up to 2^30");
  }
  std::vector<GgufTensorSource> tensors;
  for (const GgufSlot& slot : gguf_slots(c, shared_classifier)) {
    GgufTensorSource src;
    src.name = slot.name;
    src.type = target_type(slot, dtype_of(slot), opt.weights);
    src.dims = slot.vector ? std::vector<int64_t>{slot.cols} : std::vector<int64_t>{slot.cols, slot.rows};
    src.bytes = [&tensor_of, slot, type = src.type]() -> Result<GgufBlob> {
      LV_ASSIGN_OR_RETURN(Tensor t, tensor_of(slot));
      return convert(t, type);
    };
    tensors.push_back(std::move(src));
  }

  const std::string arch = c.uniform_heads() ? "llama" : "deci";
  GgufMetadata md;
  md.set("general.architecture", GgufValue::string(arch));
  md.set("general.name", GgufValue::string(opt.name.empty() ? default_model_name : opt.name));
  md.set("general.alignment", GgufValue::scalar(opt.alignment));
  uint32_t ftype = file_type(tensors);
  md.set("general.file_type", GgufValue::scalar(ftype));
  if (ftype == 7) md.set("general.quantization_version", GgufValue::scalar(uint32_t{2}));
  add_shape_metadata(md, c, arch);
  if (!tokenizer.empty()) add_tokenizer_metadata(md, tokenizer);
  return write_gguf(path, md, tensors);
}

}  // namespace

Status save_gguf(const Model& m, const std::string& path, const GgufWriteOptions& opt) {
  return save_gguf_derived(
      m, [&m](const GgufSlot& slot) { return gguf_slot_tensor(m, slot).dtype; },
      [&m](const GgufSlot& slot) -> Result<Tensor> { return gguf_slot_tensor(m, slot); }, path, opt);
}

Status save_gguf_derived(const Model& m, const std::function<DType(const GgufSlot&)>& dtype_of,
                         const GgufSlotTensor& tensor_of, const std::string& path, const GgufWriteOptions& opt) {
  LV_RETURN_IF_ERROR(m.validate());
  return save_slots(m.config, m.shared_classifier, m.tokenizer, dtype_of, tensor_of, path, opt, default_name(m));
}

Status save_gguf_streamed(const ModelConfig& c, bool shared_classifier, const Tokenizer& tokenizer,
                          const GgufSlotTensor& tensor_of, const std::string& path, const GgufWriteOptions& opt) {
  if (opt.weights == GgufWeights::Keep) {
    return make_error(path, "a streamed model needs an explicit weight type (f32, f16 or q8_0), not keep");
  }
  LV_RETURN_IF_ERROR(c.validate(path));
  return save_slots(
      c, shared_classifier, tokenizer, [](const GgufSlot&) { return DType::F32; },
      [&](const GgufSlot& slot) -> Result<Tensor> {
        LV_ASSIGN_OR_RETURN(Tensor t, tensor_of(slot));
        if (t.rows != slot.rows || t.cols != slot.cols) {
          return gguf_error(path, "tensor is " + std::to_string(t.rows) + "x" + std::to_string(t.cols) +
                                      ", expected " + std::to_string(slot.rows) + "x" + std::to_string(slot.cols),
                            slot.name);
        }
        return t;
      },
      path, opt, "model");
}

}  // namespace lv
