#include "lightvault/compress/calibration.h"

#include "lightvault/runtime/sampler.h"

namespace lv {

Calibration Calibration::from_tokens(const std::vector<int>& tokens, int ctx, int max_chunks, int bos_id) {
  Calibration c;
  c.ctx = ctx;
  for (size_t start = 0; start + ctx <= tokens.size(); start += ctx) {
    if (max_chunks > 0 && static_cast<int>(c.chunks.size()) >= max_chunks) break;
    std::vector<int> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(start),
                           tokens.begin() + static_cast<std::ptrdiff_t>(start + ctx));
    chunk[0] = bos_id;
    c.chunks.push_back(std::move(chunk));
  }
  return c;
}

Batch Calibration::batch() const {
  Batch b;
  for (size_t s = 0; s < chunks.size(); ++s) b.add(static_cast<int>(s), chunks[s].data(), ctx, 0);
  return b;
}

std::vector<std::unique_ptr<KvCache>> Calibration::make_caches(const ModelConfig& config) const {
  std::vector<std::unique_ptr<KvCache>> caches;
  for (size_t s = 0; s < chunks.size(); ++s) caches.push_back(std::make_unique<KvCache>(config, ctx));
  return caches;
}

std::vector<KvCache*> cache_pointers(const std::vector<std::unique_ptr<KvCache>>& caches) {
  std::vector<KvCache*> out;
  for (const auto& c : caches) out.push_back(c.get());
  return out;
}

std::vector<float> calibration_logits(Transformer& model, const Calibration& calibration) {
  auto caches = calibration.make_caches(model.config());
  std::vector<int> rows(static_cast<size_t>(calibration.rows()));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int>(i);
  std::vector<float> logits(rows.size() * static_cast<size_t>(model.config().vocab_size));
  model.forward(calibration.batch(), cache_pointers(caches), rows, logits.data());
  return logits;
}

double calibration_top1(Transformer& model, const Calibration& calibration) {
  const int vocab = model.config().vocab_size;
  std::vector<float> logits = calibration_logits(model, calibration);
  int64_t correct = 0, total = 0;
  for (size_t s = 0; s < calibration.chunks.size(); ++s) {
    for (int j = 0; j + 1 < calibration.ctx; ++j) {
      const float* row = &logits[(s * calibration.ctx + j) * static_cast<size_t>(vocab)];
      correct += argmax(row, vocab) == calibration.chunks[s][j + 1];
      ++total;
    }
  }
  return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

}  // namespace lv
