#include "lightvault/hub/service/model_card.h"

#include <cctype>

namespace lv::hub {
namespace {

using json = nlohmann::json;

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::string strip_comment(const std::string& s) {
  bool sq = false, dq = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\'' && !dq) sq = !sq;
    if (s[i] == '"' && !sq) dq = !dq;
    if (s[i] == '#' && !sq && !dq && (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1])))) return s.substr(0, i);
  }
  return s;
}

json scalar(const std::string& raw) {
  std::string v = trim(raw);
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\''))) {
    return v.substr(1, v.size() - 2);
  }
  if (v == "true" || v == "True") return true;
  if (v == "false" || v == "False") return false;
  if (v.empty() || v == "null" || v == "~") return nullptr;
  bool num = !v.empty();
  bool dot = false, digit = false;  // "." and "-." are text, not numbers (std::stod throws on them)
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '-' && i == 0 && v.size() > 1) continue;
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else {
      num = false;
    }
  }
  if (num && digit && v.size() < 18) return dot ? json(std::stod(v)) : json(std::stoll(v));
  return v;
}

json value(const std::string& raw) {
  std::string v = trim(raw);
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') {
    json arr = json::array();
    std::string inner = v.substr(1, v.size() - 2);
    // Items end at commas outside quotes: ["a, b", c] has two.
    std::string item;
    char quote = 0;
    for (char c : inner) {
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ',') {
        if (!trim(item).empty()) arr.push_back(scalar(item));
        item.clear();
        continue;
      }
      item += c;
    }
    if (!trim(item).empty()) arr.push_back(scalar(item));  // an unclosed quote runs to the end
    return arr;
  }
  return scalar(v);
}

struct Line {
  int indent;
  std::string text;
  int number;
};

// Parses lines[i..] at indentation `indent` into a mapping or a list.
Result<json> parse_block(const std::vector<Line>& lines, size_t& i, int indent, int depth) {
  if (depth > 16) return make_error("README.md", "front matter nested too deeply");
  json out;
  while (i < lines.size()) {
    const Line& l = lines[i];
    if (l.indent < indent) break;
    if (l.indent > indent) return make_error("README.md", "front matter line " + std::to_string(l.number) + ": unexpected indentation");
    if (l.text.rfind("- ", 0) == 0 || l.text == "-") {
      if (out.is_null()) out = json::array();
      if (!out.is_array()) return make_error("README.md", "front matter line " + std::to_string(l.number) + ": list item inside a mapping");
      std::string item = l.text.size() > 2 ? trim(l.text.substr(2)) : "";
      ++i;
      if (item.empty() && i < lines.size() && lines[i].indent > indent) {
        LV_ASSIGN_OR_RETURN(json child, parse_block(lines, i, lines[i].indent, depth + 1));
        out.push_back(child);
      } else if (item.find(": ") != std::string::npos && item.front() != '"' && item.front() != '\'') {
        json obj = json::object();
        auto colon = item.find(": ");
        obj[trim(item.substr(0, colon))] = value(item.substr(colon + 2));
        // "- name: x" then "  kind: y": the item's mapping goes on, indented below its dash.
        if (i < lines.size() && lines[i].indent > indent) {
          int continued_at = lines[i].number;
          LV_ASSIGN_OR_RETURN(json more, parse_block(lines, i, lines[i].indent, depth + 1));
          if (!more.is_object()) {
            return make_error("README.md", "front matter line " + std::to_string(continued_at) + ": list inside a list item's mapping");
          }
          for (auto& [k, v] : more.items()) obj[k] = v;
        }
        out.push_back(obj);
      } else {
        out.push_back(value(item));
      }
      continue;
    }
    if (out.is_array()) break;  // "key:\n- a\n- b\nnext: ..." : the list ended
    auto colon = l.text.find(':');
    if (colon == std::string::npos || (colon + 1 < l.text.size() && l.text[colon + 1] != ' ')) {
      return make_error("README.md", "front matter line " + std::to_string(l.number) + ": expected 'key: value'");
    }
    if (out.is_null()) out = json::object();
    if (!out.is_object()) return make_error("README.md", "front matter line " + std::to_string(l.number) + ": mapping inside a list");
    std::string key = trim(l.text.substr(0, colon));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) key = key.substr(1, key.size() - 2);
    std::string rest = trim(l.text.substr(colon + 1));
    ++i;
    if (rest == "|" || rest == ">" || rest.rfind("&", 0) == 0 || rest.rfind("*", 0) == 0) {
      return make_error("README.md", "front matter line " + std::to_string(l.number) + ": unsupported YAML (block scalars, anchors)");
    }
    if (rest.empty()) {
      if (i < lines.size() && lines[i].indent > indent) {
        LV_ASSIGN_OR_RETURN(out[key], parse_block(lines, i, lines[i].indent, depth + 1));
      } else if (i < lines.size() && lines[i].indent == indent && lines[i].text.rfind("- ", 0) == 0) {
        LV_ASSIGN_OR_RETURN(out[key], parse_block(lines, i, indent, depth + 1));  // "key:\n- a\n- b"
      } else {
        out[key] = nullptr;
      }
    } else {
      out[key] = value(rest);
    }
  }
  if (out.is_null()) out = json::object();
  return out;
}

}  // namespace

Result<ModelCard> parse_model_card(std::string_view text) {
  ModelCard card;
  if (text.substr(0, 3) != "---") {
    card.body = std::string(text);
    return card;
  }
  size_t first_nl = text.find('\n');
  if (first_nl == std::string_view::npos || trim(text.substr(0, first_nl)) != "---") {
    card.body = std::string(text);
    return card;
  }
  std::vector<Line> lines;
  size_t pos = first_nl + 1;
  int number = 1;
  bool closed = false;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    ++number;
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    std::string line(raw);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line) == "---" || trim(line) == "...") {
      closed = true;
      break;
    }
    if (line.find('\t') != std::string::npos && trim(line).size()) {
      size_t ws = line.find_first_not_of(' ');
      if (ws != std::string::npos && line[ws] == '\t') return make_error("README.md", "front matter line " + std::to_string(number) + ": tab indentation");
    }
    std::string content = strip_comment(line);
    if (trim(content).empty()) continue;
    int indent = static_cast<int>(content.find_first_not_of(' '));
    lines.push_back({indent, trim(content), number});
  }
  if (!closed) return make_error("README.md", "front matter starts with '---' but has no closing '---'");
  card.body = pos <= text.size() ? std::string(text.substr(pos)) : "";
  size_t i = 0;
  if (!lines.empty()) {
    LV_ASSIGN_OR_RETURN(card.metadata, parse_block(lines, i, lines[0].indent, 0));
    if (!card.metadata.is_object()) return make_error("README.md", "front matter must be a mapping");
  }
  return card;
}

}  // namespace lv::hub
