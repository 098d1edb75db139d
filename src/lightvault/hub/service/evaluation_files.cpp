#include "lightvault/hub/service/evaluation_files.h"

#include <filesystem>

namespace lv::hub {

using json = nlohmann::json;

namespace {

constexpr int kMaxDepth = 64;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The numeric and text fields of `from` named in `keys`, copied as they are.
json pick(const json& from, std::initializer_list<const char*> keys) {
  json out = json::object();
  if (!from.is_object()) return out;
  for (const char* k : keys) {
    auto it = from.find(k);
    if (it != from.end() && (it->is_number() || it->is_string())) out[k] = *it;
  }
  return out;
}

}  // namespace

bool is_evaluation_file(std::string_view path) { return ends_with(path, ".report.json") || ends_with(path, "eval.json"); }

Result<json> evaluation_figures(const std::string& path, std::string_view text) {
  bool too_deep = false;
  json doc = json::parse(
      text,
      [&](int depth, json::parse_event_t, json&) {
        if (depth > kMaxDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return make_error(path, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
  if (doc.is_discarded() || !doc.is_object()) return make_error(path, "not a JSON object");
  static const std::initializer_list<const char*> kFigures = {"perplexity",     "top1_accuracy", "top1_agreement",
                                                              "kl_divergence",  "parameters",    "file_size",
                                                              "mean_kl_divergence", "scored_tokens"};
  if (doc.contains("before") || doc.contains("after")) {
    json out = pick(doc, {"importance", "quantization", "removed_heads", "total_heads", "parameter_reduction"});
    // The report names its files as paths on the machine that compressed the model; the
    // hub's readers need the file names, not that machine's folders.
    auto file_name = [](const json& p) { return std::filesystem::path(p.get<std::string>()).filename().string(); };
    if (auto it = doc.find("input"); it != doc.end() && it->is_string()) out["input"] = file_name(*it);
    if (auto it = doc.find("evaluation"); it != doc.end() && it->is_string()) out["evaluation_text"] = file_name(*it);
    out["before"] = pick(doc.value("before", json::object()), kFigures);
    out["after"] = pick(doc.value("after", json::object()), kFigures);
    if (out["before"].empty() && out["after"].empty()) return make_error(path, "compression report without figures");
    out["source"] = path;
    out["kind"] = "compression";
    return out;
  }
  json out = pick(doc, {"perplexity", "top1_accuracy", "top1_agreement", "mean_kl_divergence", "scored_tokens", "ctx"});
  if (!out.contains("perplexity") && !out.contains("top1_accuracy")) {
    return make_error(path, "no perplexity or top1_accuracy: not an evaluation result");
  }
  out["source"] = path;
  out["kind"] = "eval";
  return out;
}

}  // namespace lv::hub
