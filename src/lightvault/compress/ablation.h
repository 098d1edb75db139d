#pragma once
// Measures what disabling attention heads costs: the mean squared error between the model's
// output (logits centered per position, or final hidden states) with the heads masked and
// the unmasked model's, over a calibration batch. The residual stream entering each layer is computed once (per
// base mask) and reused, so trying heads of layer l runs only layers l and up.
#include <vector>

#include "lightvault/compress/calibration.h"
#include "lightvault/model/model.h"

namespace lv {

class Ablator {
 public:
  // `model` and `calibration` must outlive the Ablator.
  Ablator(const Model& model, const Calibration& calibration, bool on_hidden);

  // Heads masked in `base` (mask[layer][head] == 0) stay disabled in every later damage().
  void set_base(const std::vector<std::vector<float>>& base);
  const std::vector<std::vector<float>>& base() const { return base_; }

  // MSE against the unmasked model with the base heads and `heads` of `layer` disabled.
  double damage(int layer, const std::vector<int>& heads);

 private:
  std::vector<float> output(const std::vector<float>& x);

  const Model& model_;
  bool on_hidden_;
  Transformer transformer_;
  Batch batch_;
  std::vector<std::unique_ptr<KvCache>> caches_;
  std::vector<KvCache*> cache_ptrs_;
  std::vector<int> rows_;
  std::vector<std::vector<float>> base_;
  std::vector<std::vector<float>> layer_input_;  // under the base mask
  std::vector<float> reference_;                 // unmasked output
};

}  // namespace lv
