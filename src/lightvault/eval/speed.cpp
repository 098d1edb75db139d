#include "lightvault/eval/speed.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace lv {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Token ids spread over the vocabulary, avoiding the control tokens.
int filler_token(const Transformer& t, int i) { return 3 + (i * 7919) % (t.config().vocab_size - 3); }

double prefill_rate(Transformer& t, int n) {
  KvCache cache(t.config(), n);
  std::vector<KvCache*> caches = {&cache};
  std::vector<int> tokens(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) tokens[i] = i == 0 ? 1 : filler_token(t, i);
  Batch batch;
  batch.add(0, tokens.data(), n, 0);
  std::vector<float> logits(static_cast<size_t>(t.config().vocab_size));
  auto start = Clock::now();
  t.forward(batch, caches, {n - 1}, logits.data());
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

double decode_rate(Transformer& t, int n) {
  KvCache cache(t.config(), n);
  std::vector<KvCache*> caches = {&cache};
  std::vector<float> logits(static_cast<size_t>(t.config().vocab_size));
  int token = 1;
  auto start = Clock::now();
  for (int pos = 0; pos < n; ++pos) {
    Batch batch;
    batch.add(0, &token, 1, pos);
    t.forward(batch, caches, {0}, logits.data());
    token = filler_token(t, pos);
  }
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

SpeedResult measure_speed(Transformer& model, const SpeedOptions& options) {
  SpeedResult r;
  r.prompt_tokens = std::max(1, std::min(options.prompt_tokens, model.config().seq_len));
  r.generated_tokens = std::max(1, std::min(options.generated_tokens, model.config().seq_len));
  decode_rate(model, std::min(r.generated_tokens, 4));
  std::vector<double> prefill, decode;
  for (int i = 0; i < std::max(1, options.repetitions); ++i) {
    prefill.push_back(prefill_rate(model, r.prompt_tokens));
    decode.push_back(decode_rate(model, r.generated_tokens));
  }
  r.prefill_tokens_per_second = median(prefill);
  r.decode_tokens_per_second = median(decode);
  return r;
}

long long peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<long long>(usage.ru_maxrss) * 1024;
}

}  // namespace lv
