#pragma once
// Options shared by the commands that take a model: the model path, --tokenizer and --threads.
#include <string>

#include "cli/command.h"
#include "lightvault/model/load.h"
#include "lightvault/tensor/thread_pool.h"

namespace lv::cli {

struct ModelArgs {
  std::string path;
  std::string tokenizer;
  int threads = 0;  // 0: parallel_threads()'s default (OMP_NUM_THREADS, else every CPU)

  void add_to(CLI::App& sub) {
    sub.add_option("model", path, "model file (GGUF, llama2.c .bin, or a safetensors checkpoint)")->required();
    sub.add_option("--tokenizer", tokenizer, "tokenizer file, for formats that keep it apart (llama2.c)");
    sub.add_option("-t,--threads", threads, "threads for the kernels (default: OMP_NUM_THREADS, else every CPU)")
        ->check(CLI::PositiveNumber);
  }
  // Loads the model, and sets the kernels' thread count when --threads was given.
  Result<Model> load() const {
    if (threads > 0) set_parallel_threads(threads);
    return load_model(path, LoadOptions{tokenizer});
  }
};

}  // namespace lv::cli
