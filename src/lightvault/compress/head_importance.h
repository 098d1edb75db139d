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
//              Exact ablation measures an MSE of outputs, which is 0 and stationary at g = 1:
//              its change when the gate closes is second order, Gauss-Newton: Σ_rows ‖P ∂logits/
//              ∂g‖² (P centers each row). A pass whose objective is ⟨P r, logits⟩ with a random
//              probe r ~ N(0, I) (backward.h) samples it without a backward pass per logit:
//              E_r[(∂L/∂g)²] is that sum (Hutchinson). With d_ct now the rows' terms of such a
//              pass, `projection_probes` probes per chunk averaged:
//                projection        Σ_c (Σ_t d_ct)² / C   the damage of one gate for all positions
//                token-projection  Σ_c Σ_t d_ct² / C     the same with a gate per head and position
//              token-projection is the default: it agrees best with exact ablation's ranking
//              (bench/compress_gradient_agreement.md: Spearman 0.94 on stories260K and 0.99 on
//              aidreams260K with one probe per chunk, against 0.81/0.93 for token-abs, the best
//              cross-entropy estimate). One probe suffices because each sample sums the squares
//              of a chunk's positions; projection, one square per sample, needs 8-16 probes per
//              chunk to agree as well (0.93/0.95 with 8; 0.70/0.56 with one).
//              The cross-entropy estimates come from one pass, the projection ones from another;
//              `estimates` keeps every one computed (both passes run with all_estimates).
//              Key/value groups, the unit pruning removes, are ordered (removal_order) by the
//              projection estimate of closing all their heads together, Σ_t (Σ_{h∈g} d_th)²,
//              which counts how the heads' effects add or cancel. With gradient_rounds > 1 they
//              are removed in rounds, each re-estimated with the removed groups' gates closed and
//              measured, as ablation does, from the unpruned model's logits: the Gauss-Newton term
//              plus the first-order term that appears once the logits have moved
//              (projection_gate_gradients' reference in backward.h).
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
enum class GradientEstimate { Taylor, ChunkAbs, ChunkFisher, TokenAbs, TokenFisher, Projection, TokenProjection };

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
  // When the scorer finds one itself (ablation, gradient), the order in which to remove groups,
  // least important first; otherwise empty and groups are ranked by summed raw scores.
  std::vector<HeadGroup> removal_order;
  // Every estimate the scorer computed besides `raw`, by name (gradient), for comparison.
  std::map<std::string, std::vector<std::vector<double>>> estimates;
  double seconds = 0.0;
};

struct ImportanceOptions {
  bool ablation_on_hidden = false;  // compare final hidden states instead of logits
  uint64_t seed = 1;                // random scorer
  GradientEstimate gradient_estimate = GradientEstimate::TokenProjection;
  bool all_estimates = false;       // gradient: compute every estimate, for comparison
  int projection_probes = 1;        // gradient: random probes per chunk for the projection estimates
  // gradient: rounds in which the removal order is found, each taking 1/rounds of the groups
  // and re-scoring the rest with the taken groups' gates closed (1: rank by the first scores).
  int gradient_rounds = 1;
  // gradient rounds stop once this fraction of the groups is ordered (a ratio plan needs no
  // more); the rest keep the last round's order.
  double order_up_to = 1.0;
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
