#pragma once
// Keys and values of one sequence for every layer, for positions [0, capacity).
#include <cstddef>
#include <vector>

#include "lightvault/model/config.h"

namespace lv {

class KvCache {
 public:
  KvCache(const ModelConfig& config, int capacity);
  int capacity() const { return capacity_; }
  // Row of layer `layer` at position `pos`: n_kv_heads(layer) * head_dim floats.
  float* key(int layer, int pos) { return keys_[layer].data() + static_cast<size_t>(pos) * row_[layer]; }
  float* value(int layer, int pos) { return values_[layer].data() + static_cast<size_t>(pos) * row_[layer]; }
  size_t bytes() const;

 private:
  int capacity_;
  std::vector<size_t> row_;
  std::vector<std::vector<float>> keys_, values_;
};

}  // namespace lv
