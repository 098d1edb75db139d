#include "lightvault/runtime/kv_cache.h"

namespace lv {

KvCache::KvCache(const ModelConfig& config, int capacity) : capacity_(capacity) {
  for (const auto& layer : config.layers) {
    size_t row = static_cast<size_t>(layer.n_kv_heads) * config.head_dim;
    row_.push_back(row);
    keys_.emplace_back(row * capacity);
    values_.emplace_back(row * capacity);
  }
}

size_t KvCache::bytes() const {
  size_t total = 0;
  for (size_t l = 0; l < keys_.size(); ++l) total += (keys_[l].size() + values_[l].size()) * sizeof(float);
  return total;
}

}  // namespace lv
