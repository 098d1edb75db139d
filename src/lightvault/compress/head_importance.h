#pragma once
// Scores every attention head (layer, head) of a model; higher means more important.
//
//  magnitude   S_h = Σ|Wq[rows of h]| + Σ|Wo[columns of h]| + (Σ|Wk[rows of g]| + Σ|Wv[rows of g]|) / G
//              where g is h's key/value head and G the query heads sharing it: shared K/V
//              weights are attributed to the G query heads of the group in equal shares.
//  ablation    mean squared error between the model's logits (or final hidden states) with h
//              disabled (its attention output masked) and without, over the calibration text
//              (see ablation.h). It also orders key/value groups for removal greedily, joint
//              ablations re-scored after each round of removals (removal_order).
//  activation  mean over calibration tokens of ‖Wo[:, columns of h] · o_h‖₂, the norm of h's
//              contribution to the residual stream, from one forward pass.
//  random      uniform in [0, 1) from a seed: the baseline every comparison shows.
//
// `normalized` divides each score by the largest score of its layer, so it lies in [0, 1]
// and a threshold such as 0.05 means "under 5% of the layer's most important head".
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lightvault/compress/calibration.h"
#include "lightvault/model/model.h"

namespace lv {

enum class ImportanceMethod { Magnitude, Ablation, Activation, Random };

const char* importance_name(ImportanceMethod method);
Result<ImportanceMethod> parse_importance(const std::string& name);

// A key/value group of one layer: its query heads, the unit that pruning removes.
struct HeadGroup {
  int layer = 0, kv_head = 0;
  std::vector<int> heads;
  double score = 0.0;
};

// Every key/value group of the model, layer by layer.
std::vector<HeadGroup> all_groups(const ModelConfig& config);

struct HeadScores {
  ImportanceMethod method = ImportanceMethod::Magnitude;
  std::vector<std::vector<double>> raw;         // [layer][head]
  std::vector<std::vector<double>> normalized;  // raw / max of the layer
  // When the scorer finds one itself (ablation), the order in which to remove groups,
  // least important first; otherwise empty and groups are ranked by summed raw scores.
  std::vector<HeadGroup> removal_order;
  double seconds = 0.0;
};

struct ImportanceOptions {
  bool ablation_on_hidden = false;  // compare final hidden states instead of logits
  uint64_t seed = 1;                // random scorer
  std::function<void(int done, int total)> progress;
};

class HeadScorer {
 public:
  virtual ~HeadScorer() = default;
  // `calibration` is unused by the magnitude and random scorers.
  virtual HeadScores score(const Model& model, const Calibration& calibration, const ImportanceOptions& options) = 0;
};

std::unique_ptr<HeadScorer> make_scorer(ImportanceMethod method);

// Scores with `method`, fills `normalized` and records the time taken.
HeadScores score_heads(ImportanceMethod method, const Model& model, const Calibration& calibration,
                       const ImportanceOptions& options);

// Fills `normalized` from `raw`.
void normalize_per_layer(HeadScores& scores);

}  // namespace lv
