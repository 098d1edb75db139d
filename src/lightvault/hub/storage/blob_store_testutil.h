#pragma once
// Test helpers for the storage layer tests (temp folders, file snapshots). Tests only.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace lv::hub::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/lv-store-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path_ = ::mkdtemp(buf.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_all_file(const std::string& path, const std::string& data, mode_t mode = 0600) {
  { std::ofstream out(path, std::ios::binary | std::ios::trunc); out << data; }
  ::chmod(path.c_str(), mode);
}

// path (relative) -> contents + mode, for "nothing changed" checks.
inline std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(root)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    struct stat st;
    ::lstat(e.path().c_str(), &st);
    std::string rel = e.path().string().substr(root.size());
    std::string v = std::to_string(st.st_mode) + ":";
    if (e.is_regular_file()) v += read_all(e.path().string());
    out[rel] = v;
  }
  return out;
}

inline std::vector<std::string> files_under(const std::string& root) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(root)) return out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.push_back(e.path().string());
  return out;
}

}  // namespace lv::hub::testing
