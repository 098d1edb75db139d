#include "lightvault/model/load.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "lightvault/model/llama2c.h"

namespace lv {
namespace {

bool has_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace

Result<Tokenizer> load_tokenizer(const std::string& path) {
  if (!std::filesystem::exists(path)) return make_error(path, "no such file");
  return load_llama2c_tokenizer(path);
}

Result<Model> load_model(const std::string& path, const LoadOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(path, "no such file");
  Result<Model> loaded = load_llama2c(path);
  if (!loaded.ok()) return loaded.error();
  Model model = std::move(loaded).value();
  if (!options.tokenizer_path.empty()) {
    LV_ASSIGN_OR_RETURN(model.tokenizer, load_tokenizer(options.tokenizer_path));
    if (model.tokenizer.vocab_size() != model.config.vocab_size) {
      return make_error(options.tokenizer_path, "tokenizer has " + std::to_string(model.tokenizer.vocab_size()) +
                                                    " tokens but the model " + path + " has vocab_size " +
                                                    std::to_string(model.config.vocab_size));
    }
  }
  (void)has_gguf_magic;
  return model;
}

}  // namespace lv
