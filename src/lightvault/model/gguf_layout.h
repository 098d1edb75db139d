#pragma once
// The GGUF tensors of a Llama-family model, where each lives in a Model and what shape it
// has: the reader's and writer's map, also used to name a model's tensors (compress report).
#include <string>
#include <vector>

#include "lightvault/model/model.h"

namespace lv {

struct GgufSlot {
  std::string name;                          // "token_embd.weight", "blk.3.attn_q.weight", ...
  int64_t rows = 0;                          // expected shape, as in Tensor
  int64_t cols = 0;
  bool vector = false;                       // a norm: 1-D in the file, never quantized
  int layer = -1;                            // -1 for the model-level tensors
  Tensor LayerWeights::*layer_field = nullptr;  // where it lives when layer >= 0
  Tensor Model::*model_field = nullptr;         // where it lives when layer < 0
};

// The tensors a GGUF file of this shape holds, in the order they are written: token_embd,
// each layer's (no attention tensors, attn_norm included, for a layer with 0 heads, as
// llama.cpp's `deci` expects), output_norm, and output unless the classifier is shared.
std::vector<GgufSlot> gguf_slots(const ModelConfig& c, bool shared_classifier);

inline Tensor& gguf_slot_tensor(Model& m, const GgufSlot& s) {
  return s.layer >= 0 ? m.layers[static_cast<size_t>(s.layer)].*s.layer_field : m.*s.model_field;
}
inline const Tensor& gguf_slot_tensor(const Model& m, const GgufSlot& s) {
  return s.layer >= 0 ? m.layers[static_cast<size_t>(s.layer)].*s.layer_field : m.*s.model_field;
}

// The metadata keys of the model shape, for architecture `arch` ("llama" or "deci").
struct GgufKeys {
  explicit GgufKeys(const std::string& arch)
      : context_length(arch + ".context_length"),
        embedding_length(arch + ".embedding_length"),
        feed_forward_length(arch + ".feed_forward_length"),
        block_count(arch + ".block_count"),
        vocab_size(arch + ".vocab_size"),
        head_count(arch + ".attention.head_count"),
        head_count_kv(arch + ".attention.head_count_kv"),
        key_length(arch + ".attention.key_length"),
        value_length(arch + ".attention.value_length"),
        rms_epsilon(arch + ".attention.layer_norm_rms_epsilon"),
        rope_freq_base(arch + ".rope.freq_base"),
        rope_dimension_count(arch + ".rope.dimension_count") {}
  std::string context_length, embedding_length, feed_forward_length, block_count, vocab_size, head_count,
      head_count_kv, key_length, value_length, rms_epsilon, rope_freq_base, rope_dimension_count;
};

}  // namespace lv
