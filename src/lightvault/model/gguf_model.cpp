// Llama-family models and tokenizers out of a parsed GgufFile.
#include <cstring>
#include <unordered_set>

#include "lightvault/model/gguf.h"
#include "lightvault/model/gguf_layout.h"

namespace lv {
namespace {

// Bounds on the model shape; the same as ModelConfig::validate's, checked here so that the
// error can name the key.
constexpr int64_t kMaxDim = 1 << 16, kMaxHidden = 1 << 18, kMaxVocab = 1 << 22, kMaxLayers = 1024,
                  kMaxSeq = 1 << 22, kMaxHeads = 1024;

// `value` (of `key`, or of its entry `index` when >= 0) as an int in [lo, hi].
Result<int> int_in_range(const GgufFile& f, const std::string& key, std::optional<int64_t> value, int64_t lo,
                         int64_t hi, int64_t index = -1) {
  std::string what = index >= 0 ? "entry " + std::to_string(index) : "value";
  if (!value) return f.error(what + " is not an integer", key);
  if (*value < lo || *value > hi) {
    return f.error(what + " " + std::to_string(*value) + " is outside [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "]",
                   key);
  }
  return static_cast<int>(*value);
}

Result<int> get_positive(const GgufFile& f, const std::string& key, int64_t hi) {
  LV_ASSIGN_OR_RETURN(int64_t v, f.get_int(key));
  return int_in_range(f, key, v, 1, hi);
}

// A per-layer count: a scalar for all layers, or an integer array with one per layer.
Result<std::vector<int>> get_per_layer(const GgufFile& f, const std::string& key, int n_layers, int64_t hi) {
  const GgufValue* v = f.metadata().find(key);
  if (v == nullptr) return f.error("missing metadata key", key);
  if (!v->is_array()) {
    LV_ASSIGN_OR_RETURN(int n, int_in_range(f, key, v->as_int(), 0, hi));
    return std::vector<int>(static_cast<size_t>(n_layers), n);
  }
  if (v->size() != static_cast<uint64_t>(n_layers)) {
    return f.error("has " + std::to_string(v->size()) + " entries for " + std::to_string(n_layers) + " layers", key);
  }
  std::vector<int> out;
  for (uint64_t i = 0; i < v->size(); ++i) {
    LV_ASSIGN_OR_RETURN(int n, int_in_range(f, key, v->int_at(i), 0, hi, static_cast<int64_t>(i)));
    out.push_back(n);
  }
  return out;
}

// The feed-forward width: a scalar, or a per-layer array whose entries are all equal.
Result<int> get_hidden_dim(const GgufFile& f, const std::string& key, int n_layers) {
  const GgufValue* v = f.metadata().find(key);
  if (v != nullptr && v->is_array()) {
    LV_ASSIGN_OR_RETURN(std::vector<int> widths, get_per_layer(f, key, n_layers, kMaxHidden));
    for (int w : widths) {
      if (w != widths[0]) return f.error("per-layer feed-forward widths differ; lightvault needs one width", key);
    }
    if (widths[0] <= 0) return f.error("value 0 is outside [1, " + std::to_string(kMaxHidden) + "]", key);
    return widths[0];
  }
  return get_positive(f, key, kMaxHidden);
}

Status get_heads(const GgufFile& f, const GgufKeys& k, ModelConfig& c, int n_layers) {
  LV_ASSIGN_OR_RETURN(std::vector<int> heads, get_per_layer(f, k.head_count, n_layers, kMaxHeads));
  std::vector<int> kv = heads;
  if (f.metadata().contains(k.head_count_kv)) {
    LV_ASSIGN_OR_RETURN(kv, get_per_layer(f, k.head_count_kv, n_layers, kMaxHeads));
  }
  bool any = false;
  for (int l = 0; l < n_layers; ++l) {
    std::string at = " in layer " + std::to_string(l);
    if (heads[l] == 0 && kv[l] != 0) {
      return f.error(std::to_string(kv[l]) + " key/value heads" + at + " that has no query heads", k.head_count_kv);
    }
    if (heads[l] > 0 && kv[l] == 0) {
      return f.error("0 key/value heads" + at + " (attention without keys is not supported)", k.head_count_kv);
    }
    if (heads[l] > 0 && heads[l] % kv[l] != 0) {
      return f.error(std::to_string(kv[l]) + " key/value heads do not divide " + std::to_string(heads[l]) +
                         " query heads" + at,
                     k.head_count_kv);
    }
    any = any || heads[l] > 0;
    c.layers.push_back(LayerShape{heads[l], kv[l]});
  }
  if (!any) return f.error("no layer has attention heads", k.head_count);
  return Status::Ok();
}

// The head size: key_length, or as llama.cpp infers it, embedding_length / heads of layer 0.
Status get_head_dim(const GgufFile& f, const GgufKeys& k, ModelConfig& c) {
  if (f.metadata().contains(k.key_length)) {
    LV_ASSIGN_OR_RETURN(c.head_dim, get_positive(f, k.key_length, kMaxDim));
  } else {
    int h0 = c.layers[0].n_heads;
    if (h0 == 0 || c.dim % h0 != 0) {
      return f.error("is missing, and the head size cannot be inferred from layer 0's " + std::to_string(h0) +
                         " heads",
                     k.key_length);
    }
    c.head_dim = c.dim / h0;
  }
  if (c.head_dim % 2 != 0) return f.error("head size " + std::to_string(c.head_dim) + " is odd", k.key_length);
  for (const std::string* key : {&k.value_length, &k.rope_dimension_count}) {
    LV_ASSIGN_OR_RETURN(int64_t v, f.get_int_or(*key, c.head_dim));
    if (v != c.head_dim) {
      return f.error("value " + std::to_string(v) + " differs from the head size " + std::to_string(c.head_dim) +
                         " (lightvault needs them equal)",
                     *key);
    }
  }
  return Status::Ok();
}

Result<int> get_vocab_size(const GgufFile& f) {
  if (const GgufValue* tokens = f.metadata().find("tokenizer.ggml.tokens")) {
    if (!tokens->is_array()) return f.error("is not an array", "tokenizer.ggml.tokens");
    return int_in_range(f, "tokenizer.ggml.tokens", static_cast<int64_t>(tokens->size()), 1, kMaxVocab);
  }
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) return f.error("missing tensor", "token_embd.weight");
  if (embd->dims.size() != 2) return f.error("is not 2-D", "token_embd.weight");
  return int_in_range(f, "token_embd.weight", embd->rows(), 1, kMaxVocab);
}

