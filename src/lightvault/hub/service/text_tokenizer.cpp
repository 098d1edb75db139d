#include "lightvault/hub/service/text_tokenizer.h"

#include <algorithm>
#include <cctype>

namespace lv::hub {

namespace {

std::string lower_base_name(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return std::tolower(c); });
  return base;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<FileEntry> tokenizer_file(const std::vector<FileEntry>& files) {
  // Lower rank wins; ties go to the smaller file, then the earlier path.
  constexpr int kNone = 4;
  auto rank = [](const FileEntry& f) {
    const std::string base = lower_base_name(f.path);
    if (base == "tokenizer.json") return 0;
    if (base == "tokenizer.bin") return 1;
    if (base.rfind("tok", 0) == 0 && ends_with(base, ".bin")) return 2;
    if (ends_with(base, ".gguf")) return 3;
    return kNone;
  };
  const FileEntry* best = nullptr;
  int best_rank = kNone;
  for (const FileEntry& f : files) {
    const int r = rank(f);
    if (r < best_rank || (r == best_rank && r != kNone && (f.size < best->size || (f.size == best->size && f.path < best->path)))) {
      best = &f;
      best_rank = r;
    }
  }
  if (!best) return std::nullopt;
  return *best;
}

}  // namespace lv::hub
