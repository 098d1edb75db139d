#pragma once
// Reverse-mode differentiation of the forward pass (transformer.h) over one sequence: the
// gradient of its mean next-token cross-entropy with respect to the activations and the head
// gates, never the weights. Going down the model, with d· the gradient of the loss:
//   logits = C · rmsnorm(x_L)          dx_L   = rmsnormᵀ(Cᵀ dlogits)
//   x_out  = x_mid + Wdown · h,        dh     = Wdownᵀ dx_out
//   h      = silu(a) ⊙ b               da     = dh ⊙ b ⊙ silu'(a),  db = dh ⊙ silu(a)
//   a, b   = Wgate · n, Wup · n        dx_mid = dx_out + rmsnormᵀ(Wgateᵀ da + Wupᵀ db)
//   x_mid  = x_in + Wo · (g ⊙ o)       do     = g ⊙ Woᵀ dx_mid,     dL/dg_h = Σ_t ⟨(Woᵀ dx_mid)_th, o_th⟩
//   o      = softmax(q kᵀ/√d) v        dq, dk, dv by attention_backward, then RoPE turned back
//   q,k,v  = rope(Wq·n), rope(Wk·n), Wv·n   dx_in = dx_mid + rmsnormᵀ(Wqᵀ dq + Wkᵀ dk + Wvᵀ dv)
// where rmsnormᵀ(dn) is rmsnorm_backward at that layer's input.
#include <vector>

#include "lightvault/runtime/transformer.h"

namespace lv {

struct GateGradients {
  double loss = 0.0;                        // the objective's value
  std::vector<std::vector<double>> gate;    // [layer][head] dL/dg
  std::vector<std::vector<float>> by_row;   // [layer][row * n_heads + head]: each row's term of `gate`
  std::vector<float> embedding;             // dL/dx_0: rows × dim, the gradient at the embeddings
};

// What is differentiated.
enum class Objective {
  // The mean cross-entropy of tokens[1..n) given what precedes each.
  NextTokenCrossEntropy,
  // Σ_rows ⟨P r_row, logits_row⟩, r ~ N(0, I) drawn from a seed and P the centering that
  // softmax ignores: E_r[(dL/dg)²] = Σ_rows ‖P ∂logits_row/∂g‖², the first-order estimate of
  // the squared change of the (centered) logits when the gate closes, which ablation measures.
  RandomProjection,
};

// Runs `tokens` (one sequence from position 0, at least two tokens, at most the model's
// seq_len) forward with the transformer's current gates, then backward. Memory: the
// activations of every layer for these tokens (see LayerTape).
GateGradients gate_gradients(Transformer& transformer, const std::vector<int>& tokens,
                             Objective objective = Objective::NextTokenCrossEntropy, uint64_t seed = 0);

// Objective::RandomProjection for `probes` probes drawn from seeds seed, seed + 1, ... from one
// forward pass: element p equals gate_gradients(transformer, tokens, RandomProjection, seed + p).
// Sampling several probes is how E_r[(dL/dg)²] is estimated; the forward pass is shared.
// With `reference` (rows × vocab logits for the same tokens, e.g. sequence_logits with every gate
// open), one more element follows the probes: the gradient of the centered squared distance
// D = ½ Σ_rows ‖P (logits_row − reference_row)‖², D being its `loss`. Once some gates are closed,
// D is what exact ablation measures, and it is no longer stationary: closing gate g changes it by
// about −∂D/∂g + ½‖P ∂logits/∂g‖² (Gauss-Newton), the second term what the probes sample.
// With `logits`, receives the forward pass's logits (what sequence_logits returns).
std::vector<GateGradients> projection_gate_gradients(Transformer& transformer, const std::vector<int>& tokens,
                                                     int probes, uint64_t seed,
                                                     const std::vector<float>* reference = nullptr,
                                                     std::vector<float>* logits = nullptr);

// The logits of `tokens` (rows × vocab, one sequence from position 0) under the transformer's
// current gates, computed exactly as the passes above compute them.
std::vector<float> sequence_logits(Transformer& transformer, const std::vector<int>& tokens);

// The steps, exposed for the finite-difference tests. Each adds into its d-outputs.

// dx += the gradient at x of ⟨dy, rmsnorm(x) ⊙ weight⟩ (one row of n values).
void rmsnorm_backward(const float* x, const Tensor& weight, const float* dy, int n, float eps, float* dx);

// da, db = the gradient of ⟨dh, silu(a) ⊙ b⟩ over n values (overwritten, not added).
void swiglu_backward(const float* a, const float* b, const float* dh, int64_t n, float* da, float* db);

// Causal attention of one sequence from position 0: rows × n_heads query heads of head_dim,
// query head h reading key/value head h / (n_heads / n_kv_heads). Given d_out, the gradient
// at every head's output, adds the gradients at q, k and v (laid out as q, k and v).
void attention_backward(const float* q, const float* k, const float* v, const float* d_out, int rows, int n_heads,
                        int n_kv_heads, int head_dim, float* dq, float* dk, float* dv);

// dlogits = scale · (softmax(logits) − onehot(target)); returns −log softmax(logits)[target].
double cross_entropy_backward(const float* logits, int vocab, int target, float scale, float* dlogits);

}  // namespace lv
