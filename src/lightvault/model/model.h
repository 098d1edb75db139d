#pragma once
// A Llama-family language model in memory: its shape, its named weights and its tokenizer.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lightvault/model/config.h"
#include "lightvault/model/tokenizer.h"
#include "lightvault/tensor/tensor.h"

namespace lv {

struct LayerWeights {
  Tensor attn_norm;  // [1, dim]
  Tensor wq;         // [n_heads * head_dim, dim]; rows of head h: h*head_dim .. (h+1)*head_dim-1
  Tensor wk;         // [n_kv_heads * head_dim, dim]
  Tensor wv;         // [n_kv_heads * head_dim, dim]
  Tensor wo;         // [dim, n_heads * head_dim]; columns of head h as in wq
  Tensor ffn_norm;   // [1, dim]
  Tensor w_gate;     // [hidden_dim, dim]  (w1 in llama2.c, ffn_gate in GGUF)
  Tensor w_down;     // [dim, hidden_dim]  (w2, ffn_down)
  Tensor w_up;       // [hidden_dim, dim]  (w3, ffn_up)
};

// Rotary embeddings rotate adjacent pairs (x[2i], x[2i+1]) of each head, as llama2.c and
// llama.cpp's `llama` arch do; loaders of checkpoints that rotate halves (Hugging Face)
// permute the rows of wq and wk into this layout.
struct Model {
  ModelConfig config;
  Tensor token_embedding;  // [vocab, dim]
  std::vector<LayerWeights> layers;
  Tensor output_norm;      // [1, dim]
  Tensor classifier;       // [vocab, dim]; the same data as token_embedding when shared
  bool shared_classifier = false;
  Tokenizer tokenizer;     // empty when the format keeps it apart and none was given

  std::string path;        // where it was loaded from
  std::string format;      // "gguf", "llama2c", "safetensors", "synthetic"
  uint64_t file_size = 0;  // bytes on disk (all files of the checkpoint)

  int64_t parameter_count() const { return config.total_params(shared_classifier); }
  // Checks every tensor's shape against config (naming the tensor) and the tokenizer's
  // vocabulary against config.vocab_size.
  Status validate() const;
};

}  // namespace lv
