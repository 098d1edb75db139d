// libFuzzer target: the files a compliance report reads from a repository are untrusted input:
// evaluation files (*.report.json, *eval.json) and the model card's front matter. Reading them,
// checking the card and rendering the report's HTML must never crash, and no markup may come
// out of their text.
//
//   make fuzz   (builds every fuzz/*_fuzz.cpp against the library)
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lightvault/hub/service/card_check.h"
#include "lightvault/hub/service/evaluation_files.h"
#include "lightvault/hub/service/model_card.h"
#include "lightvault/hub/web/compliance_html.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json report = nlohmann::json::object();
  if (auto figures = lv::hub::evaluation_figures("fuzz.report.json", text); figures.ok()) {
    report["evaluation"] = {{"results", {*figures}}};
  }
  if (auto card = lv::hub::parse_model_card(text); card.ok()) {
    report["training_data"] = card->metadata.value("training_data", nlohmann::json::object());
    if (report["training_data"].is_object()) report["training_data"]["missing"] = lv::hub::missing_card_fields(card->metadata);
    report["intended_use"] = card->metadata.value("intended_use", nlohmann::json());
  }
  std::string html = lv::hub::web::compliance_sections(report);
  if (html.find("<script") != std::string::npos || html.find("<iframe") != std::string::npos) std::abort();
  return 0;
}
