#include "lightvault/model/config.h"

namespace lv {

bool ModelConfig::uniform_heads() const {
  for (const auto& l : layers) {
    if (l.n_heads != layers[0].n_heads || l.n_kv_heads != layers[0].n_kv_heads) return false;
  }
  return true;
}

int64_t ModelConfig::attention_params() const {
  int64_t total = 0;
  for (const auto& l : layers) {
    total += int64_t{2} * dim * l.n_heads * head_dim;      // Wq and Wo
    total += int64_t{2} * dim * l.n_kv_heads * head_dim;   // Wk and Wv
  }
  return total;
}

int64_t ModelConfig::total_params(bool shared_classifier) const {
  int64_t total = int64_t{vocab_size} * dim + dim;  // embedding + final norm
  if (!shared_classifier) total += int64_t{vocab_size} * dim;
  total += attention_params();
  total += int64_t{n_layers()} * (2 * dim + int64_t{3} * dim * hidden_dim);
  return total;
}

Status ModelConfig::validate(const std::string& source) const {
  // Limits keep every derived size well inside int64 and reject absurd headers early.
  constexpr int kMaxDim = 1 << 16, kMaxHidden = 1 << 18, kMaxVocab = 1 << 22, kMaxLayers = 1024,
                kMaxSeq = 1 << 22, kMaxHeads = 1024;
  auto bad = [&](const std::string& field, int64_t v) {
    return make_error(source, "invalid " + field + " = " + std::to_string(v));
  };
  if (dim <= 0 || dim > kMaxDim) return bad("dim", dim);
  if (hidden_dim <= 0 || hidden_dim > kMaxHidden) return bad("hidden_dim", hidden_dim);
  if (vocab_size <= 0 || vocab_size > kMaxVocab) return bad("vocab_size", vocab_size);
  if (seq_len <= 0 || seq_len > kMaxSeq) return bad("seq_len", seq_len);
  if (layers.empty() || n_layers() > kMaxLayers) return bad("n_layers", n_layers());
  if (head_dim <= 0 || head_dim > kMaxDim || head_dim % 2 != 0) return bad("head_dim", head_dim);
  bool any_heads = false;
  for (int i = 0; i < n_layers(); ++i) {
    const auto& l = layers[i];
    std::string at = " (layer " + std::to_string(i) + ")";
    if (l.n_heads < 0 || l.n_heads > kMaxHeads) return bad("n_heads" + at, l.n_heads);
    if (l.n_kv_heads < 0 || l.n_kv_heads > kMaxHeads) return bad("n_kv_heads" + at, l.n_kv_heads);
    if (l.n_heads == 0 && l.n_kv_heads == 0) continue;
    any_heads = true;
    if (l.n_heads == 0) return bad("n_heads" + at, 0);
    if (l.n_kv_heads == 0) return bad("n_kv_heads" + at, 0);
    if (l.n_heads % l.n_kv_heads != 0) {
      return make_error(source, "n_kv_heads = " + std::to_string(l.n_kv_heads) +
                                    " does not divide n_heads = " + std::to_string(l.n_heads) + at);
    }
  }
  if (!any_heads) return make_error(source, "invalid n_heads = 0 (no layer has attention heads)");
  if (!(norm_eps > 0.0f && norm_eps < 1.0f)) return make_error(source, "invalid norm_eps");
  if (!(rope_theta > 0.0f)) return make_error(source, "invalid rope_theta");
  return Status::Ok();
}

}  // namespace lv
