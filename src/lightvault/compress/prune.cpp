#include "lightvault/compress/prune.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "lightvault/tensor/quantize.h"

namespace lv {
namespace {

// A heap tensor of `rows` x `cols` in `dtype` (with room for I8 row scales), to be filled.
Tensor heap_tensor(DType dtype, int64_t rows, int64_t cols) {
  struct Storage {
    std::unique_ptr<uint8_t[]> bytes;
    std::unique_ptr<float[]> scales;
  };
  auto storage = std::make_shared<Storage>();
  storage->bytes.reset(new uint8_t[static_cast<size_t>(rows) * row_bytes(dtype, cols)]);
  if (dtype == DType::I8) storage->scales.reset(new float[static_cast<size_t>(rows)]);
  Tensor t;
  t.dtype = dtype;
  t.rows = rows;
  t.cols = cols;
  t.data = storage->bytes.get();
  t.scales = storage->scales.get();
  t.owner = std::shared_ptr<const void>(storage, storage.get());
  return t;
}

uint8_t* mutable_row(const Tensor& t, int64_t r) { return const_cast<uint8_t*>(t.row_ptr(r)); }

// Rows [h*hd, (h+1)*hd) of `t` for each h in `keep`, in t's dtype: rows are copied as they
// are stored (with their I8 scales), so nothing is rounded again.
Tensor keep_row_blocks(const Tensor& t, const std::vector<int>& keep, int hd) {
  Tensor out = heap_tensor(t.dtype, static_cast<int64_t>(keep.size()) * hd, t.cols);
  const size_t bytes = row_bytes(t.dtype, t.cols);
  for (size_t i = 0; i < keep.size(); ++i) {
    for (int d = 0; d < hd; ++d) {
      const int64_t from = int64_t{keep[i]} * hd + d, to = static_cast<int64_t>(i) * hd + d;
      std::memcpy(mutable_row(out, to), t.row_ptr(from), bytes);
      if (t.dtype == DType::I8) const_cast<float*>(out.scales)[to] = t.scales[from];
    }
  }
  return out;
}

// Columns [h*hd, (h+1)*hd) of `t` for each h in `keep`. F32, F16 and I8 (whose scales are per
// row) copy the kept columns' elements; Q8_0 copies whole blocks when a head's columns are
// whole blocks (hd % 32 == 0), and otherwise widens each row and quantizes the kept columns
// again (as F32 when they are not a multiple of 32, which Q8_0 needs).
Tensor keep_col_blocks(const Tensor& t, const std::vector<int>& keep, int hd) {
  const int64_t cols = static_cast<int64_t>(keep.size()) * hd;
  if (t.dtype == DType::Q8_0 && hd % kQ8BlockSize != 0) {
    Tensor out = heap_tensor(cols % kQ8BlockSize == 0 ? DType::Q8_0 : DType::F32, t.rows, cols);
    std::vector<float> row(static_cast<size_t>(t.cols)), kept(static_cast<size_t>(cols));
    for (int64_t r = 0; r < t.rows; ++r) {
      dequantize_row(t, r, row.data());
      for (size_t i = 0; i < keep.size(); ++i) {
        std::copy_n(&row[static_cast<size_t>(keep[i]) * hd], hd, &kept[i * hd]);
      }
      if (out.dtype == DType::Q8_0) {
        quantize_row_q8_0(kept.data(), reinterpret_cast<BlockQ8_0*>(mutable_row(out, r)), cols);
      } else {
        std::memcpy(mutable_row(out, r), kept.data(), kept.size() * sizeof(float));
      }
    }
    return out;
  }
  Tensor out = heap_tensor(t.dtype, t.rows, cols);
  // Bytes per head within a row: Q8_0 heads are whole blocks here.
  const size_t head_bytes = t.dtype == DType::Q8_0 ? row_bytes(DType::Q8_0, hd) : row_bytes(t.dtype, 1) * hd;
  for (int64_t r = 0; r < t.rows; ++r) {
    const uint8_t* from = t.row_ptr(r);
    uint8_t* to = mutable_row(out, r);
    for (size_t i = 0; i < keep.size(); ++i) std::memcpy(to + i * head_bytes, from + keep[i] * head_bytes, head_bytes);
    if (t.dtype == DType::I8) const_cast<float*>(out.scales)[r] = t.scales[r];
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
