#include "lightvault/model/model.h"

namespace lv {
namespace {

Status check_shape(const std::string& source, const std::string& name, const Tensor& t, int64_t rows, int64_t cols) {
  if (t.empty()) return make_error(source, "missing tensor (tensor '" + name + "')");
  if (t.rows != rows || t.cols != cols) {
    return make_error(source, "shape [" + std::to_string(t.rows) + ", " + std::to_string(t.cols) +
                                  "] where [" + std::to_string(rows) + ", " + std::to_string(cols) +
                                  "] was expected (tensor '" + name + "')");
  }
  if (t.dtype == DType::Q8_0 && cols % kQ8BlockSize != 0) {
    return make_error(source, "Q8_0 row length not a multiple of 32 (tensor '" + name + "')");
  }
  return Status::Ok();
}

}  // namespace

Status Model::validate() const {
  const std::string& src = path;
  LV_RETURN_IF_ERROR(config.validate(src));
  const auto& c = config;
  if (static_cast<int>(layers.size()) != c.n_layers()) {
    return make_error(src, "has " + std::to_string(layers.size()) + " layers of weights but n_layers = " +
                               std::to_string(c.n_layers()));
  }
  LV_RETURN_IF_ERROR(check_shape(src, "token_embd.weight", token_embedding, c.vocab_size, c.dim));
  LV_RETURN_IF_ERROR(check_shape(src, "output_norm.weight", output_norm, 1, c.dim));
  LV_RETURN_IF_ERROR(check_shape(src, "output.weight", classifier, c.vocab_size, c.dim));
  for (int l = 0; l < c.n_layers(); ++l) {
    const auto& w = layers[l];
    const auto& s = c.layers[l];
    std::string p = "blk." + std::to_string(l) + ".";
    int64_t q_rows = int64_t{s.n_heads} * c.head_dim, kv_rows = int64_t{s.n_kv_heads} * c.head_dim;
    if (s.n_heads > 0) {
      LV_RETURN_IF_ERROR(check_shape(src, p + "attn_norm.weight", w.attn_norm, 1, c.dim));
      LV_RETURN_IF_ERROR(check_shape(src, p + "attn_q.weight", w.wq, q_rows, c.dim));
      LV_RETURN_IF_ERROR(check_shape(src, p + "attn_k.weight", w.wk, kv_rows, c.dim));
      LV_RETURN_IF_ERROR(check_shape(src, p + "attn_v.weight", w.wv, kv_rows, c.dim));
      LV_RETURN_IF_ERROR(check_shape(src, p + "attn_output.weight", w.wo, c.dim, q_rows));
    }
    LV_RETURN_IF_ERROR(check_shape(src, p + "ffn_norm.weight", w.ffn_norm, 1, c.dim));
    LV_RETURN_IF_ERROR(check_shape(src, p + "ffn_gate.weight", w.w_gate, c.hidden_dim, c.dim));
    LV_RETURN_IF_ERROR(check_shape(src, p + "ffn_down.weight", w.w_down, c.dim, c.hidden_dim));
    LV_RETURN_IF_ERROR(check_shape(src, p + "ffn_up.weight", w.w_up, c.hidden_dim, c.dim));
  }
  if (!tokenizer.empty() && tokenizer.vocab_size() != c.vocab_size) {
    return make_error(src, "tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                               " tokens but the model's vocab_size is " + std::to_string(c.vocab_size));
  }
  return Status::Ok();
}

}  // namespace lv
