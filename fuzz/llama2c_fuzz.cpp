// libFuzzer target: llama2.c checkpoints and tokenizer .bin files, read from a file since
// that is how the loader maps them; every input must load or fail with an error, never crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "lightvault/model/llama2c.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/lv-llama2c-fuzz-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto model = lv::load_llama2c(path);
  if (model.ok()) {
    std::vector<float> row(static_cast<size_t>(model->config.dim));
    lv::dequantize_row(model->classifier, model->config.vocab_size - 1, row.data());
  }
  auto tokenizer = lv::load_llama2c_tokenizer(path);
  if (tokenizer.ok()) {
    auto tokens = tokenizer->encode("Once upon a time", true);
    if (tokens.ok()) {
      for (size_t i = 1; i < tokens->size(); ++i) tokenizer->decode((*tokens)[i - 1], (*tokens)[i]);
    }
  }
  return 0;
}
