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
//  gradient    the gradient of the calibration loss (next-token cross-entropy) with respect to
//              each head's gate (backward.h), one backward pass per calibration chunk c. Row t
//              of chunk c contributes d_ct = ⟨∂L_c/∂(gated output)_t, o_t⟩, the gate gradient
//              being Σ_t d_ct. Estimates (GradientEstimate), each averaged over the C chunks:
//                taylor       |Σ_c Σ_t d_ct| / C   first-order change of the loss when g goes 1 → 0
//                chunk-abs    Σ_c |Σ_t d_ct| / C   Michel et al. (2019): E|∂L/∂g|
//                chunk-fisher Σ_c (Σ_t d_ct)² / C  its square (empirical Fisher)
//                token-abs    Σ_c Σ_t |d_ct| / C   |∂L/∂g| with a gate per head and position
//                token-fisher Σ_c Σ_t d_ct² / C    its square
//              and, from a second pass whose objective is a random projection of the centered
//              logits (backward.h), one sample per chunk of the linearized ablation damage:
//                projection   Σ_c (∂L_c/∂g)² / C   ≈ Σ_rows ‖Δ centered logits‖² when g goes 1 → 0
//              The cross-entropy estimates come from one pass; `estimates` keeps every one
//              computed (the projection pass runs when chosen or with all_estimates).
//              token-abs is the default: it agrees best with exact ablation's ranking on the
//              shared trained models (bench/compress_gradient_agreement.sh, Spearman 0.81 on
//              stories260K and 0.93 on aidreams260K, against 0.80/0.92 token-fisher, 0.63/0.76
//              chunk-abs, 0.60/0.82 chunk-fisher, 0.70/0.56 projection, 0.00/0.62 taylor; 0.93
//              on a 56M-parameter synthetic model of 96 heads, where token-fisher has 0.94).
//
// `normalized` divides each score by the largest score of its layer, so it lies in [0, 1]
// and a threshold such as 0.05 means "under 5% of the layer's most important head".
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lightvault/compress/calibration.h"
#include "lightvault/model/model.h"

namespace lv {

enum class ImportanceMethod { Magnitude, Ablation, Activation, Random, Gradient };
enum class GradientEstimate { Taylor, ChunkAbs, ChunkFisher, TokenAbs, TokenFisher, Projection };

const char* importance_name(ImportanceMethod method);
Result<ImportanceMethod> parse_importance(const std::string& name);
const char* gradient_estimate_name(GradientEstimate estimate);
Result<GradientEstimate> parse_gradient_estimate(const std::string& name);

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
  // Every estimate the scorer computed besides `raw`, by name (gradient), for comparison.
  std::map<std::string, std::vector<std::vector<double>>> estimates;
  double seconds = 0.0;
};

struct ImportanceOptions {
  bool ablation_on_hidden = false;  // compare final hidden states instead of logits
  uint64_t seed = 1;                // random scorer
  GradientEstimate gradient_estimate = GradientEstimate::TokenAbs;
  bool all_estimates = false;       // gradient: compute every estimate, for comparison
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

// Spearman's rank correlation of two scorings over every head (ties share their mean rank):
// 1 when they order the heads alike, -1 when reversed.
double rank_agreement(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b);

}  // namespace lv
