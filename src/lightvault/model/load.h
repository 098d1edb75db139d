#pragma once
// Reads a model from any supported format, chosen by content: GGUF (magic "GGUF"),
// Hugging Face safetensors (a directory with config.json, or a .safetensors file beside
// one), otherwise a llama2.c checkpoint. Weights stay memory-mapped where the format allows.
#include <string>

#include "lightvault/model/model.h"
#include "lightvault/util/status.h"

namespace lv {

struct LoadOptions {
  // A tokenizer file for formats that keep it apart (llama2.c tokenizer .bin, tokenizer.json
  // or a GGUF file whose tokenizer to take). Overrides an embedded tokenizer.
  std::string tokenizer_path;
};

Result<Model> load_model(const std::string& path, const LoadOptions& options = {});

// Reads just a tokenizer from a llama2.c tokenizer .bin, a tokenizer.json or a GGUF file.
Result<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace lv
