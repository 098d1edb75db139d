#include "lightvault/runtime/transformer.h"


#include <algorithm>
#include <cmath>

#include "lightvault/tensor/kernels.h"
#include "lightvault/tensor/thread_pool.h"

namespace lv {

void rmsnorm(float* out, const float* x, const Tensor& weight, int n, float eps) {
  double ss = 0.0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / n) + eps);
  const float* w = weight.f32();
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
}

void rope(float* v, int n_heads, int head_dim, int pos, const std::vector<float>& inv_freq) {
  for (int i = 0; i < head_dim / 2; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    const float c = std::cos(angle), s = std::sin(angle);
    for (int h = 0; h < n_heads; ++h) {
      float* p = v + h * head_dim + 2 * i;
      const float a = p[0], b = p[1];
      p[0] = a * c - b * s;
      p[1] = a * s + b * c;
    }
  }
}

void attend(const float* q, const float* keys, const float* values, int64_t stride, int len, int hd, float* probs,
            float* out) {
  const float inv_sqrt_hd = 1.0f / std::sqrt(static_cast<float>(hd));
  float max_score = -INFINITY;
  for (int t = 0; t < len; ++t) {
    probs[t] = dot(q, keys + t * stride, hd) * inv_sqrt_hd;
    max_score = std::max(max_score, probs[t]);
  }
  float sum = 0.0f;
  for (int t = 0; t < len; ++t) {
    probs[t] = std::exp(probs[t] - max_score);
    sum += probs[t];
  }
  std::fill_n(out, hd, 0.0f);
  for (int t = 0; t < len; ++t) {
    probs[t] /= sum;
    axpy(probs[t], values + t * stride, out, hd);
  }
}

namespace {

float silu(float x) { return x / (1.0f + std::exp(-x)); }

// Copies n floats from p into v.
void record(std::vector<float>& v, const float* p, int64_t n) { v.assign(p, p + n); }

}  // namespace

Transformer::Transformer(const Model& model) : model_(model) {
  const int hd = model.config.head_dim;
  for (int i = 0; i < hd / 2; ++i) {
    inv_freq_.push_back(1.0f / std::pow(model.config.rope_theta, static_cast<float>(2 * i) / hd));
  }
}

void Transformer::embed(const Batch& batch, float* x) const {
  const int dim = config().dim;
  for (int i = 0; i < batch.size(); ++i) dequantize_row(model_.token_embedding, batch.tokens[i], x + int64_t{i} * dim);
}

void Transformer::attention(int layer, const Batch& batch, const std::vector<KvCache*>& caches) {
  const auto& shape = config().layers[layer];
  const int hd = config().head_dim, n_heads = shape.n_heads, group = n_heads / shape.n_kv_heads;
  const int rows = batch.size(), q_width = n_heads * hd, kv_width = shape.n_kv_heads * hd;

  for (int i = 0; i < rows; ++i) {
    rope(&q_[int64_t{i} * q_width], n_heads, hd, batch.pos[i], inv_freq_);
    rope(&k_[int64_t{i} * kv_width], shape.n_kv_heads, hd, batch.pos[i], inv_freq_);
    KvCache& cache = *caches[batch.seq[i]];
    std::copy_n(&k_[int64_t{i} * kv_width], kv_width, cache.key(layer, batch.pos[i]));
    std::copy_n(&v_[int64_t{i} * kv_width], kv_width, cache.value(layer, batch.pos[i]));
  }

  auto head = [&](int i, int h, std::vector<float>& scores) {
    KvCache& cache = *caches[batch.seq[i]];
    const int len = batch.pos[i] + 1;
    const int kv_offset = h / group * hd;
    scores.resize(static_cast<size_t>(len));
    attend(&q_[int64_t{i} * q_width + h * hd], cache.key(layer, 0) + kv_offset, cache.value(layer, 0) + kv_offset,
           kv_width, len, hd, scores.data(), &att_[int64_t{i} * q_width + h * hd]);
  };
  // Small work stays on this thread (see matmul).
  const int64_t work = int64_t{rows} * n_heads * (batch.pos.empty() ? 1 : batch.pos.back() + 1) * hd;
  const int64_t pairs = int64_t{rows} * n_heads;
  parallel_for(pairs, work <= 32768 ? pairs : 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> scores;
    for (int64_t p = begin; p < end; ++p) head(static_cast<int>(p / n_heads), static_cast<int>(p % n_heads), scores);
  });
}

