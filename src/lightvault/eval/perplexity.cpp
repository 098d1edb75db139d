#include "lightvault/eval/perplexity.h"

#include <chrono>
#include <cmath>
#include <memory>

#include "lightvault/runtime/sampler.h"

namespace lv {
namespace {

// log softmax(logits)[i] = (logits[i] - max_logit) - log_sum, as llama.cpp's perplexity tool
// computes it (float logits, double sum of exponentials).
struct SoftmaxNorm {
  float max_logit;
  double log_sum;
};

SoftmaxNorm softmax_norm(const float* logits, int n) {
  float max_logit = logits[0];
  for (int i = 1; i < n; ++i) max_logit = std::max(max_logit, logits[i]);
  double sum_exp = 0.0;
  for (int i = 0; i < n; ++i) sum_exp += std::exp(logits[i] - max_logit);
  return {max_logit, std::log(sum_exp)};
}

// log-softmax of the whole row.
void log_softmax(const float* logits, int n, std::vector<double>& out) {
  const SoftmaxNorm norm = softmax_norm(logits, n);
  out.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[i] = static_cast<double>(logits[i] - norm.max_logit) - norm.log_sum;
}

// Runs `chunk_count` chunks starting at chunk `first_chunk` through `t` and returns the logits
// of the scored rows, chunk after chunk.
std::vector<float> scored_logits(Transformer& t, const std::vector<int>& tokens, int ctx, int first_chunk,
                                 int chunk_count) {
  const int first = ctx / 2;
  Batch batch;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<KvCache*> cache_ptrs;
  std::vector<int> rows;
  std::vector<int> chunk(static_cast<size_t>(ctx));
  for (int c = 0; c < chunk_count; ++c) {
    const int64_t start = int64_t{first_chunk + c} * ctx;
    std::copy_n(tokens.begin() + start, ctx, chunk.begin());
    chunk[0] = t.model().tokenizer.empty() ? 1 : t.model().tokenizer.bos_id();
    const int row0 = batch.size();
    batch.add(c, chunk.data(), ctx, 0);
    for (int j = first; j < ctx - 1; ++j) rows.push_back(row0 + j);
    caches.push_back(std::make_unique<KvCache>(t.config(), ctx));
    cache_ptrs.push_back(caches.back().get());
  }
  std::vector<float> logits(rows.size() * static_cast<size_t>(t.config().vocab_size));
  t.forward(batch, cache_ptrs, rows, logits.data());
  return logits;
}

}  // namespace

double next_token_nll(const float* logits, int n, int target) {
  const SoftmaxNorm norm = softmax_norm(logits, n);
  return norm.log_sum - static_cast<double>(logits[target] - norm.max_logit);
}

Result<EvalResult> evaluate(Transformer& model, const std::vector<int>& tokens, const EvalOptions& options,
                            Transformer* reference) {
  const int ctx = options.ctx;
  const int vocab = model.config().vocab_size;
  if (ctx < 4) return make_error("eval", "--ctx must be at least 4 (got " + std::to_string(ctx) + ")");
  if (ctx > model.config().seq_len) {
    return make_error("eval", "--ctx " + std::to_string(ctx) + " exceeds the model's context length " +
                                  std::to_string(model.config().seq_len));
  }
  if (reference && reference->config().vocab_size != vocab) {
    return make_error("eval", "the reference model's vocabulary (" + std::to_string(reference->config().vocab_size) +
                                  ") differs from the model's (" + std::to_string(vocab) + ")");
  }
  int chunks = static_cast<int>(tokens.size() / static_cast<size_t>(ctx));
  if (options.max_chunks > 0) chunks = std::min(chunks, options.max_chunks);
  if (chunks == 0) {
    return make_error("eval", "the text has " + std::to_string(tokens.size()) + " tokens, fewer than one chunk of " +
                                  std::to_string(ctx));
  }

  auto started = std::chrono::steady_clock::now();
  EvalResult r;
  r.ctx = ctx;
  r.text_tokens = static_cast<int64_t>(tokens.size());
  r.chunks = chunks;
  r.has_reference = reference != nullptr;
  const int first = ctx / 2;
  const int per_chunk = ctx - 1 - first;
  double nll = 0.0, kl = 0.0;
  int64_t correct = 0, agree = 0;
  std::vector<double> logp, ref_logp;
  const int step = std::max(1, options.chunks_per_batch);
  for (int c0 = 0; c0 < chunks; c0 += step) {
    const int count = std::min(step, chunks - c0);
    std::vector<float> logits = scored_logits(model, tokens, ctx, c0, count);
    std::vector<float> ref_logits;
    if (reference) ref_logits = scored_logits(*reference, tokens, ctx, c0, count);
    for (int c = 0; c < count; ++c) {
      for (int j = 0; j < per_chunk; ++j) {
        const size_t row = static_cast<size_t>(c) * per_chunk + j;
        const float* l = &logits[row * vocab];
        const int target = tokens[static_cast<size_t>(c0 + c) * ctx + first + j + 1];
        log_softmax(l, vocab, logp);
        nll -= logp[target];
        const int top = argmax(l, vocab);
        correct += top == target;
        if (reference) {
          const float* rl = &ref_logits[row * vocab];
          log_softmax(rl, vocab, ref_logp);
          agree += argmax(rl, vocab) == top;
          double d = 0.0;
          for (int v = 0; v < vocab; ++v) d += std::exp(ref_logp[v]) * (ref_logp[v] - logp[v]);
          kl += d;
        }
      }
    }
    if (options.progress) options.progress(c0 + count, chunks);
  }
  r.scored = int64_t{chunks} * per_chunk;
  r.mean_nll = nll / static_cast<double>(r.scored);
  r.perplexity = std::exp(r.mean_nll);
  r.top1_accuracy = static_cast<double>(correct) / static_cast<double>(r.scored);
  if (reference) {
    r.top1_agreement = static_cast<double>(agree) / static_cast<double>(r.scored);
    r.mean_kl = kl / static_cast<double>(r.scored);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace lv
