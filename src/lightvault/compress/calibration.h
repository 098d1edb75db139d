#pragma once
// Calibration text cut into chunks of `ctx` tokens, each starting with BOS, that scorers and
// the retention search run as one ragged batch.
#include <memory>
#include <vector>

#include "lightvault/runtime/transformer.h"

namespace lv {

struct Calibration {
  int ctx = 0;
  std::vector<std::vector<int>> chunks;

  // Cuts `tokens` (BOS first) into at most `max_chunks` chunks of `ctx` tokens.
  static Calibration from_tokens(const std::vector<int>& tokens, int ctx, int max_chunks, int bos_id);

  int rows() const { return static_cast<int>(chunks.size()) * ctx; }
  Batch batch() const;
  std::vector<std::unique_ptr<KvCache>> make_caches(const ModelConfig& config) const;
};

// Pointers to the caches, in the form Transformer::forward takes.
std::vector<KvCache*> cache_pointers(const std::vector<std::unique_ptr<KvCache>>& caches);

// Logits of every row of the calibration batch (rows × vocab).
std::vector<float> calibration_logits(Transformer& model, const Calibration& calibration);

// Next-token top-1 accuracy over every position of the calibration chunks but the last.
double calibration_top1(Transformer& model, const Calibration& calibration);

}  // namespace lv