void Transformer::run_layer(int layer, const Batch& batch, const std::vector<KvCache*>& caches, float* x) {
  const auto& c = config();
  const auto& w = model_.layers[layer];
  const auto& shape = c.layers[layer];
  const int rows = batch.size(), dim = c.dim, hidden = c.hidden_dim;
  xn_.resize(static_cast<size_t>(rows) * dim);
  out_.resize(static_cast<size_t>(rows) * dim);
  if (tape_) {
    tape_->layers.resize(static_cast<size_t>(c.n_layers()));
    record(tape_->layers[layer].x_in, x, int64_t{rows} * dim);
  }

  if (shape.n_heads > 0) {
    const int q_width = shape.n_heads * c.head_dim, kv_width = shape.n_kv_heads * c.head_dim;
    q_.resize(static_cast<size_t>(rows) * q_width);
    att_.resize(static_cast<size_t>(rows) * q_width);
    k_.resize(static_cast<size_t>(rows) * kv_width);
    v_.resize(static_cast<size_t>(rows) * kv_width);
    for (int i = 0; i < rows; ++i) rmsnorm(&xn_[int64_t{i} * dim], x + int64_t{i} * dim, w.attn_norm, dim, c.norm_eps);
    matmul(w.wq, xn_.data(), rows, q_.data());
    matmul(w.wk, xn_.data(), rows, k_.data());
    matmul(w.wv, xn_.data(), rows, v_.data());
    attention(layer, batch, caches);
    if (tape_) {
      LayerTape& t = tape_->layers[layer];
      record(t.q, q_.data(), int64_t{rows} * q_width);
      record(t.k, k_.data(), int64_t{rows} * kv_width);
      record(t.v, v_.data(), int64_t{rows} * kv_width);
      record(t.heads, att_.data(), int64_t{rows} * q_width);
    }
    if (!mask_.empty()) {
      for (int i = 0; i < rows; ++i) {
        for (int h = 0; h < shape.n_heads; ++h) {
          const float g = mask_[layer][h];
          for (int d = 0; d < c.head_dim; ++d) att_[int64_t{i} * q_width + h * c.head_dim + d] *= g;
        }
      }
    }
    if (observer_) observer_(layer, batch, att_.data());
    matmul(w.wo, att_.data(), rows, out_.data());
    for (int64_t i = 0; i < int64_t{rows} * dim; ++i) x[i] += out_[i];
  }

  gate_.resize(static_cast<size_t>(rows) * hidden);
  up_.resize(static_cast<size_t>(rows) * hidden);
  for (int i = 0; i < rows; ++i) rmsnorm(&xn_[int64_t{i} * dim], x + int64_t{i} * dim, w.ffn_norm, dim, c.norm_eps);
  matmul(w.w_gate, xn_.data(), rows, gate_.data());
  matmul(w.w_up, xn_.data(), rows, up_.data());
  if (tape_) {
    LayerTape& t = tape_->layers[layer];
    record(t.x_mid, x, int64_t{rows} * dim);
    record(t.ffn_gate, gate_.data(), int64_t{rows} * hidden);
    record(t.ffn_up, up_.data(), int64_t{rows} * hidden);
  }
  for (int64_t i = 0; i < int64_t{rows} * hidden; ++i) gate_[i] = silu(gate_[i]) * up_[i];
  matmul(w.w_down, gate_.data(), rows, out_.data());
  for (int64_t i = 0; i < int64_t{rows} * dim; ++i) x[i] += out_[i];
}

void Transformer::compute_logits(const float* x, const std::vector<int>& rows, float* logits) {
  const int dim = config().dim;
  xn_.resize(rows.size() * static_cast<size_t>(dim));
  for (size_t i = 0; i < rows.size(); ++i) {
    rmsnorm(&xn_[i * dim], x + int64_t{rows[i]} * dim, model_.output_norm, dim, config().norm_eps);
  }
  matmul(model_.classifier, xn_.data(), static_cast<int64_t>(rows.size()), logits);
}

void Transformer::forward(const Batch& batch, const std::vector<KvCache*>& caches, const std::vector<int>& logit_rows,
                          float* logits) {
  std::vector<float> x(static_cast<size_t>(batch.size()) * config().dim);
  embed(batch, x.data());
  for (int l = 0; l < config().n_layers(); ++l) run_layer(l, batch, caches, x.data());
  if (!logit_rows.empty()) compute_logits(x.data(), logit_rows, logits);
}

}  // namespace lv
