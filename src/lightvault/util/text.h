#pragma once
// Small text helpers shared by parsers and commands.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "lightvault/util/status.h"

namespace lv {

// `s` as it appears in an error message: quoted, cut short after `max` bytes, control bytes
// escaped, so the error stays one readable line whatever the file holds.
inline std::string quote_for_message(std::string_view s, size_t max = 120) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out + "'";
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The whole file as bytes; the error names the path.
inline Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(path, "read failed");
  return text.str();
}

}  // namespace lv
