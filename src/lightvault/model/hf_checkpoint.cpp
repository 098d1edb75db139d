#include "lightvault/model/hf_checkpoint.h"

#include "lightvault/util/text.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/model/hf_tokenizer.h"
#include "lightvault/model/safetensors.h"
#include "lightvault/util/mapped_file.h"

namespace lv {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kConfigName = "config.json";
constexpr const char* kWeightsName = "model.safetensors";
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kTokenizerName = "tokenizer.json";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string tensor_ref(std::string_view name) { return "(tensor '" + std::string(name) + "')"; }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Parses `text`; errors name `source` and say where the JSON breaks.
Result<json> parse_json(std::string_view text, const std::string& source) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    size_t cut = what.find("] ");  // drop nlohmann's "[json.exception.parse_error.101] "
    if (cut != std::string::npos) what.erase(0, cut + 2);
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    return make_error(source, "not valid JSON: " + what);
  }
}

Result<json> read_json_file(const std::string& path) {
  LV_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  return parse_json(std::string_view(reinterpret_cast<const char*>(file->data()), file->size()), path);
}

// ---- config.json ----

// Reads config[key] as an int in [1, INT_MAX]; `fallback` when absent or null (nullopt:
// the key is required).
Result<int> positive_int(const json& config, const char* key, std::optional<int> fallback, const std::string& source) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) {
    if (fallback) return *fallback;
    return make_error(source, std::string("missing field '") + key + "'");
  }
  if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > INT_MAX) {
    return make_error(source, std::string("field '") + key + "' is not a positive integer");
  }
  return static_cast<int>(it->get<int64_t>());
}

Result<double> number(const json& config, const char* key, double fallback, const std::string& source) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number()) return make_error(source, std::string("field '") + key + "' is not a number");
  return it->get<double>();
}

Status check_llama(const json& config, const std::string& source) {
  auto type = config.find("model_type");
  if (type != config.end()) {
    if (*type == "llama") return Status::Ok();
    std::string name = type->is_string() ? type->get<std::string>() : type->type_name();
    return make_error(source, "model_type '" + name + "' is not supported (field 'model_type'; only 'llama' is)");
  }
  auto archs = config.find("architectures");
  if (archs != config.end() && archs->is_array()) {
    for (const auto& a : *archs) {
      if (a == "LlamaForCausalLM") return Status::Ok();
    }
  }
  return make_error(source, "not a Llama model (field 'model_type' is missing and 'architectures' does not name "
                            "LlamaForCausalLM)");
}

// Refuses settings that would silently change the model's outputs if ignored.
Status check_unsupported(const json& config, const std::string& source) {
  auto scaling = config.find("rope_scaling");
  if (scaling != config.end() && !scaling->is_null()) {
    return make_error(source, "rope_scaling is not supported (field 'rope_scaling')");
  }
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    auto it = config.find(key);
    if (it != config.end() && *it == true) {
      return make_error(source, std::string("biases are not supported (field '") + key + "')");
    }
  }
  auto act = config.find("hidden_act");
  if (act != config.end() && *act != "silu") {
    return make_error(source, "hidden_act other than 'silu' is not supported (field 'hidden_act')");
  }
  return Status::Ok();
}

// ---- weights ----

// The tensors of a checkpoint, across one file or several shards.
class WeightFiles {
 public:
  struct Found {
    const SafetensorsFile* file;
    const StTensorInfo* info;
  };

