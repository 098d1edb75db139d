#include "lightvault/model/llama2c.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "lightvault/util/mapped_file.h"

namespace lv {
namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);
constexpr std::string_view kSpace = "\xe2\x96\x81";

// Hands out consecutive float32 tensors from the mapping, checking the file is long enough.
class WeightCursor {
 public:
  WeightCursor(std::shared_ptr<MappedFile> file, size_t offset) : file_(std::move(file)), offset_(offset) {}

  Result<Tensor> next(const std::string& name, int64_t rows, int64_t cols) {
    size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(cols) * sizeof(float);
    if (offset_ > file_->size() || bytes > file_->size() - offset_) {
      return make_error(file_->path(), "truncated: tensor '" + name + "' needs " + std::to_string(bytes) +
                                           " bytes at offset " + std::to_string(offset_) + " but the file has " +
                                           std::to_string(file_->size()));
    }
    Tensor t;
    t.dtype = DType::F32;
    t.rows = rows;
    t.cols = cols;
    t.data = file_->data() + offset_;
    t.owner = file_;
    offset_ += bytes;
    return t;
  }
  void skip(size_t bytes) { offset_ += bytes; }
  size_t offset() const { return offset_; }

 private:
  std::shared_ptr<MappedFile> file_;
  size_t offset_;
};

// llama2.c stores each kind of weight for all layers contiguously; slice them per layer.
Status read_per_layer(WeightCursor& cur, Model& m, Tensor LayerWeights::*field, const char* name,
                      int64_t rows, int64_t cols) {
  for (int l = 0; l < m.config.n_layers(); ++l) {
    LV_ASSIGN_OR_RETURN(m.layers[l].*field, cur.next("blk." + std::to_string(l) + "." + name, rows, cols));
  }
  return Status::Ok();
}

}  // namespace

Result<Model> load_llama2c(const std::string& path) {
  LV_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  if (file->size() < kHeaderBytes) {
    return make_error(path, "truncated: " + std::to_string(file->size()) + " bytes, shorter than the 28-byte header");
  }
  int32_t h[7];
  std::memcpy(h, file->data(), kHeaderBytes);
  Model m;
  m.path = path;
  m.format = "llama2c";
  m.file_size = file->size();
  auto& c = m.config;
  c.dim = h[0];
  c.hidden_dim = h[1];
  int n_layers = h[2], n_heads = h[3], n_kv_heads = h[4];
  m.shared_classifier = h[5] > 0;
  c.vocab_size = h[5] > 0 ? h[5] : (h[5] == INT32_MIN ? 0 : -h[5]);
  c.seq_len = h[6];
  if (n_layers <= 0 || n_layers > 1024) return make_error(path, "invalid n_layers = " + std::to_string(n_layers) + " (offset 8)");
  if (n_heads <= 0) return make_error(path, "invalid n_heads = " + std::to_string(n_heads) + " (offset 12)");
  if (c.dim <= 0 || c.dim % n_heads != 0) {
    return make_error(path, "invalid dim = " + std::to_string(c.dim) + " for n_heads = " + std::to_string(n_heads) + " (offset 0)");
  }
  c.head_dim = c.dim / n_heads;
  c.layers.assign(static_cast<size_t>(n_layers), LayerShape{n_heads, n_kv_heads});
  LV_RETURN_IF_ERROR(c.validate(path));

  const int64_t dim = c.dim, hidden = c.hidden_dim, q_rows = int64_t{n_heads} * c.head_dim,
                kv_rows = int64_t{n_kv_heads} * c.head_dim;
  // The sizes are bounded by validate(), so the total cannot overflow; check it before slicing.
  int64_t floats = int64_t{c.vocab_size} * dim +
                   n_layers * (2 * dim + dim * q_rows * 2 + dim * kv_rows * 2 + 3 * dim * hidden) + dim +
                   int64_t{c.seq_len} * c.head_dim + (m.shared_classifier ? 0 : int64_t{c.vocab_size} * dim);
  uint64_t expected = kHeaderBytes + static_cast<uint64_t>(floats) * 4;
  if (file->size() < expected) {
    return make_error(path, "truncated: the header's shape needs " + std::to_string(expected) +
                                " bytes but the file has " + std::to_string(file->size()));
  }

  WeightCursor cur(file, kHeaderBytes);
  m.layers.resize(static_cast<size_t>(n_layers));
  LV_ASSIGN_OR_RETURN(m.token_embedding, cur.next("token_embd.weight", c.vocab_size, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::attn_norm, "attn_norm.weight", 1, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::wq, "attn_q.weight", q_rows, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::wk, "attn_k.weight", kv_rows, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::wv, "attn_v.weight", kv_rows, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::wo, "attn_output.weight", dim, q_rows));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::ffn_norm, "ffn_norm.weight", 1, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::w_gate, "ffn_gate.weight", hidden, dim));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::w_down, "ffn_down.weight", dim, hidden));
  LV_RETURN_IF_ERROR(read_per_layer(cur, m, &LayerWeights::w_up, "ffn_up.weight", hidden, dim));
  LV_ASSIGN_OR_RETURN(m.output_norm, cur.next("output_norm.weight", 1, dim));
  cur.skip(static_cast<size_t>(c.seq_len) * static_cast<size_t>(c.head_dim) * sizeof(float));  // legacy RoPE tables
  if (m.shared_classifier) {
    m.classifier = m.token_embedding;
  } else {
    LV_ASSIGN_OR_RETURN(m.classifier, cur.next("output.weight", c.vocab_size, dim));
  }
  LV_RETURN_IF_ERROR(m.validate());
  return m;
}

