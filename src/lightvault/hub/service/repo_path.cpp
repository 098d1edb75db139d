#include "lightvault/hub/service/repo_path.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace lv::hub {
namespace {

constexpr size_t kMaxPath = 1024;
constexpr size_t kMaxComponent = 255;

bool hfs_ignorable(utf8proc_int32_t cp) {
  return (cp >= 0x200C && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x206A && cp <= 0x206F) ||
         cp == 0xFEFF;
}

// The component as a case-insensitive file system with HFS+'s ignorable code points sees it:
// those removed, ASCII lowercased (".GIT" and ".Git" are ".git" on macOS and Windows).
std::string folded(std::string_view component) {
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(component.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(component.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return std::string(component);  // invalid UTF-8 is refused before this
    if (!hfs_ignorable(cp)) {
      for (utf8proc_ssize_t i = 0; i < n; ++i) {
        char c = static_cast<char>(p[i]);
        out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      }
    }
    p += n;
    left -= n;
  }
  return out;
}

// ".git", ".git.", ".git  ", ".git::$INDEX_ALLOCATION", "git~1" after folding.
bool names_dot_git(std::string_view component) {
  std::string f = folded(component);
  for (std::string_view stem : {std::string_view(".git"), std::string_view("git~1")}) {
    if (f.compare(0, stem.size(), stem) != 0) continue;
    std::string_view rest = std::string_view(f).substr(stem.size());
    if (!rest.empty() && rest[0] == ':') return true;
    while (!rest.empty() && (rest.back() == '.' || rest.back() == ' ')) rest.remove_suffix(1);
    if (rest.empty()) return true;
  }
  return false;
}

}  // namespace

Result<std::string> normalize_repo_path(std::string_view path) {
  const std::string ctx = "file path '" + std::string(path.substr(0, 200)) + (path.size() > 200 ? "...'" : "'");
  if (path.empty()) return make_error(ctx, "empty");
  if (path.size() > kMaxPath) return make_error(ctx, "longer than 1024 bytes");
  if (path[0] == '/') return make_error(ctx, "absolute (starts with '/')");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return make_error(ctx, "contains a control character");
    if (c == '\\') return make_error(ctx, "contains a backslash");
  }
  utf8proc_uint8_t* nfc = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(path.data()),
                                    static_cast<utf8proc_ssize_t>(path.size()), &nfc,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return make_error(ctx, "not valid UTF-8");
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(nfc, &std::free);
  std::string out(reinterpret_cast<const char*>(nfc), static_cast<size_t>(n));
  if (out.size() > kMaxPath) return make_error(ctx, "longer than 1024 bytes");
  for (size_t start = 0; start <= out.size();) {
    size_t end = out.find('/', start);
    if (end == std::string::npos) end = out.size();
    std::string_view seg = std::string_view(out).substr(start, end - start);
    if (seg.empty()) return make_error(ctx, "has an empty component");
    if (seg == "." || seg == "..") return make_error(ctx, "has a '" + std::string(seg) + "' component");
    if (seg.size() > kMaxComponent) return make_error(ctx, "has a component longer than 255 bytes");
    if (names_dot_git(seg)) return make_error(ctx, "component '" + std::string(seg) + "' is reserved (.git)");
    start = end + 1;
  }
  return out;
}

}  // namespace lv::hub
