#pragma once
// The evaluation figures a repository's files hold, for its compliance report: compression
// reports (`*.report.json`, written by `lightvault compress`: input, plan, before/after
// perplexity and top-1 accuracy, agreement with the original, size) and evaluation results
// (`*eval.json`, the output of `lightvault eval --json`). Files are untrusted input: anything
// that is not such a document yields an error naming the file, never a crash or an exception.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lightvault/util/status.h"

namespace lv::hub {

// Files larger than this are not read for the report (reports are a few hundred KiB).
inline constexpr uint64_t kMaxEvaluationFileBytes = 8u << 20;

// Whether `path` names a file evaluation_figures reads.
bool is_evaluation_file(std::string_view path);

// The figures of one file:
//   compression report: {"source", "kind": "compression", "input", "importance", "quantization",
//     "removed_heads", "total_heads", "parameter_reduction", "evaluation_text",
//     "before": {...}, "after": {...}} with figures perplexity, top1_accuracy, top1_agreement,
//     kl_divergence, parameters, file_size where the report has them;
//   eval result: {"source", "kind": "eval", "perplexity", "top1_accuracy", "top1_agreement",
//     "mean_kl_divergence", "scored_tokens", "ctx"} where present.
// An error when the text is not JSON, nests deeper than 64 levels, or has none of the figures.
Result<nlohmann::json> evaluation_figures(const std::string& path, std::string_view text);

}  // namespace lv::hub
