#include "lightvault/runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace lv {

int argmax(const float* v, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}

int Sampler::sample(float* logits, int n) {
  if (temperature_ <= 0.0f) return argmax(logits, n);
  float max_logit = logits[argmax(logits, n)];
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    logits[i] = std::exp((logits[i] - max_logit) / temperature_);
    sum += logits[i];
  }
  candidates_.clear();
  for (int i = 0; i < n; ++i) candidates_.emplace_back(static_cast<float>(logits[i] / sum), i);
  std::sort(candidates_.begin(), candidates_.end(), [](auto& a, auto& b) { return a.first > b.first; });
  // Keep the smallest prefix whose probability reaches top_p, then sample within it.
  double mass = 0.0;
  size_t keep = candidates_.size();
  if (top_p_ > 0.0f && top_p_ < 1.0f) {
    for (size_t i = 0; i < candidates_.size(); ++i) {
      mass += candidates_[i].first;
      if (mass >= top_p_) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0.0;
  for (size_t i = 0; i < keep; ++i) kept += candidates_[i].first;
  double r = std::uniform_real_distribution<double>(0.0, kept)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= candidates_[i].first;
    if (r <= 0.0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace lv
