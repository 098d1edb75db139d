#pragma once
// Picks the next token from logits: greedy when temperature is 0, otherwise nucleus (top-p)
// sampling from softmax(logits / temperature), reproducible for a given seed.
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

namespace lv {

class Sampler {
 public:
  Sampler(float temperature, float top_p, uint64_t seed) : temperature_(temperature), top_p_(top_p), rng_(seed) {}
  // `logits` (n values) is used as scratch and overwritten.
  int sample(float* logits, int n);

 private:
  float temperature_, top_p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int>> candidates_;
};

int argmax(const float* v, int n);

// Changes the next token's logits (n values, in place) before the sampler chooses, given
// every token so far (BOS, the prompt, what was generated): e.g. a watermark's bias.
using LogitsProcessor = std::function<void(std::span<const int> tokens, float* logits, int n)>;

}  // namespace lv
