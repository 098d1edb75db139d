#include "lightvault/model/load.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "lightvault/model/gguf.h"
#include "lightvault/model/hf_checkpoint.h"
#include "lightvault/model/hf_tokenizer.h"
#include "lightvault/model/llama2c.h"
#include "lightvault/util/text.h"

namespace lv {
namespace {

namespace fs = std::filesystem;

// llama2.c checkpoints have no magic, so a file is GGUF when it says so by its magic or by its
// name: a ".gguf" file with a damaged magic is then reported as a bad GGUF file, not as a
// llama2.c header that makes no sense.
bool is_gguf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return (in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0) || ends_with(path, ".gguf");
}

}  // namespace

Result<Tokenizer> load_tokenizer(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(path, "no such file");
  if (is_gguf(path)) return load_gguf_tokenizer(path);
  if (ends_with(path, ".json")) return load_hf_tokenizer(path);
  return load_llama2c_tokenizer(path);
}

Result<Model> load_model(const std::string& path, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return make_error(path, "no such file");
  Result<Model> loaded = Error{};
  if (fs::is_directory(path, ec) || is_hf_checkpoint_path(path)) loaded = load_hf_checkpoint(path);
  else if (is_gguf(path)) loaded = load_gguf(path);
  else loaded = load_llama2c(path);
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
  return model;
}

}  // namespace lv