  static Result<WeightFiles> open_single(const std::string& path) {
    WeightFiles w;
    LV_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(path));
    w.files_.push_back(std::move(file));
    for (const auto& t : w.files_[0].tensors()) w.file_of_.emplace(t.name, 0);
    return w;
  }

  // Opens the shards that the index at `index_path` lists, each once.
  static Result<WeightFiles> open_sharded(const std::string& index_path) {
    LV_ASSIGN_OR_RETURN(json index, read_json_file(index_path));
    auto map = index.is_object() ? index.find("weight_map") : index.end();
    if (!index.is_object() || map == index.end() || !map->is_object()) {
      return make_error(index_path, "no \"weight_map\" object");
    }
    WeightFiles w;
    w.index_path_ = index_path;
    std::error_code ec;
    w.index_size_ = fs::file_size(index_path, ec);
    fs::path dir = fs::path(index_path).parent_path();
    std::unordered_map<std::string, size_t> shard_index;
    for (const auto& [name, shard] : map->items()) {
      std::string at = " (weight_map['" + name + "'])";
      if (!shard.is_string()) return make_error(index_path, "shard is not a string" + at);
      const std::string& shard_name = shard.get_ref<const std::string&>();
      if (shard_name.empty() || shard_name == "." || shard_name == ".." || shard_name.find('/') != std::string::npos) {
        return make_error(index_path, "shard '" + shard_name + "' is not a file name in the same directory" + at);
      }
      auto [it, added] = shard_index.emplace(shard_name, w.files_.size());
      if (added) {
        LV_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open((dir / shard_name).string()));
        w.files_.push_back(std::move(file));
      }
      if (w.files_[it->second].find(name) == nullptr) {
        return make_error(w.files_[it->second].path(), "tensor listed in " + std::string(kIndexName) +
                                                           " is missing " + tensor_ref(name));
      }
      w.file_of_.emplace(name, it->second);
    }
    return w;
  }

  std::optional<Found> find(const std::string& name) const {
    auto it = file_of_.find(name);
    if (it == file_of_.end()) return std::nullopt;
    const SafetensorsFile& file = files_[it->second];
    return Found{&file, file.find(name)};
  }

  // Where a missing tensor should have been, for error messages.
  const std::string& where() const { return index_path_.empty() ? files_[0].path() : index_path_; }

  uint64_t total_size() const {
    uint64_t total = index_size_;
    for (const auto& f : files_) total += f.file_size();
    return total;
  }

 private:
  std::vector<SafetensorsFile> files_;
  std::unordered_map<std::string, size_t> file_of_;
  std::string index_path_;  // empty for a single file
  uint64_t index_size_ = 0;
};

// A heap buffer of `bytes` bytes, and a Tensor of [rows, cols] `dtype` over it.
std::pair<Tensor, uint8_t*> heap_tensor(DType dtype, int64_t rows, int64_t cols) {
  size_t bytes = static_cast<size_t>(rows) * row_bytes(dtype, cols);
  // float[] keeps the buffer aligned for every dtype used here.
  auto storage = std::shared_ptr<float[]>(new float[(bytes + 3) / 4]);
  Tensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.data = storage.get();
  t.owner = std::shared_ptr<const void>(storage, storage.get());
  return {t, reinterpret_cast<uint8_t*>(storage.get())};
}

