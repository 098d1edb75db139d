#include "lightvault/runtime/backward.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "lightvault/tensor/kernels.h"
#include "lightvault/tensor/thread_pool.h"

namespace lv {
namespace {

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

double inner(const float* a, const float* b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

void add(std::vector<float>& y, const std::vector<float>& x) {
  for (size_t i = 0; i < y.size(); ++i) y[i] += x[i];
}

}  // namespace

void rmsnorm_backward(const float* x, const Tensor& weight, const float* dy, int n, float eps, float* dx) {
  const float* w = weight.f32();
  double ss = 0.0, dot_dy_w_x = 0.0;
  for (int i = 0; i < n; ++i) {
    ss += static_cast<double>(x[i]) * x[i];
    dot_dy_w_x += static_cast<double>(dy[i]) * w[i] * x[i];
  }
  const double r = 1.0 / std::sqrt(ss / n + eps);
  const double c = r * r * r / n * dot_dy_w_x;
  for (int i = 0; i < n; ++i) dx[i] += static_cast<float>(r * w[i] * dy[i] - c * x[i]);
}

void swiglu_backward(const float* a, const float* b, const float* dh, int64_t n, float* da, float* db) {
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid(a[i]);
    db[i] = dh[i] * a[i] * s;
    da[i] = dh[i] * b[i] * s * (1.0f + a[i] * (1.0f - s));
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* d_out, int rows, int n_heads,
                        int n_kv_heads, int head_dim, float* dq, float* dk, float* dv) {
  const int hd = head_dim, group = n_heads / n_kv_heads;
  const int64_t q_width = int64_t{n_heads} * hd, kv_width = int64_t{n_kv_heads} * hd;
  const float inv_sqrt_hd = 1.0f / std::sqrt(static_cast<float>(hd));
  // Key/value heads are independent: each thread owns the dk, dv columns of its heads.
  parallel_for(n_kv_heads, 1, [&](int64_t first, int64_t last) {
    for (int g = static_cast<int>(first); g < last; ++g) {
      std::vector<float> p(static_cast<size_t>(rows)), dp(static_cast<size_t>(rows)), out(static_cast<size_t>(hd));
      const float* keys = k + int64_t{g} * hd;
      const float* values = v + int64_t{g} * hd;
      for (int h = g * group; h < (g + 1) * group; ++h) {
        for (int i = 0; i < rows; ++i) {
          const float* qi = q + i * q_width + h * hd;
          const float* doi = d_out + i * q_width + h * hd;
          const int len = i + 1;
          attend(qi, keys, values, kv_width, len, hd, p.data(), out.data());
          // o = Σ_t p_t v_t:  dv_t += p_t do,  dp_t = ⟨do, v_t⟩.
          double p_dot_dp = 0.0;
          for (int t = 0; t < len; ++t) {
            dp[t] = dot(doi, values + t * kv_width, hd);
            p_dot_dp += static_cast<double>(p[t]) * dp[t];
            axpy(p[t], doi, dv + t * kv_width + int64_t{g} * hd, hd);
          }
          // p = softmax(s): ds_t = p_t (dp_t − Σ p dp);  s_t = ⟨q, k_t⟩/√d.
          float* dqi = dq + i * q_width + h * hd;
          for (int t = 0; t < len; ++t) {
            const float ds = p[t] * (dp[t] - static_cast<float>(p_dot_dp)) * inv_sqrt_hd;
            axpy(ds, keys + t * kv_width, dqi, hd);
            axpy(ds, qi, dk + t * kv_width + int64_t{g} * hd, hd);
          }
        }
      }
    }
  });
}

double cross_entropy_backward(const float* logits, int vocab, int target, float scale, float* dlogits) {
  const float max = *std::max_element(logits, logits + vocab);
  double sum = 0.0;
  for (int i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  for (int i = 0; i < vocab; ++i) {
    dlogits[i] = scale * static_cast<float>(std::exp(static_cast<double>(logits[i]) - max) / sum);
  }
  dlogits[target] -= scale;
  return std::log(sum) + max - logits[target];
}

namespace {

// What the backward pass needs from the forward pass of one sequence.
struct RecordedForward {
  ForwardTape tape;
  std::vector<float> x;       // the residual stream leaving the last layer, rows × dim
  std::vector<float> logits;  // rows × vocab
};

// Without `keep_tape` only x and the logits are kept.
RecordedForward record_forward(Transformer& transformer, const std::vector<int>& tokens, bool keep_tape = true) {
  const ModelConfig& c = transformer.model().config;
  const int rows = static_cast<int>(tokens.size());
  Batch batch;
  batch.add(0, tokens.data(), rows, 0);
  KvCache cache(c, rows);
  std::vector<KvCache*> caches = {&cache};
  RecordedForward r;
  transformer.set_tape(keep_tape ? &r.tape : nullptr);
  r.x.resize(static_cast<size_t>(rows) * c.dim);
  transformer.embed(batch, r.x.data());
  for (int l = 0; l < c.n_layers(); ++l) transformer.run_layer(l, batch, caches, r.x.data());
  transformer.set_tape(nullptr);
  std::vector<int> all_rows(static_cast<size_t>(rows));
  std::iota(all_rows.begin(), all_rows.end(), 0);
  r.logits.resize(static_cast<size_t>(rows) * c.vocab_size);
  transformer.compute_logits(r.x.data(), all_rows, r.logits.data());
  return r;
}

// Fills dlogits with a centered Gaussian probe drawn from `seed`; returns ⟨probe, logits⟩.
double projection_probe(const std::vector<float>& logits, int vocab, uint64_t seed, std::vector<float>& dlogits) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  double objective = 0.0;
  for (size_t j = 0; j < logits.size() / static_cast<size_t>(vocab); ++j) {
    float* d = &dlogits[j * vocab];
    double mean = 0.0;
    for (int v = 0; v < vocab; ++v) mean += d[v] = normal(rng);
    for (int v = 0; v < vocab; ++v) d[v] -= static_cast<float>(mean / vocab);
    objective += inner(d, &logits[j * vocab], vocab);
  }
  return objective;
}

// Fills dlogits with P (logits − reference) row by row; returns ½ Σ_rows ‖P (logits − reference)‖².
double centered_distance(const std::vector<float>& logits, const std::vector<float>& reference, int vocab,
                         std::vector<float>& dlogits) {
  double distance = 0.0;
  for (size_t j = 0; j < logits.size() / static_cast<size_t>(vocab); ++j) {
    float* d = &dlogits[j * vocab];
    double mean = 0.0;
    for (int v = 0; v < vocab; ++v) mean += d[v] = logits[j * vocab + v] - reference[j * vocab + v];
    for (int v = 0; v < vocab; ++v) d[v] -= static_cast<float>(mean / vocab);
    distance += 0.5 * inner(d, d, vocab);
  }
  return distance;
}

// Carries dL/dlogits down through the recorded forward pass.
GateGradients backward(Transformer& transformer, const RecordedForward& recorded, const std::vector<float>& dlogits,
                       double loss) {
  const Model& m = transformer.model();
  const ModelConfig& c = m.config;
  const int rows = static_cast<int>(recorded.x.size() / static_cast<size_t>(c.dim)), dim = c.dim;
  const int hidden = c.hidden_dim, hd = c.head_dim, n_layers = c.n_layers();
  const auto& gates = transformer.head_mask();
  const ForwardTape& tape = recorded.tape;
  const std::vector<float>& x = recorded.x;
  GateGradients g;
  g.loss = loss;

  // Classifier and final norm.
  std::vector<float> dx(static_cast<size_t>(rows) * dim, 0.0f), dn(dx.size()), dn2(dx.size());
  matmul_transposed(m.classifier, dlogits.data(), rows, dn.data());
  for (int i = 0; i < rows; ++i) {
    rmsnorm_backward(&x[int64_t{i} * dim], m.output_norm, &dn[int64_t{i} * dim], dim, c.norm_eps, &dx[int64_t{i} * dim]);
  }

  g.gate.resize(static_cast<size_t>(n_layers));
  g.by_row.resize(static_cast<size_t>(n_layers));
  std::vector<float> dh(static_cast<size_t>(rows) * hidden), da(dh.size()), db(dh.size());
  for (int l = n_layers - 1; l >= 0; --l) {
    const LayerTape& t = tape.layers[l];
    const auto& w = m.layers[l];
    const auto& shape = c.layers[l];

    // Feed-forward: x_out = x_mid + Wdown · (silu(a) ⊙ b), a and b from rmsnorm(x_mid).
    matmul_transposed(w.w_down, dx.data(), rows, dh.data());
    swiglu_backward(t.ffn_gate.data(), t.ffn_up.data(), dh.data(), int64_t{rows} * hidden, da.data(), db.data());
    matmul_transposed(w.w_gate, da.data(), rows, dn.data());
    matmul_transposed(w.w_up, db.data(), rows, dn2.data());
    add(dn, dn2);
    for (int i = 0; i < rows; ++i) {
      rmsnorm_backward(&t.x_mid[int64_t{i} * dim], w.ffn_norm, &dn[int64_t{i} * dim], dim, c.norm_eps,
                       &dx[int64_t{i} * dim]);
    }
    const int n_heads = shape.n_heads, n_kv = shape.n_kv_heads;
    g.gate[l].assign(static_cast<size_t>(n_heads), 0.0);
    if (n_heads == 0) continue;

    // Attention: x_mid = x_in + Wo · (g ⊙ o).
    const int64_t q_width = int64_t{n_heads} * hd, kv_width = int64_t{n_kv} * hd;
    std::vector<float> d_heads(static_cast<size_t>(rows * q_width));
    matmul_transposed(w.wo, dx.data(), rows, d_heads.data());
    g.by_row[l].resize(static_cast<size_t>(rows) * n_heads);
    for (int i = 0; i < rows; ++i) {
      for (int h = 0; h < n_heads; ++h) {
        float* d = &d_heads[i * q_width + h * hd];
        const float term = dot(d, &t.heads[i * q_width + h * hd], hd);
        g.by_row[l][static_cast<size_t>(i) * n_heads + h] = term;
        g.gate[l][h] += term;
        if (!gates.empty()) {
          for (int e = 0; e < hd; ++e) d[e] *= gates[l][h];
        }
      }
    }
    std::vector<float> dq(static_cast<size_t>(rows * q_width), 0.0f), dk(static_cast<size_t>(rows * kv_width), 0.0f),
        dv(dk.size(), 0.0f);
    attention_backward(t.q.data(), t.k.data(), t.v.data(), d_heads.data(), rows, n_heads, n_kv, hd, dq.data(),
                       dk.data(), dv.data());
    for (int i = 0; i < rows; ++i) {
      rope(&dq[i * q_width], n_heads, hd, -i, transformer.rope_inv_freq());
      rope(&dk[i * kv_width], n_kv, hd, -i, transformer.rope_inv_freq());
    }
    matmul_transposed(w.wq, dq.data(), rows, dn.data());
    matmul_transposed(w.wk, dk.data(), rows, dn2.data());
    add(dn, dn2);
    matmul_transposed(w.wv, dv.data(), rows, dn2.data());
    add(dn, dn2);
    for (int i = 0; i < rows; ++i) {
      rmsnorm_backward(&t.x_in[int64_t{i} * dim], w.attn_norm, &dn[int64_t{i} * dim], dim, c.norm_eps,
                       &dx[int64_t{i} * dim]);
    }
  }
  g.embedding = std::move(dx);
  return g;
}

}  // namespace

GateGradients gate_gradients(Transformer& transformer, const std::vector<int>& tokens, Objective objective,
                             uint64_t seed) {
  const int rows = static_cast<int>(tokens.size()), vocab = transformer.model().config.vocab_size;
  RecordedForward recorded = record_forward(transformer, tokens);
  const std::vector<float>& logits = recorded.logits;
  std::vector<float> dlogits(logits.size(), 0.0f);
  double loss = 0.0;
  if (objective == Objective::NextTokenCrossEntropy) {
    // Row j predicts tokens[j + 1].
    const float scale = 1.0f / static_cast<float>(rows - 1);
    for (int j = 0; j + 1 < rows; ++j) {
      loss += cross_entropy_backward(&logits[int64_t{j} * vocab], vocab, tokens[j + 1], scale,
                                     &dlogits[int64_t{j} * vocab]);
    }
    loss /= rows - 1;
  } else {
    loss = projection_probe(logits, vocab, seed, dlogits);
  }
  return backward(transformer, recorded, dlogits, loss);
}

std::vector<GateGradients> projection_gate_gradients(Transformer& transformer, const std::vector<int>& tokens,
                                                     int probes, uint64_t seed, const std::vector<float>* reference,
                                                     std::vector<float>* logits) {
  RecordedForward recorded = record_forward(transformer, tokens);
  const int vocab = transformer.model().config.vocab_size;
  std::vector<float> dlogits(recorded.logits.size());
  std::vector<GateGradients> out;
  for (int p = 0; p < probes; ++p) {
    const double objective = projection_probe(recorded.logits, vocab, seed + static_cast<uint64_t>(p), dlogits);
    out.push_back(backward(transformer, recorded, dlogits, objective));
  }
  if (reference != nullptr) {
    const double distance = centered_distance(recorded.logits, *reference, vocab, dlogits);
    out.push_back(backward(transformer, recorded, dlogits, distance));
  }
  if (logits != nullptr) *logits = std::move(recorded.logits);
  return out;
}

std::vector<float> sequence_logits(Transformer& transformer, const std::vector<int>& tokens) {
  return record_forward(transformer, tokens, /*keep_tape=*/false).logits;
}

}  // namespace lv
