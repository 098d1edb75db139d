#pragma once
// Text generation the way llama2.c's reference runs it: `steps` positions in all, counting the
// prompt's tokens (BOS first); the prompt is prefilled in one batch, then tokens are sampled
// one at a time; generation stops early at BOS, which delimits sequences in training data.
#include <cstdint>
#include <functional>
#include <vector>

#include "lightvault/runtime/sampler.h"
#include "lightvault/runtime/transformer.h"
#include "lightvault/util/status.h"

namespace lv {

struct GenerateOptions {
  int steps = 256;
  float temperature = 1.0f;
  float top_p = 0.9f;
  uint64_t seed = 0;
  LogitsProcessor logits_processor = nullptr;  // empty: the model's logits as they are
};

struct GenerateStats {
  int prompt_tokens = 0;
  int generated_tokens = 0;
  int decode_forwards = 0;  // single-token forward passes timed by decode_seconds
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;
  double prefill_tokens_per_second() const { return prefill_seconds > 0 ? prompt_tokens / prefill_seconds : 0.0; }
  double decode_tokens_per_second() const { return decode_seconds > 0 ? decode_forwards / decode_seconds : 0.0; }
};

// `on_token(prev, next)` is called for every token after BOS, prompt tokens included.
Result<GenerateStats> generate(Transformer& model, const std::vector<int>& prompt, const GenerateOptions& options,
                               const std::function<void(int prev, int next)>& on_token);

}  // namespace lv
