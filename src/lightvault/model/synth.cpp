#include "lightvault/model/synth.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "lightvault/tensor/thread_pool.h"

namespace lv {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A seed of its own for each tensor and row, so rows can be drawn in any order and in parallel.
uint64_t tensor_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ull;
  return splitmix64(seed ^ splitmix64(h));
}

Tensor random_tensor(int64_t rows, int64_t cols, uint64_t seed) {
  Tensor t = Tensor::zeros_f32(rows, cols);
  float* p = t.mutable_f32();
  const float stddev = 1.0f / std::sqrt(static_cast<float>(cols));
  parallel_for(rows, cols >= (1 << 16) ? 1 : (1 << 16) / cols, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::mt19937_64 rng(splitmix64(seed + static_cast<uint64_t>(r)));
      std::normal_distribution<float> dist(0.0f, stddev);
      for (int64_t c = 0; c < cols; ++c) p[r * cols + c] = dist(rng);
    }
  });
  return t;
}

Tensor ones(int64_t n) {
  Tensor t = Tensor::zeros_f32(1, n);
  for (int64_t i = 0; i < n; ++i) t.mutable_f32()[i] = 1.0f;
  return t;
}

Tensor synth_tensor(const SynthSpec& spec, const GgufSlot& slot) {
  if (slot.vector) return ones(slot.cols);
  return random_tensor(slot.rows, slot.cols, tensor_seed(spec.seed, slot.name));
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

Result<ModelConfig> synth_config(const SynthSpec& spec) {
  ModelConfig c;
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
  return c;
}

Result<Model> synthesize(const SynthSpec& spec) {
  Model m;
  m.path = "synthetic";
  m.format = "synthetic";
  LV_ASSIGN_OR_RETURN(m.config, synth_config(spec));
  m.layers.resize(m.config.layers.size());
  m.shared_classifier = spec.shared_classifier;
  for (const GgufSlot& slot : gguf_slots(m.config, spec.shared_classifier)) {
    gguf_slot_tensor(m, slot) = synth_tensor(spec, slot);
  }
  if (spec.shared_classifier) m.classifier = m.token_embedding;
  m.tokenizer = synthetic_tokenizer(m.config.vocab_size);
  LV_RETURN_IF_ERROR(m.validate());
  return m;
}

Status write_synthetic_gguf(const SynthSpec& spec, const std::string& path, GgufWeights weights,
                            const std::function<void(int64_t done, int64_t total)>& progress) {
  LV_ASSIGN_OR_RETURN(ModelConfig c, synth_config(spec));
  const int64_t total = static_cast<int64_t>(gguf_slots(c, spec.shared_classifier).size());
  int64_t done = 0;
  GgufWriteOptions opt;
  opt.weights = weights;
  opt.name = "synthetic";
  return save_gguf_streamed(
      c, spec.shared_classifier, synthetic_tokenizer(c.vocab_size),
      [&](const GgufSlot& slot) -> Result<Tensor> {
        Tensor t = synth_tensor(spec, slot);
        if (progress) progress(++done, total);
        return t;
      },
      path, opt);
}

}  // namespace lv