Status get_norms(const GgufFile& f, const GgufKeys& k, ModelConfig& c) {
  LV_ASSIGN_OR_RETURN(double eps, f.get_float_or(k.rms_epsilon, 1e-5));
  if (!(eps > 0.0 && eps < 1.0)) return f.error("value " + std::to_string(eps) + " is outside (0, 1)", k.rms_epsilon);
  c.norm_eps = static_cast<float>(eps);
  LV_ASSIGN_OR_RETURN(double theta, f.get_float_or(k.rope_freq_base, 10000.0));
  if (!(theta > 0.0 && theta < 1e30)) {
    return f.error("value " + std::to_string(theta) + " is not a positive frequency", k.rope_freq_base);
  }
  c.rope_theta = static_cast<float>(theta);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Tensors

Result<DType> loadable_dtype(const GgufFile& f, const GgufTensorInfo& t) {
  switch (t.type) {
    case kGgmlF32: return DType::F32;
    case kGgmlF16: return DType::F16;
    case kGgmlQ8_0: return DType::Q8_0;
    default:
      return f.error("tensor type " + ggml_type_name(t.type) + " cannot be loaded (F32, F16 and Q8_0 can)", t.name);
  }
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// The slot's tensor, pointing into the file's data (copied if misaligned for its type).
Result<Tensor> load_tensor(const GgufFile& f, const GgufSlot& slot) {
  const GgufTensorInfo* info = f.find_tensor(slot.name);
  if (info == nullptr) return f.error("missing tensor", slot.name);
  LV_ASSIGN_OR_RETURN(DType dtype, loadable_dtype(f, *info));
  std::vector<int64_t> want = slot.vector ? std::vector<int64_t>{slot.cols} : std::vector<int64_t>{slot.cols, slot.rows};
  bool ok = info->dims == want || (slot.vector && info->dims == std::vector<int64_t>{slot.cols, 1});
  if (!ok) return f.error("shape " + dims_text(info->dims) + " where " + dims_text(want) + " was expected", slot.name);
  Tensor t;
  t.dtype = dtype;
  t.rows = slot.rows;
  t.cols = slot.cols;
  const uint8_t* p = f.tensor_data(*info);
  size_t align = dtype == DType::F32 ? alignof(float) : alignof(uint16_t);
  if (reinterpret_cast<uintptr_t>(p) % align == 0) {
    t.data = p;
    t.owner = f.owner();
  } else {
    auto copy = std::shared_ptr<uint8_t[]>(new uint8_t[info->nbytes]);
    std::memcpy(copy.get(), p, info->nbytes);
    t.data = copy.get();
    t.owner = std::shared_ptr<const void>(copy, copy.get());
  }
  return t;
}

Tensor ones(int64_t n) {
  Tensor t = Tensor::zeros_f32(1, n);
  for (int64_t i = 0; i < n; ++i) t.mutable_f32()[i] = 1.0f;
  return t;
}

Tensor no_data(int64_t rows, int64_t cols) {
  Tensor t;
  t.rows = rows;
  t.cols = cols;
  return t;
}

// Layers without heads have no attention tensors in the file.
void fill_headless_layers(Model& m) {
  const int64_t dim = m.config.dim;
  for (int l = 0; l < m.config.n_layers(); ++l) {
    if (m.config.layers[l].n_heads != 0) continue;
    LayerWeights& w = m.layers[l];
    w.attn_norm = ones(dim);
    w.wq = no_data(0, dim);
    w.wk = no_data(0, dim);
    w.wv = no_data(0, dim);
    w.wo = no_data(dim, 0);
  }
}

Status check_no_extra_tensors(const GgufFile& f, const std::vector<GgufSlot>& slots) {
  std::unordered_set<std::string> known;
  for (const auto& s : slots) known.insert(s.name);
  for (const auto& t : f.tensors()) {
    if (known.count(t.name) == 0) return f.error("unexpected tensor for this model shape", t.name);
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::vector<GgufSlot> gguf_slots(const ModelConfig& c, bool shared_classifier) {
  std::vector<GgufSlot> slots;
  auto model_slot = [&](std::string name, int64_t rows, int64_t cols, bool vector, Tensor Model::*field) {
    GgufSlot s;
    s.name = std::move(name);
    s.rows = rows;
    s.cols = cols;
    s.vector = vector;
    s.model_field = field;
    slots.push_back(std::move(s));
  };
  auto layer_slot = [&](int l, const char* name, int64_t rows, int64_t cols, bool vector,
                        Tensor LayerWeights::*field) {
    GgufSlot s;
    s.name = "blk." + std::to_string(l) + "." + name + ".weight";
    s.rows = rows;
    s.cols = cols;
    s.vector = vector;
    s.layer = l;
    s.layer_field = field;
    slots.push_back(std::move(s));
  };
  const int64_t dim = c.dim, hidden = c.hidden_dim;
  model_slot("token_embd.weight", c.vocab_size, dim, false, &Model::token_embedding);
  for (int l = 0; l < c.n_layers(); ++l) {
    const LayerShape& s = c.layers[l];
    if (s.n_heads > 0) {
      const int64_t q = int64_t{s.n_heads} * c.head_dim, kv = int64_t{s.n_kv_heads} * c.head_dim;
      layer_slot(l, "attn_norm", 1, dim, true, &LayerWeights::attn_norm);
      layer_slot(l, "attn_q", q, dim, false, &LayerWeights::wq);
      layer_slot(l, "attn_k", kv, dim, false, &LayerWeights::wk);
      layer_slot(l, "attn_v", kv, dim, false, &LayerWeights::wv);
      layer_slot(l, "attn_output", dim, q, false, &LayerWeights::wo);
    }
    layer_slot(l, "ffn_norm", 1, dim, true, &LayerWeights::ffn_norm);
    layer_slot(l, "ffn_gate", hidden, dim, false, &LayerWeights::w_gate);
    layer_slot(l, "ffn_down", dim, hidden, false, &LayerWeights::w_down);
    layer_slot(l, "ffn_up", hidden, dim, false, &LayerWeights::w_up);
  }
  model_slot("output_norm.weight", 1, dim, true, &Model::output_norm);
  if (!shared_classifier) model_slot("output.weight", c.vocab_size, dim, false, &Model::classifier);
  return slots;
}

Result<ModelConfig> gguf_model_config(const GgufFile& f) {
  LV_ASSIGN_OR_RETURN(std::string arch, f.get_string("general.architecture"));
  if (arch != "llama" && arch != "deci") {
    return f.error("architecture '" + gguf_printable(arch) + "' is not supported (llama and deci are)",
                   "general.architecture");
  }
  GgufKeys k(arch);
  ModelConfig c;
  LV_ASSIGN_OR_RETURN(c.dim, get_positive(f, k.embedding_length, kMaxDim));
  LV_ASSIGN_OR_RETURN(int n_layers, get_positive(f, k.block_count, kMaxLayers));
  LV_ASSIGN_OR_RETURN(c.hidden_dim, get_hidden_dim(f, k.feed_forward_length, n_layers));
  LV_ASSIGN_OR_RETURN(c.seq_len, get_positive(f, k.context_length, kMaxSeq));
  LV_RETURN_IF_ERROR(get_heads(f, k, c, n_layers));
  LV_RETURN_IF_ERROR(get_head_dim(f, k, c));
  LV_RETURN_IF_ERROR(get_norms(f, k, c));
  LV_ASSIGN_OR_RETURN(c.vocab_size, get_vocab_size(f));
  LV_RETURN_IF_ERROR(c.validate(f.path()));
  return c;
}

Result<Model> gguf_model(const GgufFile& f) {
  Model m;
  LV_ASSIGN_OR_RETURN(m.config, gguf_model_config(f));
  m.path = f.path();
  m.format = "gguf";
  m.file_size = f.file_size();
  m.shared_classifier = f.find_tensor("output.weight") == nullptr;
  m.layers.resize(static_cast<size_t>(m.config.n_layers()));
  std::vector<GgufSlot> slots = gguf_slots(m.config, m.shared_classifier);
  LV_RETURN_IF_ERROR(check_no_extra_tensors(f, slots));
  for (const GgufSlot& slot : slots) {
    LV_ASSIGN_OR_RETURN(gguf_slot_tensor(m, slot), load_tensor(f, slot));
  }
  if (m.shared_classifier) m.classifier = m.token_embedding;
  fill_headless_layers(m);
  if (f.metadata().contains("tokenizer.ggml.tokens")) {
    LV_ASSIGN_OR_RETURN(m.tokenizer, gguf_tokenizer(f));
  }
  LV_RETURN_IF_ERROR(m.validate());
  return m;
}

Result<Model> load_gguf(const std::string& path) {
  LV_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  return gguf_model(f);
}

// ---------------------------------------------------------------------------------------
// Tokenizer

namespace {

// A token id key, defaulting to `fallback`, that must name one of the `n` tokens.
Result<int> get_token_id(const GgufFile& f, const std::string& key, int fallback, int n) {
  LV_ASSIGN_OR_RETURN(int64_t id, f.get_int_or(key, fallback));
  return int_in_range(f, key, id, 0, n - 1);
}

}  // namespace

Result<Tokenizer> gguf_tokenizer(const GgufFile& f) {
  const std::string kTokens = "tokenizer.ggml.tokens", kScores = "tokenizer.ggml.scores",
                    kTypes = "tokenizer.ggml.token_type", kModel = "tokenizer.ggml.model";
  const GgufValue* tokens = f.metadata().find(kTokens);
  if (tokens == nullptr) return f.error("the file has no tokenizer", kTokens);
  if (f.metadata().contains(kModel)) {
    LV_ASSIGN_OR_RETURN(std::string model, f.get_string(kModel));
    if (model != "llama") {
      return f.error("tokenizer '" + gguf_printable(model) + "' is not supported (llama, SentencePiece, is)", kModel);
    }
  }
  if (!tokens->is_array() || tokens->element_type() != GgufType::String) {
    return f.error("is not an array of STRING", kTokens);
  }
  LV_ASSIGN_OR_RETURN(int n, int_in_range(f, kTokens, static_cast<int64_t>(tokens->size()), 1, kMaxVocab));
  std::vector<std::string> pieces;
  pieces.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pieces.push_back(tokens->string_at(static_cast<uint64_t>(i)));

  std::vector<float> scores;
  if (const GgufValue* v = f.metadata().find(kScores)) {
    if (!v->is_array() || v->size() != static_cast<uint64_t>(n)) {
      return f.error("is not an array of " + std::to_string(n) + " scores", kScores);
    }
    for (uint64_t i = 0; i < v->size(); ++i) {
      std::optional<double> s = v->float_at(i);
      if (!s) return f.error("is not an array of FLOAT32", kScores);
      scores.push_back(static_cast<float>(*s));
    }
  }
  std::vector<int32_t> types;
  if (const GgufValue* v = f.metadata().find(kTypes)) {
    if (!v->is_array() || v->size() != static_cast<uint64_t>(n)) {
      return f.error("is not an array of " + std::to_string(n) + " token types", kTypes);
    }
    for (uint64_t i = 0; i < v->size(); ++i) {
      LV_ASSIGN_OR_RETURN(int type, int_in_range(f, kTypes, v->int_at(i), 0, 6, static_cast<int64_t>(i)));
      types.push_back(type);
    }
  }
  LV_ASSIGN_OR_RETURN(int bos, get_token_id(f, "tokenizer.ggml.bos_token_id", 1, n));
  LV_ASSIGN_OR_RETURN(int eos, get_token_id(f, "tokenizer.ggml.eos_token_id", 2, n));
  LV_ASSIGN_OR_RETURN(int unk, get_token_id(f, "tokenizer.ggml.unknown_token_id", 0, n));
  return Tokenizer(std::move(pieces), std::move(scores), std::move(types), bos, eos, unk);
}

Result<Tokenizer> load_gguf_tokenizer(const std::string& path) {
  LV_ASSIGN_OR_RETURN(GgufFile f, GgufFile::open(path));
  return gguf_tokenizer(f);
}

}  // namespace lv
