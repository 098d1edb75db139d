#include "lightvault/hub/service/card_check.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace lv::hub {
namespace {

using json = nlohmann::json;

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// Says something: not null and not an empty string, list or mapping.
bool filled(const json& j, const char* key) {
  if (!j.is_object()) return false;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (it->is_string()) return !blank(it->get_ref<const std::string&>());
  if (it->is_array() || it->is_object()) return !it->empty();
  return true;
}

// A yes/no answer: a boolean, or the words YAML 1.1 readers take for one.
std::optional<bool> yes_no(const json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>();
  if (!it->is_string()) return std::nullopt;
  std::string s = it->get<std::string>();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "yes" || s == "true" || s == "y") return true;
  if (s == "no" || s == "false" || s == "n") return false;
  return std::nullopt;
}

const json& child(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

}  // namespace

std::vector<std::string> missing_card_fields(const json& m) {
  std::vector<std::string> missing;
  for (const char* f : {"license", "datasets", "intended_use", "limitations"}) {
    if (!filled(m, f)) missing.push_back(f);
  }
  const json& td = child(m, "training_data");
  const json& sources = child(td, "sources");
  if (!sources.is_array() || sources.empty()) {
    missing.push_back("training_data.sources");
  } else {
    for (size_t i = 0; i < sources.size(); ++i) {
      std::string at = "training_data.sources[" + std::to_string(i) + "].";
      // A bare name ("- wikipedia") names the source and says nothing else about it.
      json source = sources[i].is_string() ? json{{"name", sources[i]}} : sources[i];
      for (const char* f : {"name", "kind"}) {
        if (!filled(source, f)) missing.push_back(at + f);
      }
      if (!filled(source, "link") && !filled(source, "description")) missing.push_back(at + "link|description");
      for (const char* f : {"license", "time_span"}) {
        if (!filled(source, f)) missing.push_back(at + f);
      }
    }
  }
  if (!filled(td, "cleaning_methods")) missing.push_back("training_data.cleaning_methods");
  const json& personal = child(td, "personal_data");
  auto present = yes_no(personal, "present");
  if (!present) missing.push_back("training_data.personal_data.present");
  if (present.value_or(false) && !filled(personal, "handling")) missing.push_back("training_data.personal_data.handling");
  if (!yes_no(td, "copyright_opt_outs_respected")) missing.push_back("training_data.copyright_opt_outs_respected");
  return missing;
}

}  // namespace lv::hub
