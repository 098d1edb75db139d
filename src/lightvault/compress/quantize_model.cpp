#include "lightvault/compress/quantize_model.h"

#include <cmath>

#include "lightvault/model/gguf.h"
#include "lightvault/model/gguf_layout.h"
#include "lightvault/tensor/quantize.h"

namespace lv {

const char* granularity_name(QuantGranularity g) {
  switch (g) {
    case QuantGranularity::None: return "none";
    case QuantGranularity::Tensor: return "tensor";
    case QuantGranularity::Channel: return "channel";
    case QuantGranularity::Block32: return "block32";
  }
  return "?";
}

Result<QuantGranularity> parse_granularity(const std::string& name) {
  for (auto g : {QuantGranularity::None, QuantGranularity::Tensor, QuantGranularity::Channel, QuantGranularity::Block32}) {
    if (name == granularity_name(g)) return g;
  }
  return make_error("--quant", "unknown granularity '" + name + "' (none, tensor, channel, block32)");
}

Status keep_in_float(QuantSpec& spec, const std::string& group) {
  if (group == "attention") spec.attention = false;
  else if (group == "ffn") spec.feed_forward = false;
  else if (group == "classifier") spec.classifier = false;
  else return make_error("--keep-float", "unknown group '" + group + "' (attention, ffn, classifier)");
  return Status::Ok();
}

Tensor quantize_tensor(const Tensor& t, QuantGranularity granularity) {
  // A Q8_0 tensor (a Q8_0 input file) is already block32: quantizing its values again would
  // only round them a second time, and would copy a weight the file's mapping already holds.
  if (granularity == QuantGranularity::Block32 && t.dtype == DType::Q8_0) return t;
  if (granularity == QuantGranularity::Block32 && t.cols % kQ8BlockSize == 0) return quantize_q8_0(t);
  const size_t n = static_cast<size_t>(t.numel());
  auto values = std::shared_ptr<int8_t[]>(new int8_t[n]);
  auto scales = std::shared_ptr<float[]>(new float[static_cast<size_t>(t.rows)]);
  std::vector<float> row(static_cast<size_t>(t.cols));
  float tensor_scale = 0.0f;
  if (granularity == QuantGranularity::Tensor) {
    float amax = 0.0f;
    for (int64_t r = 0; r < t.rows; ++r) {
      dequantize_row(t, r, row.data());
      for (float v : row) amax = std::fmax(amax, std::fabs(v));
    }
    tensor_scale = amax / 127.0f;
  }
  for (int64_t r = 0; r < t.rows; ++r) {
    dequantize_row(t, r, row.data());
    int8_t* q = values.get() + r * t.cols;
    if (granularity == QuantGranularity::Tensor) {
      const float inv = tensor_scale != 0.0f ? 1.0f / tensor_scale : 0.0f;
      for (int64_t c = 0; c < t.cols; ++c) {
        long v = std::lround(row[c] * inv);
        q[c] = static_cast<int8_t>(v > 127 ? 127 : (v < -127 ? -127 : v));
      }
      scales[r] = tensor_scale;
    } else {
      scales[r] = quantize_row_i8(row.data(), q, t.cols);
    }
  }
  Tensor out;
  out.dtype = DType::I8;
  out.rows = t.rows;
  out.cols = t.cols;
  out.data = values.get();
  out.scales = scales.get();
  struct Storage {
    std::shared_ptr<int8_t[]> values;
    std::shared_ptr<float[]> scales;
  };
  auto storage = std::make_shared<Storage>(Storage{values, scales});
  out.owner = std::shared_ptr<const void>(storage, storage.get());
  return out;
}

namespace {

// Whether quantize_model quantizes the tensor of `slot`: the matmul weights of the groups
// `spec` names, the embedding only when it is the shared classifier, never a norm.
bool quantizes(const Model& model, const GgufSlot& slot, const QuantSpec& spec) {
  if (spec.granularity == QuantGranularity::None || slot.vector || gguf_slot_tensor(model, slot).empty()) return false;
  if (slot.layer >= 0) {
    const auto field = slot.layer_field;
    if (field == &LayerWeights::wq || field == &LayerWeights::wk || field == &LayerWeights::wv ||
        field == &LayerWeights::wo) {
      return spec.attention;
    }
    return (field == &LayerWeights::w_gate || field == &LayerWeights::w_up || field == &LayerWeights::w_down) &&
           spec.feed_forward;
  }
  if (slot.model_field == &Model::classifier) return spec.classifier;
  return slot.model_field == &Model::token_embedding && model.shared_classifier && spec.classifier;
}

// The dtype quantize_tensor(t, granularity) returns.
DType quantized_dtype(const Tensor& t, QuantGranularity granularity) {
  const bool block = granularity == QuantGranularity::Block32 && (t.dtype == DType::Q8_0 || t.cols % kQ8BlockSize == 0);
  return block ? DType::Q8_0 : DType::I8;
}

}  // namespace

Status save_quantized_gguf(const Model& model, const QuantSpec& spec, const std::string& path) {
  return save_gguf_derived(
      model,
      [&](const GgufSlot& slot) {
        const Tensor& t = gguf_slot_tensor(model, slot);
        return quantizes(model, slot, spec) ? quantized_dtype(t, spec.granularity) : t.dtype;
      },
      [&](const GgufSlot& slot) -> Result<Tensor> {
        const Tensor& t = gguf_slot_tensor(model, slot);
        return quantizes(model, slot, spec) ? quantize_tensor(t, spec.granularity) : t;
      },
      path);
}

Model quantize_model(const Model& model, const QuantSpec& spec) {
  Model out = model;
  for (const GgufSlot& slot : gguf_slots(model.config, model.shared_classifier)) {
    if (quantizes(model, slot, spec)) gguf_slot_tensor(out, slot) = quantize_tensor(gguf_slot_tensor(model, slot), spec.granularity);
  }
  // A shared classifier is the embedding's slot: the two stay one tensor.
  if (out.shared_classifier) out.classifier = out.token_embedding;
  return out;
}

}  // namespace lv
