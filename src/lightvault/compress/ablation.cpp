#include "lightvault/compress/ablation.h"

namespace lv {

Ablator::Ablator(const Model& model, const Calibration& calibration, bool on_hidden)
    : model_(model), on_hidden_(on_hidden), transformer_(model), batch_(calibration.batch()),
      caches_(calibration.make_caches(model.config)), cache_ptrs_(cache_pointers(caches_)) {
  for (int i = 0; i < batch_.size(); ++i) rows_.push_back(i);
  for (const auto& l : model.config.layers) base_.emplace_back(static_cast<size_t>(l.n_heads), 1.0f);
  set_base(base_);
  // layer_input_.back() enters the last layer; finish the pass for the reference.
  std::vector<float> x = layer_input_.back();
  transformer_.set_head_mask(base_);
  transformer_.run_layer(model.config.n_layers() - 1, batch_, cache_ptrs_, x.data());
  reference_ = output(x);
}

void Ablator::set_base(const std::vector<std::vector<float>>& base) {
  base_ = base;
  transformer_.set_head_mask(base_);
  const int n_layers = model_.config.n_layers();
  layer_input_.assign(static_cast<size_t>(n_layers), {});
  std::vector<float> x(static_cast<size_t>(batch_.size()) * model_.config.dim);
  transformer_.embed(batch_, x.data());
  for (int l = 0; l < n_layers; ++l) {
    layer_input_[l] = x;
    if (l + 1 < n_layers) transformer_.run_layer(l, batch_, cache_ptrs_, x.data());
  }
}

double Ablator::damage(int layer, const std::vector<int>& heads) {
  auto mask = base_;
  for (int h : heads) mask[layer][h] = 0.0f;
  transformer_.set_head_mask(mask);
  std::vector<float> x = layer_input_[layer];
  for (int l = layer; l < model_.config.n_layers(); ++l) transformer_.run_layer(l, batch_, cache_ptrs_, x.data());
  std::vector<float> out = output(x);
  double se = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double d = static_cast<double>(out[i]) - reference_[i];
    se += d * d;
  }
  return se / static_cast<double>(out.size());
}

std::vector<float> Ablator::output(const std::vector<float>& x) {
  const auto& c = model_.config;
  if (on_hidden_) {
    std::vector<float> out(x.size());
    for (size_t i = 0; i < rows_.size(); ++i) {
      rmsnorm(&out[i * c.dim], &x[i * c.dim], model_.output_norm, c.dim, c.norm_eps);
    }
    return out;
  }
  std::vector<float> logits(rows_.size() * static_cast<size_t>(c.vocab_size));
  transformer_.compute_logits(x.data(), rows_, logits.data());
  // Softmax ignores a constant added to every logit of a position, so each row is centered:
  // a head whose removal only shifts a row's logits costs nothing.
  for (size_t r = 0; r < rows_.size(); ++r) {
    float* row = &logits[r * c.vocab_size];
    double mean = 0.0;
    for (int v = 0; v < c.vocab_size; ++v) mean += row[v];
    mean /= c.vocab_size;
    for (int v = 0; v < c.vocab_size; ++v) row[v] -= static_cast<float>(mean);
  }
  return logits;
}

}  // namespace lv