Result<Tokenizer> load_llama2c_tokenizer(const std::string& path) {
  LV_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  const uint8_t* p = file->data();
  const size_t size = file->size();
  if (size < 4) return make_error(path, "truncated: no max_token_length (offset 0)");
  int32_t max_len;
  std::memcpy(&max_len, p, 4);
  if (max_len <= 0 || max_len > (1 << 16)) {
    return make_error(path, "invalid max_token_length = " + std::to_string(max_len) + " (offset 0)");
  }
  std::vector<std::string> pieces;
  std::vector<float> scores;
  size_t off = 4;
  while (off < size) {
    if (size - off < 8) return make_error(path, "truncated token entry (offset " + std::to_string(off) + ")");
    float score;
    int32_t len;
    std::memcpy(&score, p + off, 4);
    std::memcpy(&len, p + off + 4, 4);
    if (len < 0 || len > max_len) {
      return make_error(path, "token length " + std::to_string(len) + " outside [0, max_token_length] (offset " +
                                  std::to_string(off + 4) + ")");
    }
    off += 8;
    if (size - off < static_cast<size_t>(len)) {
      return make_error(path, "truncated token bytes (offset " + std::to_string(off) + ")");
    }
    std::string piece;
    for (int32_t i = 0; i < len; ++i) {
      char ch = static_cast<char>(p[off + i]);
      if (ch == ' ') piece += kSpace;
      else piece += ch;
    }
    pieces.push_back(std::move(piece));
    scores.push_back(score);
    off += static_cast<size_t>(len);
  }
  if (pieces.size() < 3) return make_error(path, "vocabulary has fewer than 3 tokens");
  return Tokenizer(std::move(pieces), std::move(scores), {});
}

Status save_llama2c(const Model& m, const std::string& path, const std::string& tokenizer_path) {
  const auto& c = m.config;
  if (!c.uniform_heads()) return make_error(path, "llama2.c checkpoints need the same head counts in every layer");
  if (c.dim != c.layers[0].n_heads * c.head_dim) return make_error(path, "llama2.c needs dim == n_heads * head_dim");
  std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(tmp, "cannot create");
  int32_t h[7] = {c.dim, c.hidden_dim, c.n_layers(), c.layers[0].n_heads, c.layers[0].n_kv_heads,
                  m.shared_classifier ? c.vocab_size : -c.vocab_size, c.seq_len};
  out.write(reinterpret_cast<const char*>(h), sizeof h);
  std::vector<float> row;
  auto write = [&](const Tensor& t) {
    row.resize(static_cast<size_t>(t.cols));
    for (int64_t r = 0; r < t.rows; ++r) {
      dequantize_row(t, r, row.data());
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * 4));
    }
  };
  write(m.token_embedding);
  for (Tensor LayerWeights::*f : {&LayerWeights::attn_norm, &LayerWeights::wq, &LayerWeights::wk, &LayerWeights::wv,
                                  &LayerWeights::wo, &LayerWeights::ffn_norm, &LayerWeights::w_gate,
                                  &LayerWeights::w_down, &LayerWeights::w_up}) {
    for (const auto& l : m.layers) write(l.*f);
  }
  write(m.output_norm);
  std::vector<float> zeros(static_cast<size_t>(c.seq_len) * c.head_dim, 0.0f);  // legacy RoPE tables, unused
  out.write(reinterpret_cast<const char*>(zeros.data()), static_cast<std::streamsize>(zeros.size() * 4));
  if (!m.shared_classifier) write(m.classifier);
  out.close();
  if (!out) {
    std::remove(tmp.c_str());
    return make_error(tmp, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(path, "cannot rename into place");

  if (tokenizer_path.empty()) return Status::Ok();
  std::ofstream tok(tokenizer_path, std::ios::binary | std::ios::trunc);
  if (!tok) return make_error(tokenizer_path, "cannot create");
  int32_t max_len = 0;
  std::vector<std::string> raw;
  for (const auto& piece : m.tokenizer.pieces()) {
    std::string s;
    for (size_t i = 0; i < piece.size();) {
      if (piece.compare(i, kSpace.size(), kSpace) == 0) {
        s += ' ';
        i += kSpace.size();
      } else {
        s += piece[i++];
      }
    }
    max_len = std::max<int32_t>(max_len, static_cast<int32_t>(s.size()));
    raw.push_back(std::move(s));
  }
  tok.write(reinterpret_cast<const char*>(&max_len), 4);
  for (size_t i = 0; i < raw.size(); ++i) {
    float score = m.tokenizer.score(static_cast<int>(i));
    int32_t len = static_cast<int32_t>(raw[i].size());
    tok.write(reinterpret_cast<const char*>(&score), 4);
    tok.write(reinterpret_cast<const char*>(&len), 4);
    tok.write(raw[i].data(), len);
  }
  return tok ? Status::Ok() : make_error(tokenizer_path, "write failed");
}

}  // namespace lv
