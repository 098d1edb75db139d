#pragma once
// The forward pass of a Llama-family transformer over ragged batches:
//   x = embed(tokens)
//   for each layer: x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n) with n = rmsnorm(x)
//                   x += Wdown · (silu(Wgate·n) ⊙ Wup·n)        with n = rmsnorm(x)
//   logits = classifier · rmsnorm(x)
// Layers may have different head counts (pruned models), and each head's output can be
// scaled by a mask (0 disables it), which is how ablation scores heads.
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

  // mask[layer][head] multiplies that head's attention output; an empty mask keeps all heads.
  void set_head_mask(std::vector<std::vector<float>> mask) { mask_ = std::move(mask); }

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
  // Scratch, sized for the current batch.
  std::vector<float> xn_, q_, k_, v_, att_, out_, gate_, up_;
  std::vector<float> scores_;  // attention scores when the heads run on this thread
};

// x[i] = x[i] / rms(x) * weight[i] over n values.
void rmsnorm(float* out, const float* x, const Tensor& weight, int n, float eps);

}  // namespace lv
