#pragma once
// Which attention heads to remove from which layers: a JSON file a user can read, edit and
// pass back (`--plan FILE`). Head indices are query heads of the original model. With
// grouped-query attention a layer's removed heads must either be whole key/value groups (the
// group's K/V head goes too) or the same number of query heads from every group (all K/V
// heads stay); both keep n_heads a multiple of n_kv_heads, so the result stays loadable.
// The plans lightvault chooses itself remove whole key/value groups.
#include <string>
#include <vector>

#include "lightvault/compress/head_importance.h"
#include "lightvault/model/config.h"
#include "lightvault/util/status.h"

namespace lv {

struct PrunePlan {
  // The shape of the model the plan is for; a plan for another model is refused.
  int n_layers = 0, dim = 0, head_dim = 0, vocab_size = 0;
  std::vector<LayerShape> layers;
  std::string importance;                // how the heads were chosen, for the reader
  std::vector<std::vector<int>> remove;  // [layer] -> sorted query-head indices

  static PrunePlan empty_for(const ModelConfig& config);
  int removed_heads() const;
  int total_heads() const;

  std::string to_json() const;
  // `source` names the file in errors.
  static Result<PrunePlan> from_json(const std::string& text, const std::string& source);

  // Checks the plan against `config`: same model, indices in range and unique, whole groups
  // or even removal within groups, and at least one head per layer unless allow_layer_drop.
  Status validate(const ModelConfig& config, bool allow_layer_drop, const std::string& source) const;
};

// Key/value groups least important first: the scorer's removal_order when it has one, else
// every group ranked by the sum of its heads' raw scores (comparable across layers because
// each scorer's raw units are).
std::vector<HeadGroup> rank_groups(const ModelConfig& config, const HeadScores& scores);

// Removes the first `count` groups of `ranked` (skipping any that would empty a layer unless
// allow_layer_drop; never the last group of layer 0, whose head size llama.cpp relies on).
PrunePlan plan_from_ranking(const ModelConfig& config, const std::vector<HeadGroup>& ranked, int count,
                            bool allow_layer_drop, const std::string& importance);

// Removes every group whose heads' normalized scores are all below `threshold`.
PrunePlan plan_by_threshold(const ModelConfig& config, const HeadScores& scores, double threshold,
                            bool allow_layer_drop);

}  // namespace lv
