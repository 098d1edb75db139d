#pragma once
// INT8 weights by symmetric uniform quantization (zero point 0, scale = max|w| / 127, round to
// nearest, clamp to [-127, 127]) at one of three granularities:
//   tensor   one scale for the whole tensor          (stored as I8 with equal row scales)
//   channel  one scale per output channel (row)      (I8)
//   block32  one scale per 32 consecutive weights    (Q8_0, GGUF's layout; a row whose length
//            is not a multiple of 32 falls back to one scale per channel)
// The runtime quantizes activations per row (I8) or per block (Q8_0) so every matmul is
// int8 × int8 → int32. Norm weights stay float; so does the token embedding unless it is
// shared with the classifier (then the one tensor is quantized).
#include <string>

#include "lightvault/model/model.h"

namespace lv {

enum class QuantGranularity { None, Tensor, Channel, Block32 };

const char* granularity_name(QuantGranularity g);
Result<QuantGranularity> parse_granularity(const std::string& name);

struct QuantSpec {
  QuantGranularity granularity = QuantGranularity::Channel;
  bool attention = true;    // Wq, Wk, Wv, Wo
  bool feed_forward = true; // gate, up, down
  bool classifier = true;   // output (and the embedding when shared)
};

// Leaves one group of `spec` in float: "attention", "ffn" or "classifier"; an unknown name is
// an error naming --keep-float.
Status keep_in_float(QuantSpec& spec, const std::string& group);

Model quantize_model(const Model& model, const QuantSpec& spec);

// Writes quantize_model(model, spec) as save_gguf would, byte for byte, quantizing each tensor
// as the writer reaches it: only one quantized tensor exists at a time, so a model mapped from
// a large F16 file is never held twice.
Status save_quantized_gguf(const Model& model, const QuantSpec& spec, const std::string& path);

// One tensor at `granularity` (not None).
Tensor quantize_tensor(const Tensor& t, QuantGranularity granularity);

}  // namespace lv
