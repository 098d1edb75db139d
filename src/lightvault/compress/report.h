#pragma once
// The compression report in three forms: JSON (OUT.report.json; `before`/`after` objects with
// keys such as `perplexity`, `top1_accuracy`, `parameters`), a before/after table for stdout,
// and a self-contained HTML page (OUT.report.html) with charts drawn as inline SVG: a layers ×
// heads importance heatmap per scorer, and top-1 retention against the fraction of heads
// pruned, one line per scorer.
#include <string>

#include "lightvault/compress/compress.h"

namespace lv {

std::string report_json(const CompressReport& report);
std::string report_table(const CompressReport& report);
std::string report_html(const CompressReport& report);

}  // namespace lv
