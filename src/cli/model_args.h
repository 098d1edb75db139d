#pragma once
// Options shared by the commands that take a model: the model path and --tokenizer.
#include <string>

#include "cli/command.h"
#include "lightvault/model/load.h"

namespace lv::cli {

struct ModelArgs {
  std::string path;
  std::string tokenizer;

  void add_to(CLI::App& sub) {
    sub.add_option("model", path, "model file (GGUF, llama2.c .bin, or a safetensors checkpoint)")->required();
    sub.add_option("--tokenizer", tokenizer, "tokenizer file, for formats that keep it apart (llama2.c)");
  }
  Result<Model> load() const { return load_model(path, LoadOptions{tokenizer}); }
};

}  // namespace lv::cli
