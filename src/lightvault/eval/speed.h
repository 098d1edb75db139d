#pragma once
// Prefill and decode speed, measured the way llama-bench measures them so the two compare:
// prefill = one batch of `prompt_tokens` tokens (BOS first) in tokens/s; decode =
// `generated_tokens` single-token steps from position 0 in tokens/s; each the median of
// `repetitions` runs after a short warm-up that faults the weights in.
#include "lightvault/runtime/transformer.h"

namespace lv {

struct SpeedOptions {
  int prompt_tokens = 128;
  int generated_tokens = 64;
  int repetitions = 3;
};

struct SpeedResult {
  int prompt_tokens = 0, generated_tokens = 0;
  double prefill_tokens_per_second = 0.0;
  double decode_tokens_per_second = 0.0;
};

SpeedResult measure_speed(Transformer& model, const SpeedOptions& options);

// Peak resident set size of this process so far, in bytes.
long long peak_rss_bytes();

}  // namespace lv
