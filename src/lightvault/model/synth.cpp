#include "lightvault/model/synth.h"

#include <cmath>
#include <cstdio>
#include <random>

namespace lv {
namespace {

Tensor random_tensor(int64_t rows, int64_t cols, std::mt19937_64& rng) {
  Tensor t = Tensor::zeros_f32(rows, cols);
  std::normal_distribution<float> dist(0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
  float* p = t.mutable_f32();
  for (int64_t i = 0; i < rows * cols; ++i) p[i] = dist(rng);
  return t;
}

Tensor ones(int64_t n) {
  Tensor t = Tensor::zeros_f32(1, n);
  for (int64_t i = 0; i < n; ++i) t.mutable_f32()[i] = 1.0f;
  return t;
}

Tokenizer synthetic_tokenizer(int vocab_size) {
  std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    pieces.emplace_back(buf);
    scores.push_back(0);
  }
  // Made-up words "▁a", "▁b", ..., "▁aa", ...: distinct, and scored so shorter wins ties.
  for (int i = 0; static_cast<int>(pieces.size()) < vocab_size; ++i) {
    std::string word;
    for (int n = i; ; n = n / 26 - 1) {
      word.insert(word.begin(), static_cast<char>('a' + n % 26));
      if (n < 26) break;
    }
    pieces.push_back("\xe2\x96\x81" + word);
    scores.push_back(-static_cast<float>(i));
  }
  return Tokenizer(std::move(pieces), std::move(scores), {});
}

}  // namespace

Result<Model> synthesize(const SynthSpec& spec) {
  Model m;
  m.path = "synthetic";
  m.format = "synthetic";
  auto& c = m.config;
  c.dim = spec.dim;
  c.hidden_dim = spec.hidden_dim;
  c.vocab_size = spec.vocab_size;
  c.seq_len = spec.seq_len;
  c.head_dim = spec.n_heads > 0 ? spec.dim / spec.n_heads : 0;
  c.layers.assign(static_cast<size_t>(std::max(spec.n_layers, 0)), LayerShape{spec.n_heads, spec.n_kv_heads});
  if (spec.n_heads <= 0 || spec.dim % spec.n_heads != 0) {
    return make_error("synth", "invalid n_heads = " + std::to_string(spec.n_heads) + " for dim " + std::to_string(spec.dim));
  }
  LV_RETURN_IF_ERROR(c.validate("synth"));
  if (spec.vocab_size < 259) return make_error("synth", "vocab_size must be at least 259 (control and byte tokens)");

  std::mt19937_64 rng(spec.seed);
  const int64_t q_rows = int64_t{spec.n_heads} * c.head_dim, kv_rows = int64_t{spec.n_kv_heads} * c.head_dim;
  m.token_embedding = random_tensor(c.vocab_size, c.dim, rng);
  for (int l = 0; l < spec.n_layers; ++l) {
    LayerWeights w;
    w.attn_norm = ones(c.dim);
    w.wq = random_tensor(q_rows, c.dim, rng);
    w.wk = random_tensor(kv_rows, c.dim, rng);
    w.wv = random_tensor(kv_rows, c.dim, rng);
    w.wo = random_tensor(c.dim, q_rows, rng);
    w.ffn_norm = ones(c.dim);
    w.w_gate = random_tensor(c.hidden_dim, c.dim, rng);
    w.w_down = random_tensor(c.dim, c.hidden_dim, rng);
    w.w_up = random_tensor(c.hidden_dim, c.dim, rng);
    m.layers.push_back(std::move(w));
  }
  m.output_norm = ones(c.dim);
  m.shared_classifier = spec.shared_classifier;
  m.classifier = spec.shared_classifier ? m.token_embedding : random_tensor(c.vocab_size, c.dim, rng);
  m.tokenizer = synthetic_tokenizer(c.vocab_size);
  LV_RETURN_IF_ERROR(m.validate());
  return m;
}

}  // namespace lv
