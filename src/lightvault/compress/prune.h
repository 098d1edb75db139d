#pragma once
// Physical head pruning: the removed heads' rows of Wq, their key/value heads' rows of Wk and
// Wv (when a whole group goes) and their columns of Wo are gone from the new model, whose
// per-layer head counts say what is left. Running the result equals running the original
// with those heads masked.
#include "lightvault/compress/prune_plan.h"
#include "lightvault/model/model.h"

namespace lv {

// `plan` must pass plan.validate(model.config, ...). Pruned tensors are F32 on the heap;
// untouched tensors are shared with `model`.
Result<Model> prune(const Model& model, const PrunePlan& plan);

}  // namespace lv
