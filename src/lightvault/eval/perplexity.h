#pragma once
// Perplexity and next-token accuracy, computed as llama.cpp's perplexity tool computes them so
// the figures can be compared: the text is tokenized once with BOS first; it is cut into
// non-overlapping chunks of `ctx` tokens (the tail dropped); each chunk's first token is
// replaced by BOS; the targets at positions ctx/2+1 … ctx−1 are scored; PPL = exp(mean NLL).
// With a reference model, also top-1 agreement and the mean KL divergence KL(ref ‖ model) of
// the next-token distributions at the same positions.
#include <cstdint>
#include <functional>
#include <vector>

#include "lightvault/runtime/transformer.h"
#include "lightvault/util/status.h"

namespace lv {

struct EvalOptions {
  int ctx = 128;
  int chunks_per_batch = 4;  // chunks run together as one ragged batch
  int max_chunks = 0;        // 0: all
  std::function<void(int done, int total)> progress;
};

struct EvalResult {
  int ctx = 0;
  int64_t text_tokens = 0;    // tokens in the whole text, BOS included
  int chunks = 0;
  int64_t scored = 0;         // predictions scored
  double mean_nll = 0.0;
  double perplexity = 0.0;
  double top1_accuracy = 0.0; // argmax == the next token
  bool has_reference = false;
  double top1_agreement = 0.0; // argmax == the reference's argmax
  double mean_kl = 0.0;        // mean KL(reference ‖ model), nats
  double seconds = 0.0;
};

// -log softmax(logits)[target] over n logits, the negative log-likelihood evaluate() adds up
// for a prediction.
double next_token_nll(const float* logits, int n, int target);

// `tokens` is the tokenized text (BOS first). `reference`, when given, must share the vocabulary.
Result<EvalResult> evaluate(Transformer& model, const std::vector<int>& tokens, const EvalOptions& options,
                            Transformer* reference = nullptr);

}  // namespace lv
