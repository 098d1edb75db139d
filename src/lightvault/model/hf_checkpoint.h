#pragma once
// Hugging Face Llama checkpoints: config.json + safetensors weights (+ tokenizer.json).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightvault/model/config.h"
#include "lightvault/model/model.h"
#include "lightvault/util/status.h"

namespace lv {

// Reads a Llama checkpoint in the Hugging Face layout. `path` is one of
// - a directory holding config.json and either model.safetensors or the shards that
//   model.safetensors.index.json lists in its "weight_map" (shard names must be plain file
//   names in the same directory), and optionally tokenizer.json;
// - a .safetensors file, or a model.safetensors.index.json, with config.json (and
//   optionally tokenizer.json) beside it.
// Weights: F32 and F16 tensors point into the file mappings (F16 stays DType::F16) unless
// misaligned, when they are copied; BF16 is converted to F32 on the heap; other dtypes are
// refused. q_proj and k_proj rows are permuted from Hugging Face's rotate-half RoPE layout
// to the adjacent-pairs layout of lv::Model (rope_halves_to_pairs), into heap copies.
// lm_head.weight is used unless tie_word_embeddings is true or it is absent; then the
// classifier shares the token embedding. A tokenizer.json with fewer pieces than
// vocab_size is padded with unused "[PAD<id>]" pieces (as checkpoints pad their embedding
// to a round size); one with more is an error. The result passes Model::validate().
// Errors name the file and the tensor or config field, e.g.
// "DIR/model.safetensors: shape [64, 32] where [64, 64] was expected (tensor
// 'model.layers.0.self_attn.q_proj.weight')".
Result<Model> load_hf_checkpoint(const std::string& path);

// True when `path` looks like a Hugging Face checkpoint (a directory with config.json, a
// .safetensors file or a *.index.json file), for load_model's dispatch; reads nothing.
bool is_hf_checkpoint_path(const std::string& path);

// The model shape in a config.json. Keys read: hidden_size, intermediate_size,
// num_hidden_layers, num_attention_heads, vocab_size (required); num_key_value_heads
// (default: num_attention_heads), head_dim (default: hidden_size / num_attention_heads),
// max_position_embeddings (default 2048), rms_norm_eps (default 1e-6), rope_theta (default
// 10000), tie_word_embeddings (default false), as transformers' LlamaConfig has them.
// model_type must be "llama" (or, when absent, architectures must name LlamaForCausalLM).
// Features the runtime lacks are refused rather than ignored: rope_scaling, attention_bias,
// mlp_bias, and a hidden_act other than "silu".
struct HfConfig {
  ModelConfig config;
  bool tie_word_embeddings = false;
};
Result<HfConfig> parse_hf_config(std::string_view json_text, const std::string& source);

// Rotary embeddings: Hugging Face rotates the two halves of each head (x[i] with
// x[i + head_dim/2]); lv::Model rotates adjacent pairs (x[2i] with x[2i+1]). For a
// projection of n_heads heads of head_dim rows, each `row_bytes` long, this writes to `out`
// the rows of `in` reordered so that within every head, row a * head_dim/2 + i becomes row
// 2i + a (a in {0, 1}): the permutation llama.cpp applies when converting to GGUF. Use
// n_heads for q_proj, n_kv_heads for k_proj. `in` and `out` must not overlap.
void rope_halves_to_pairs(const void* in, void* out, int64_t n_heads, int64_t head_dim, size_t row_bytes);
// The inverse: adjacent-pairs layout back to Hugging Face's (for writers and tests).
void rope_pairs_to_halves(const void* in, void* out, int64_t n_heads, int64_t head_dim, size_t row_bytes);

}  // namespace lv
