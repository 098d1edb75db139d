#pragma once
// A scan's report in three forms: a text table for the terminal, JSON for machines
// ({"n", "flagged": [{"index", "score", "reasons"}], "clusters", "suspicious_labels", ...}, row
// indices 0-based over the data rows) and a self-contained HTML page (inline SVG, no scripts
// or requests) with the 2-D spectral embedding coloured by cluster and by label, flagged rows
// ringed, and the eigenvalue spectrum.
#include <string>

#include <nlohmann/json.hpp>

#include "lightvault/scan/scanner.h"

namespace lv::scan {

std::string report_table(const ScanReport& report);
nlohmann::json report_json(const ScanReport& report);
std::string report_html(const ScanReport& report, const std::string& source);

// The decision rule in plain words, for the report and --help.
extern const char* const kDecisionRule;

}  // namespace lv::scan
