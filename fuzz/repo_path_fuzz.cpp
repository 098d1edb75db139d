// libFuzzer target: repository file paths are untrusted input on both sides, a client's commit
// on the server and a server's listing in `lightvault pull`. normalize_repo_path must never
// crash, its NFC output must be a fixpoint, and nothing it accepts may name a .git component.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lightvault/hub/service/repo_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path(reinterpret_cast<const char*>(data), size);
  auto nfc = lv::hub::normalize_repo_path(path);
  if (!nfc.ok()) return 0;
  auto again = lv::hub::normalize_repo_path(*nfc);
  if (!again.ok() || *again != *nfc) std::abort();  // NFC of NFC is itself, and still safe
  for (size_t start = 0; start <= nfc->size();) {
    size_t end = nfc->find('/', start);
    if (end == std::string::npos) end = nfc->size();
    std::string seg = nfc->substr(start, end - start);
    for (auto& c : seg) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seg.empty() || seg == "." || seg == ".." || seg == ".git") std::abort();
    start = end + 1;
  }
  return 0;
}
