#pragma once
// The shape of a Llama-family transformer. Layers may differ in their number of attention
// heads (pruned models do); the head size is the same everywhere.
#include <cstdint>
#include <string>
#include <vector>

#include "lightvault/util/status.h"

namespace lv {

struct LayerShape {
  int n_heads = 0;     // query heads; 0 means the layer has no attention block
  int n_kv_heads = 0;  // key/value heads; n_heads is a multiple of it
};

struct ModelConfig {
  int dim = 0;         // embedding width
  int hidden_dim = 0;  // feed-forward width
  int vocab_size = 0;
  int seq_len = 0;     // context length the model was trained for
  int head_dim = 0;    // size of every attention head
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  std::vector<LayerShape> layers;

  int n_layers() const { return static_cast<int>(layers.size()); }
  // True when every layer has the same head counts (what llama.cpp's `llama` arch requires).
  bool uniform_heads() const;
  int64_t attention_params() const;  // Wq, Wk, Wv, Wo of all layers
  int64_t total_params(bool shared_classifier) const;

  // Checks that the shape is sane (positive sizes within limits, kv heads divide heads,
  // dim divisible by heads for uniform models); `source` names the file in the error.
  Status validate(const std::string& source) const;
};

}  // namespace lv
