#pragma once
// The forward pass of a Llama-family transformer over ragged batches:
//   x = embed(tokens)
//   for each layer: x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n) with n = rmsnorm(x)
//                   x += Wdown · (silu(Wgate·n) ⊙ Wup·n)        with n = rmsnorm(x)
//   logits = classifier · rmsnorm(x)
// Layers may have different head counts (pruned models), and each head's output is scaled by
// a gate g[layer][head] (1 when no gates are set; 0 disables the head): ablation scores heads
// by closing gates, and backward.h differentiates the loss with respect to them.
#include <functional>
#include <vector>

#include "lightvault/model/model.h"
#include "lightvault/runtime/batch.h"
#include "lightvault/runtime/kv_cache.h"

namespace lv {

class Transformer {
 public:
  // `model` must outlive the Transformer.
  explicit Transformer(const Model& model);

  const Model& model() const { return model_; }
  const ModelConfig& config() const { return model_.config; }

  // mask[layer][head] is the gate that multiplies that head's attention output; an empty mask
  // keeps all heads open at no cost.
  void set_head_mask(std::vector<std::vector<float>> mask) { mask_ = std::move(mask); }
  const std::vector<std::vector<float>>& head_mask() const { return mask_; }

  // When set, every run_layer() records what the backward pass needs into tape->layers[layer]
  // (resized to the model's layers); nullptr stops recording. The tape must outlive its use.
  void set_tape(struct ForwardTape* tape) { tape_ = tape; }
  const std::vector<float>& rope_inv_freq() const { return inv_freq_; }

  // Called in each layer with the attention output of every head, after masking and before
  // Wo: batch.size() rows of n_heads(layer) * head_dim floats.
  using AttentionObserver = std::function<void(int layer, const Batch& batch, const float* heads)>;
  void set_attention_observer(AttentionObserver observer) { observer_ = std::move(observer); }

  // Runs `batch` through the model. caches[s] holds sequence s; each row's keys and values
  // are stored at its position, and it attends to positions [0, pos] of its own sequence, so
  // earlier positions must already be in the cache or earlier in the batch.
  // Writes vocab_size logits for each row listed in `logit_rows`, in that order.
  void forward(const Batch& batch, const std::vector<KvCache*>& caches, const std::vector<int>& logit_rows,
               float* logits);

  // The pieces of forward(), for callers that start in the middle (ablation reuses the
  // activations below the ablated layer). x holds batch.size() rows of dim floats.
  void embed(const Batch& batch, float* x) const;
  void run_layer(int layer, const Batch& batch, const std::vector<KvCache*>& caches, float* x);
  void compute_logits(const float* x, const std::vector<int>& rows, float* logits);

 private:
  void attention(int layer, const Batch& batch, const std::vector<KvCache*>& caches);

  const Model& model_;
  std::vector<float> inv_freq_;  // RoPE frequency of each pair of a head
  std::vector<std::vector<float>> mask_;
  AttentionObserver observer_;
  ForwardTape* tape_ = nullptr;
  // Scratch, sized for the current batch.
  std::vector<float> xn_, q_, k_, v_, att_, out_, gate_, up_;
  std::vector<float> scores_;  // attention scores when the heads run on this thread
};

// The activations of one layer over a batch, rows after rows, as forward() computed them.
struct LayerTape {
  std::vector<float> x_in;          // residual stream entering the layer   [rows][dim]
  std::vector<float> q, k, v;       // after RoPE (q, k)                     [rows][heads*hd], [rows][kv_heads*hd]
  std::vector<float> heads;         // attention output of each head, before its gate
  std::vector<float> x_mid;         // residual stream after attention      [rows][dim]
  std::vector<float> ffn_gate, ffn_up;  // Wgate·n and Wup·n, before SiLU    [rows][hidden]
};
struct ForwardTape {
  std::vector<LayerTape> layers;
};

// out[i] = x[i] / rms(x) * weight[i] over n values.
void rmsnorm(float* out, const float* x, const Tensor& weight, int n, float eps);

// Rotates each adjacent pair (v[2i], v[2i+1]) of every head by pos * inv_freq[i]; a negative
// pos rotates back, which is also RoPE's backward pass.
void rope(float* v, int n_heads, int head_dim, int pos, const std::vector<float>& inv_freq);

// One head of causal attention for one query: out = Σ_t softmax_t(q·k_t / √hd) v_t over the
// len positions whose keys and values start at keys + t * stride, values + t * stride.
// `probs` receives the len attention weights.
void attend(const float* q, const float* keys, const float* values, int64_t stride, int len, int hd, float* probs,
            float* out);

}  // namespace lv
