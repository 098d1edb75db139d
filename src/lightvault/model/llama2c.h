#pragma once
// llama2.c's legacy checkpoint format: seven little-endian int32 header fields (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means
// the classifier is stored apart), then float32 weights in a fixed order; and its tokenizer
// .bin: int32 max_token_length, then per token float32 score, int32 length, bytes.
#include <string>

#include "lightvault/model/model.h"

namespace lv {

// Maps the checkpoint at `path`; weights point into the mapping. No tokenizer is attached.
Result<Model> load_llama2c(const std::string& path);

// Reads a llama2.c tokenizer .bin; pieces are converted to SentencePiece form (" " -> "▁").
Result<Tokenizer> load_llama2c_tokenizer(const std::string& path);

// Writes `model` (uniform heads, any dtype: weights are written as float32) as a llama2.c
// checkpoint, and its tokenizer beside it when `tokenizer_path` is not empty.
Status save_llama2c(const Model& model, const std::string& path, const std::string& tokenizer_path = "");

}  // namespace lv
