#pragma once
// The compliance report (HubService::compliance_report's JSON) as HTML that a compliance
// officer can print or pass on: one column, each part a section that starts on a new page when
// printed, missing card fields marked, every figure as the report computed it. Pure functions:
// every value escaped (html.h); no script.
#include <string>

#include <nlohmann/json.hpp>

namespace lv::hub::web {

// The report's sections, for the hub's page (which wraps them in its frame and links
// kComplianceCssPath).
std::string compliance_sections(const nlohmann::json& report);
// A whole document with its style sheet inside, for files (`lightvault compliance report
// -o FILE.html`, the PDF printed from it) and the API's format=html.
std::string compliance_document(const nlohmann::json& report);

// The sections' style sheet: the hub serves it at kComplianceCssPath; documents embed it.
inline constexpr const char* kComplianceCssPath = "/static/compliance.css";
const std::string& compliance_css();

}  // namespace lv::hub::web
