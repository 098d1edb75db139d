#pragma once
// The compression pipeline: score heads on calibration text, choose a prune plan, remove the
// heads physically, quantize to INT8, write GGUF, then evaluate the written file against the
// original on held-out text so that `lightvault eval` on the output reproduces the figures.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lightvault/compress/head_importance.h"
#include "lightvault/compress/prune_plan.h"
#include "lightvault/compress/quantize_model.h"
#include "lightvault/eval/perplexity.h"

namespace lv {

enum class PruneMode { None, Threshold, Ratio, TargetRetention, Plan };

struct CompressOptions {
  std::string input, tokenizer, output;
  std::string calib_path, eval_path;  // eval_path may be empty: no quality figures
  int ctx = 128;
  int calib_chunks = 16;              // calibration chunks of ctx tokens
  int eval_chunks = 0;                // 0: the whole eval text
  int curve_chunks = 32;              // eval chunks per point of the retention curves
  ImportanceMethod importance = ImportanceMethod::Ablation;
  GradientEstimate gradient_estimate = GradientEstimate::TokenProjection;
  // --importance gradient: rounds of removal (ImportanceOptions); 0 chooses: 1, or 8 for a
  // --ratio plan that removes more than a quarter of the groups (the report holds the choice).
  int gradient_rounds = 0;
  int projection_probes = 1;          // random probes per chunk for the projection estimate
  PruneMode mode = PruneMode::None;
  double threshold = 0.05, ratio = 0.0, target_retention = 0.99;
  std::string plan_path;
  bool allow_layer_drop = false;
  bool ablation_on_hidden = false;
  QuantSpec quant{QuantGranularity::None};
  // Retention against fraction pruned for every scorer, and each scorer's rank agreement with
  // ablation: costs scoring by every scorer, exact ablation included.
  bool compare_scorers = false;
  // With --ratio: exact ablation re-orders the groups holding about this many query heads
  // around the pruning boundary of the scorer's ranking (0: off).
  int refine_heads = 0;
  std::vector<double> curve_fractions = {0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5};
  uint64_t seed = 1;
};

struct ModelFigures {
  int64_t parameters = 0, attention_parameters = 0;
  uint64_t file_size = 0;
  std::optional<EvalResult> eval;  // against the original when this is the compressed model
  // Measured in a fresh process by the caller (see `lightvault bench`), when it does.
  std::optional<double> prefill_tokens_per_second, decode_tokens_per_second;
  std::optional<long long> peak_rss_bytes;
};

struct RetentionPoint {
  double fraction_pruned = 0.0;  // of all query heads
  double top1 = 0.0, retention = 0.0;
};

struct CompressReport {
  CompressOptions options;
  ModelFigures before, after;
  PrunePlan plan;
  std::vector<HeadScores> scores;  // the chosen scorer first, then the others when curves
  std::map<std::string, std::vector<RetentionPoint>> curves;  // by scorer name
  // Spearman rank correlation with ablation's per-head scores, by scorer name (and
  // "gradient/ESTIMATE" for each gradient estimate), when scorers are compared.
  std::map<std::string, double> rank_agreement;
  std::vector<std::pair<std::string, double>> step_seconds;  // each step of the run, in order
  // Matmul weights of the output left in float, with why: "blk.0.ffn_down.weight (172 columns,
  // not a multiple of 32, as GGUF Q8_0 needs)" or "... (--keep-float)".
  std::vector<std::string> float_weights;
  double seconds = 0.0;
  // The peak resident memory of the process when the run ended (getrusage), mapped weights
  // included: what a machine needs to run this compression.
  long long peak_rss_bytes = 0;
};

// Progress of a long stage: `stage` names it ("ablation", "eval", ...).
using CompressProgress = std::function<void(const std::string& stage, int done, int total)>;

Result<CompressReport> compress(const CompressOptions& options, const CompressProgress& progress);

// Refuses text pairs that overlap: the same file, or any line of 40 characters or more that
// appears in both.
Status check_disjoint(const std::string& calib_path, const std::string& calib, const std::string& eval_path,
                      const std::string& eval);

}  // namespace lv
