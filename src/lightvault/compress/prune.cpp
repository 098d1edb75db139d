#include "lightvault/compress/prune.h"

#include <algorithm>
#include <set>

namespace lv {
namespace {

// Rows [h*hd, (h+1)*hd) of `t` for each h in `keep`, as a new F32 tensor.
Tensor keep_row_blocks(const Tensor& t, const std::vector<int>& keep, int hd) {
  Tensor out = Tensor::zeros_f32(static_cast<int64_t>(keep.size()) * hd, t.cols);
  for (size_t i = 0; i < keep.size(); ++i) {
    for (int d = 0; d < hd; ++d) {
      dequantize_row(t, int64_t{keep[i]} * hd + d, out.mutable_f32() + (static_cast<int64_t>(i) * hd + d) * t.cols);
    }
  }
  return out;
}

// Columns [h*hd, (h+1)*hd) of `t` for each h in `keep`, as a new F32 tensor.
Tensor keep_col_blocks(const Tensor& t, const std::vector<int>& keep, int hd) {
  const int64_t cols = static_cast<int64_t>(keep.size()) * hd;
  Tensor out = Tensor::zeros_f32(t.rows, cols);
  std::vector<float> row(static_cast<size_t>(t.cols));
  for (int64_t r = 0; r < t.rows; ++r) {
    dequantize_row(t, r, row.data());
    for (size_t i = 0; i < keep.size(); ++i) {
      std::copy_n(&row[static_cast<size_t>(keep[i]) * hd], hd, out.mutable_f32() + r * cols + static_cast<int64_t>(i) * hd);
    }
  }
  return out;
}

}  // namespace

Result<Model> prune(const Model& model, const PrunePlan& plan) {
  LV_RETURN_IF_ERROR(plan.validate(model.config, true, "plan"));
  Model out = model;
  const int hd = model.config.head_dim;
  for (int l = 0; l < model.config.n_layers(); ++l) {
    const auto& removed = plan.remove[l];
    if (removed.empty()) continue;
    const LayerShape shape = model.config.layers[l];
    LayerWeights& w = out.layers[l];
    if (static_cast<int>(removed.size()) == shape.n_heads) {  // the attention block goes
      out.config.layers[l] = LayerShape{0, 0};
      w.wq = w.wk = w.wv = w.wo = Tensor{};
      continue;
    }
    const int group = shape.n_heads / shape.n_kv_heads;
    std::set<int> gone(removed.begin(), removed.end());
    std::vector<int> keep_heads, keep_kv;
    for (int h = 0; h < shape.n_heads; ++h) {
      if (!gone.count(h)) keep_heads.push_back(h);
    }
    for (int g = 0; g < shape.n_kv_heads; ++g) {
      bool any_left = false;
      for (int h = g * group; h < (g + 1) * group; ++h) any_left |= !gone.count(h);
      if (any_left) keep_kv.push_back(g);
    }
    w.wq = keep_row_blocks(w.wq, keep_heads, hd);
    w.wo = keep_col_blocks(w.wo, keep_heads, hd);
    if (keep_kv.size() != static_cast<size_t>(shape.n_kv_heads)) {
      w.wk = keep_row_blocks(w.wk, keep_kv, hd);
      w.wv = keep_row_blocks(w.wv, keep_kv, hd);
    }
    out.config.layers[l] = LayerShape{static_cast<int>(keep_heads.size()), static_cast<int>(keep_kv.size())};
  }
  LV_RETURN_IF_ERROR(out.validate());
  return out;
}

}  // namespace lv
