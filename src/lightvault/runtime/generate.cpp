#include "lightvault/runtime/generate.h"

#include <chrono>

namespace lv {

Result<GenerateStats> generate(Transformer& model, const std::vector<int>& prompt, const GenerateOptions& options,
                               const std::function<void(int prev, int next)>& on_token) {
  using Clock = std::chrono::steady_clock;
  const auto& config = model.config();
  if (prompt.empty()) return make_error("prompt", "no tokens (a BOS token is expected first)");
  const int steps = std::min(options.steps, config.seq_len);
  if (static_cast<int>(prompt.size()) > steps) {
    return make_error("prompt", std::to_string(prompt.size()) + " tokens do not fit in " + std::to_string(steps) +
                                    " positions (-n, capped at the context length " + std::to_string(config.seq_len) + ")");
  }
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int>(prompt.size());
  KvCache cache(config, steps);
  std::vector<KvCache*> caches = {&cache};
  Sampler sampler(options.temperature, options.top_p, options.seed);
  std::vector<float> logits(static_cast<size_t>(config.vocab_size));

  auto t0 = Clock::now();
  Batch prefill;
  prefill.add(0, prompt.data(), static_cast<int>(prompt.size()), 0);
  model.forward(prefill, caches, {prefill.size() - 1}, logits.data());
  auto t1 = Clock::now();
  stats.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  for (size_t i = 1; i < prompt.size(); ++i) on_token(prompt[i - 1], prompt[i]);

  const int bos = model.model().tokenizer.empty() ? 1 : model.model().tokenizer.bos_id();
  int token = prompt.back();
  std::vector<int> tokens = prompt;
  // As in llama2.c, the token sampled from the last position's logits is printed too.
  for (int pos = static_cast<int>(prompt.size()); pos <= steps; ++pos) {
    if (options.logits_processor) options.logits_processor(tokens, logits.data(), config.vocab_size);
    int next = sampler.sample(logits.data(), config.vocab_size);
    if (next == bos) break;
    tokens.push_back(next);
    on_token(token, next);
    ++stats.generated_tokens;
    token = next;
    if (pos == steps) break;
    Batch step;
    step.add(0, &token, 1, pos);
    model.forward(step, caches, {0}, logits.data());
    ++stats.decode_forwards;
  }
  stats.decode_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
  return stats;
}

}  // namespace lv