float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Makes a [rows, cols] Tensor of the stored tensor `name` (a vector of `cols` when
// `vector`): F32/F16 point into the mapping when aligned, BF16 becomes F32.
Result<Tensor> to_tensor(const WeightFiles::Found& found, const std::string& name, int64_t rows, int64_t cols,
                         bool vector) {
  const StTensorInfo& info = *found.info;
  const std::string& path = found.file->path();
  std::vector<int64_t> expected = vector ? std::vector<int64_t>{cols} : std::vector<int64_t>{rows, cols};
  if (info.shape != expected) {
    return make_error(path, "shape " + shape_string(info.shape) + " where " + shape_string(expected) +
                                " was expected " + tensor_ref(name));
  }
  const uint8_t* src = found.file->data(info);
  switch (info.dtype) {
    case StDType::F32:
    case StDType::F16: {
      DType dtype = info.dtype == StDType::F32 ? DType::F32 : DType::F16;
      size_t align = info.dtype == StDType::F32 ? 4 : 2;
      if (reinterpret_cast<uintptr_t>(src) % align == 0) {
        Tensor t;
        t.dtype = dtype;
        t.rows = rows;
        t.cols = cols;
        t.data = src;
        t.owner = std::shared_ptr<const void>(found.file->mapping(), src);
        return t;
      }
      auto [t, dst] = heap_tensor(dtype, rows, cols);
      std::memcpy(dst, src, info.nbytes());
      return t;
    }
    case StDType::BF16: {
      auto [t, dst] = heap_tensor(DType::F32, rows, cols);
      float* out = reinterpret_cast<float*>(dst);
      for (int64_t i = 0; i < rows * cols; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      return t;
    }
    default:
      return make_error(path, "dtype " + std::string(st_dtype_name(info.dtype)) +
                                  " is not supported (F32, F16 or BF16 expected) " + tensor_ref(name));
  }
}

// Loads the tensors of a checkpoint by their Hugging Face names, checked against the config.
class TensorLoader {
 public:
  TensorLoader(const WeightFiles& files, const ModelConfig& config) : files_(files), config_(config) {}

  bool has(const std::string& name) const { return files_.find(name).has_value(); }

  Result<Tensor> matrix(const std::string& name, int64_t rows, int64_t cols) const {
    auto found = files_.find(name);
    if (!found) return make_error(files_.where(), "missing tensor " + tensor_ref(name));
    return to_tensor(*found, name, rows, cols, false);
  }

  Result<Tensor> vector(const std::string& name) const {
    auto found = files_.find(name);
    if (!found) return make_error(files_.where(), "missing tensor " + tensor_ref(name));
    return to_tensor(*found, name, 1, config_.dim, true);
  }

  // q_proj or k_proj, permuted into adjacent-pairs RoPE layout.
  Result<Tensor> rope_matrix(const std::string& name, int n_heads) const {
    LV_ASSIGN_OR_RETURN(Tensor stored, matrix(name, int64_t{n_heads} * config_.head_dim, config_.dim));
    auto [t, dst] = heap_tensor(stored.dtype, stored.rows, stored.cols);
    rope_halves_to_pairs(stored.data, dst, n_heads, config_.head_dim, row_bytes(stored.dtype, stored.cols));
    return t;
  }

 private:
  const WeightFiles& files_;
  const ModelConfig& config_;
};

Result<LayerWeights> load_layer(const TensorLoader& load, const ModelConfig& c, int layer) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  const LayerShape& s = c.layers[layer];
  const int64_t q_rows = int64_t{s.n_heads} * c.head_dim;
  LayerWeights w;
  LV_ASSIGN_OR_RETURN(w.attn_norm, load.vector(p + "input_layernorm.weight"));
  LV_ASSIGN_OR_RETURN(w.wq, load.rope_matrix(p + "self_attn.q_proj.weight", s.n_heads));
  LV_ASSIGN_OR_RETURN(w.wk, load.rope_matrix(p + "self_attn.k_proj.weight", s.n_kv_heads));
  LV_ASSIGN_OR_RETURN(w.wv, load.matrix(p + "self_attn.v_proj.weight", int64_t{s.n_kv_heads} * c.head_dim, c.dim));
  LV_ASSIGN_OR_RETURN(w.wo, load.matrix(p + "self_attn.o_proj.weight", c.dim, q_rows));
  LV_ASSIGN_OR_RETURN(w.ffn_norm, load.vector(p + "post_attention_layernorm.weight"));
  LV_ASSIGN_OR_RETURN(w.w_gate, load.matrix(p + "mlp.gate_proj.weight", c.hidden_dim, c.dim));
  LV_ASSIGN_OR_RETURN(w.w_up, load.matrix(p + "mlp.up_proj.weight", c.hidden_dim, c.dim));
  LV_ASSIGN_OR_RETURN(w.w_down, load.matrix(p + "mlp.down_proj.weight", c.dim, c.hidden_dim));
  return w;
}

// Pads `tok` with unused pieces up to `vocab_size`, or refuses one that is larger.
Result<Tokenizer> fit_tokenizer(Tokenizer tok, int vocab_size, const std::string& path) {
  if (tok.vocab_size() == vocab_size) return tok;
  if (tok.vocab_size() > vocab_size) {
    return make_error(path, "has " + std::to_string(tok.vocab_size()) + " tokens but config.json's vocab_size is " +
                                std::to_string(vocab_size));
  }
  std::vector<std::string> pieces = tok.pieces();
  std::vector<float> scores = tok.scores();
  std::vector<int32_t> types = tok.types();
  float lowest = 0.0f;
  for (float s : scores) lowest = std::min(lowest, s);
  for (int id = tok.vocab_size(); id < vocab_size; ++id) {
    pieces.push_back("[PAD" + std::to_string(id) + "]");
    scores.push_back(lowest);
    types.push_back(static_cast<int32_t>(TokenType::Unused));
  }
  return Tokenizer(std::move(pieces), std::move(scores), std::move(types), tok.bos_id(), tok.eos_id(), tok.unk_id());
}

// The files a checkpoint path stands for.
struct CheckpointFiles {
  std::string config;
  std::string weights;  // model.safetensors or any .safetensors file
  std::string index;    // or model.safetensors.index.json
  std::string tokenizer;  // empty when there is none
};

Result<CheckpointFiles> locate(const std::string& path) {
  std::error_code ec;
  CheckpointFiles files;
  fs::path dir;
  if (fs::is_directory(path, ec)) {
    dir = path;
    if (is_file(dir / kWeightsName)) {
      files.weights = (dir / kWeightsName).string();
    } else if (is_file(dir / kIndexName)) {
      files.index = (dir / kIndexName).string();
    } else {
      return make_error(path, std::string("no ") + kWeightsName + " or " + kIndexName + " in the directory");
    }
  } else if (ends_with(path, ".safetensors") || ends_with(path, ".index.json")) {
    if (!is_file(path)) return make_error(path, "no such file");
    dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    (ends_with(path, ".index.json") ? files.index : files.weights) = path;
  } else {
    return make_error(path, "not a Hugging Face checkpoint (a directory, a .safetensors or a .index.json file)");
  }
  if (!is_file(dir / kConfigName)) {
    return make_error(path, std::string("no ") + kConfigName + " beside the weights");
  }
  files.config = (dir / kConfigName).string();
  if (is_file(dir / kTokenizerName)) files.tokenizer = (dir / kTokenizerName).string();
  return files;
}

// Row h*head_dim + a*half + i of the halves layout is row h*head_dim + 2*i + a of the pairs
// layout; copies every row from one layout to the other.
void permute_rope_rows(const void* in, void* out, int64_t n_heads, int64_t head_dim, size_t row_bytes, bool to_pairs) {
  const auto* src = static_cast<const uint8_t*>(in);
  auto* dst = static_cast<uint8_t*>(out);
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t a = 0; a < 2; ++a) {
      for (int64_t i = 0; i < half; ++i) {
        const auto halves = static_cast<size_t>(h * head_dim + a * half + i);
        const auto pairs = static_cast<size_t>(h * head_dim + 2 * i + a);
        const size_t from = to_pairs ? halves : pairs, to = to_pairs ? pairs : halves;
        std::memcpy(dst + to * row_bytes, src + from * row_bytes, row_bytes);
      }
    }
  }
}

}  // namespace

