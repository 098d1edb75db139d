// lightvault convert IN -o OUT.gguf: any supported model file to GGUF that llama.cpp loads.
#include <cstdio>
#include <map>

#include "cli/model_args.h"
#include "lightvault/model/gguf.h"

namespace lv::cli {
namespace {

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    std::string out;
    GgufWeights type = GgufWeights::Keep;
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_option("-o,--output", args->out, "output GGUF file")->required();
  const std::map<std::string, GgufWeights> types = {
      {"keep", GgufWeights::Keep}, {"f32", GgufWeights::F32}, {"f16", GgufWeights::F16}, {"q8_0", GgufWeights::Q8_0}};
  sub.add_option("--type", args->type,
                 "weight type: keep (as stored), f32, f16, or q8_0 (rows not a multiple of 32 stay f32)")
      ->transform(CLI::CheckedTransformer(types, CLI::ignore_case));
  return [args] {
    auto model = args->model.load();
    if (!model.ok()) return fail(model.error());
    if (model->tokenizer.empty()) {
      return fail(make_error(args->model.path, "has no tokenizer, which GGUF needs; pass one with --tokenizer"));
    }
    GgufWriteOptions options;
    options.weights = args->type;
    Status saved = save_gguf(*model, args->out, options);
    if (!saved.ok()) return fail(saved.error());
    std::printf("wrote %s\n", args->out.c_str());
    return 0;
  };
}

CommandRegistrar registrar("convert", "convert a model to GGUF", setup);

}  // namespace
}  // namespace lv::cli
