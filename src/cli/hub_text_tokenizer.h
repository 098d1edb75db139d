#pragma once
// The engine's tokenizers for the hub's text watermark detection: `lightvault serve` links
// both and passes this loader in ServerOptions (the hub itself never links the engine).
#include <cctype>
#include <memory>
#include <string>

#include "lightvault/hub/service/text_tokenizer.h"
#include "lightvault/model/hf_tokenizer.h"
#include "lightvault/model/load.h"
#include "lightvault/model/tokenizer.h"

namespace lv::cli {

class EngineTextTokenizer : public hub::TextTokenizer {
 public:
  explicit EngineTextTokenizer(Tokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}
  Result<std::vector<int>> encode(std::string_view text, const std::string& source) const override {
    return tokenizer_.encode(text, false, source);
  }

 private:
  Tokenizer tokenizer_;
};

// A tokenizer.json, llama2.c tokenizer .bin or GGUF file at `path`; errors name `name`.
inline Result<std::unique_ptr<hub::TextTokenizer>> load_engine_text_tokenizer(const std::string& path,
                                                                               const std::string& name) {
  // `path` may have no extension (the hub passes an in-memory file): a tokenizer.json is known
  // by its name in the repository; GGUF and llama2.c files by their content.
  std::string suffix = name.size() >= 5 ? name.substr(name.size() - 5) : name;
  for (char& c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool json = suffix == ".json";
  auto tokenizer = json ? load_hf_tokenizer(path) : load_tokenizer(path);
  if (!tokenizer.ok()) {
    // The loader names the file it opened: a /proc/self/fd path means nothing to the caller.
    std::string message = tokenizer.error().message;
    for (size_t p = 0; (p = message.find(path, p)) != std::string::npos; p += name.size()) message.replace(p, path.size(), name);
    return Error{message};
  }
  if (tokenizer->empty()) return make_error(name, "holds no tokenizer");
  return std::unique_ptr<hub::TextTokenizer>(std::make_unique<EngineTextTokenizer>(std::move(*tokenizer)));
}

}  // namespace lv::cli