void rope_halves_to_pairs(const void* in, void* out, int64_t n_heads, int64_t head_dim, size_t row_bytes) {
  permute_rope_rows(in, out, n_heads, head_dim, row_bytes, true);
}

void rope_pairs_to_halves(const void* in, void* out, int64_t n_heads, int64_t head_dim, size_t row_bytes) {
  permute_rope_rows(in, out, n_heads, head_dim, row_bytes, false);
}

Result<HfConfig> parse_hf_config(std::string_view json_text, const std::string& source) {
  LV_ASSIGN_OR_RETURN(json config, parse_json(json_text, source));
  if (!config.is_object()) return make_error(source, "not a JSON object");
  LV_RETURN_IF_ERROR(check_llama(config, source));
  LV_RETURN_IF_ERROR(check_unsupported(config, source));

  HfConfig hf;
  ModelConfig& c = hf.config;
  LV_ASSIGN_OR_RETURN(c.dim, positive_int(config, "hidden_size", std::nullopt, source));
  LV_ASSIGN_OR_RETURN(c.hidden_dim, positive_int(config, "intermediate_size", std::nullopt, source));
  LV_ASSIGN_OR_RETURN(int n_layers, positive_int(config, "num_hidden_layers", std::nullopt, source));
  LV_ASSIGN_OR_RETURN(int n_heads, positive_int(config, "num_attention_heads", std::nullopt, source));
  LV_ASSIGN_OR_RETURN(int n_kv_heads, positive_int(config, "num_key_value_heads", n_heads, source));
  LV_ASSIGN_OR_RETURN(c.vocab_size, positive_int(config, "vocab_size", std::nullopt, source));
  LV_ASSIGN_OR_RETURN(c.seq_len, positive_int(config, "max_position_embeddings", 2048, source));
  bool head_dim_given = config.contains("head_dim") && !config["head_dim"].is_null();
  if (!head_dim_given && c.dim % n_heads != 0) {
    return make_error(source, "hidden_size " + std::to_string(c.dim) + " is not a multiple of num_attention_heads " +
                                  std::to_string(n_heads) + " and no head_dim is given (field 'head_dim')");
  }
  LV_ASSIGN_OR_RETURN(c.head_dim, positive_int(config, "head_dim", c.dim / n_heads, source));
  LV_ASSIGN_OR_RETURN(double eps, number(config, "rms_norm_eps", 1e-6, source));
  LV_ASSIGN_OR_RETURN(double theta, number(config, "rope_theta", 10000.0, source));
  c.norm_eps = static_cast<float>(eps);
  c.rope_theta = static_cast<float>(theta);
  if (n_layers > 1024) return make_error(source, "num_hidden_layers " + std::to_string(n_layers) + " is too large");
  c.layers.assign(static_cast<size_t>(n_layers), LayerShape{n_heads, n_kv_heads});

  auto tie = config.find("tie_word_embeddings");
  if (tie != config.end() && !tie->is_null()) {
    if (!tie->is_boolean()) return make_error(source, "field 'tie_word_embeddings' is not true or false");
    hf.tie_word_embeddings = tie->get<bool>();
  }
  LV_RETURN_IF_ERROR(c.validate(source));
  return hf;
}

