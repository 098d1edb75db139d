#pragma once
// nlohmann's message for a JSON error without its "[json.exception.parse_error.101] "
// prefix, cut to 200 characters (it may quote a long token from the file).
#include <nlohmann/json.hpp>
#include <string>

namespace lv {

inline std::string json_reason(const nlohmann::json::exception& e) {
  std::string what = e.what();
  size_t cut = what.find("] ");
  if (cut != std::string::npos) what.erase(0, cut + 2);
  if (what.size() > 200) what = what.substr(0, 200) + "...";
  return what;
}

}  // namespace lv
