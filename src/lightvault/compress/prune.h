#pragma once
// Physical head pruning: the removed heads' rows of Wq, their key/value heads' rows of Wk and
// Wv (when a whole group goes) and their columns of Wo are gone from the new model, whose
// per-layer head counts say what is left. Running the result equals running the original
// with those heads masked.
#include "lightvault/compress/prune_plan.h"
#include "lightvault/model/model.h"

namespace lv {

// `plan` must pass plan.validate(model.config, ...). Pruned tensors are on the heap in their
// original dtype (stored rows and Q8_0 blocks copied as they are, so a 7B Q8_0 model never
// becomes F32; only a Q8_0 Wo whose head_dim is not a multiple of 32 is quantized again, per
// row); untouched tensors are shared with `model`.
Result<Model> prune(const Model& model, const PrunePlan& plan);

}  // namespace lv