bool is_hf_checkpoint_path(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return is_file(fs::path(path) / kConfigName);
  return ends_with(path, ".safetensors") || ends_with(path, ".index.json");
}

Result<Model> load_hf_checkpoint(const std::string& path) {
  LV_ASSIGN_OR_RETURN(CheckpointFiles files, locate(path));
  LV_ASSIGN_OR_RETURN(auto config_file, MappedFile::open(files.config));
  std::string_view config_text(reinterpret_cast<const char*>(config_file->data()), config_file->size());
  LV_ASSIGN_OR_RETURN(HfConfig hf, parse_hf_config(config_text, files.config));
  const ModelConfig& c = hf.config;

  Result<WeightFiles> opened = files.index.empty() ? WeightFiles::open_single(files.weights)
                                                   : WeightFiles::open_sharded(files.index);
  if (!opened.ok()) return opened.error();
  const WeightFiles& weights = opened.value();
  TensorLoader load(weights, c);

  Model m;
  m.config = c;
  m.path = path;
  m.format = "safetensors";
  m.file_size = weights.total_size() + config_file->size();
  LV_ASSIGN_OR_RETURN(m.token_embedding, load.matrix("model.embed_tokens.weight", c.vocab_size, c.dim));
  for (int l = 0; l < c.n_layers(); ++l) {
    LV_ASSIGN_OR_RETURN(LayerWeights w, load_layer(load, c, l));
    m.layers.push_back(std::move(w));
  }
  LV_ASSIGN_OR_RETURN(m.output_norm, load.vector("model.norm.weight"));
  m.shared_classifier = hf.tie_word_embeddings || !load.has("lm_head.weight");
  if (m.shared_classifier) {
    m.classifier = m.token_embedding;
  } else {
    LV_ASSIGN_OR_RETURN(m.classifier, load.matrix("lm_head.weight", c.vocab_size, c.dim));
  }

  if (!files.tokenizer.empty()) {
    LV_ASSIGN_OR_RETURN(Tokenizer tok, load_hf_tokenizer(files.tokenizer));
    LV_ASSIGN_OR_RETURN(m.tokenizer, fit_tokenizer(std::move(tok), c.vocab_size, files.tokenizer));
    std::error_code ec;
    m.file_size += fs::file_size(files.tokenizer, ec);
  }
  LV_RETURN_IF_ERROR(m.validate());
  return m;
}

}  // namespace lv
