// lightvault synth: write a model with random weights, for tests and speed benchmarks.
#include <cstdio>
#include <map>
#include <optional>

#include "cli/command.h"
#include "cli/progress.h"
#include "lightvault/model/gguf.h"
#include "lightvault/model/llama2c.h"
#include "lightvault/model/synth.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

CommandRun setup(CLI::App& sub) {
  struct Args {
    SynthSpec spec;
    std::string out, tokenizer_out;
    bool separate_classifier = false;
    GgufWeights type = GgufWeights::F32;
  };
  auto args = std::make_shared<Args>();
  SynthSpec& s = args->spec;
  sub.add_option("--dim", s.dim, "embedding width")->capture_default_str();
  sub.add_option("--hidden", s.hidden_dim, "feed-forward width")->capture_default_str();
  sub.add_option("--layers", s.n_layers, "transformer blocks")->capture_default_str();
  sub.add_option("--heads", s.n_heads, "attention heads")->capture_default_str();
  sub.add_option("--kv-heads", s.n_kv_heads, "key/value heads")->capture_default_str();
  sub.add_option("--vocab", s.vocab_size, "vocabulary size")->capture_default_str();
  sub.add_option("--ctx", s.seq_len, "context length")->capture_default_str();
  sub.add_option("--seed", s.seed, "random seed")->capture_default_str();
  sub.add_flag("--separate-classifier", args->separate_classifier, "store the classifier apart from the embedding");
  sub.add_option("-o,--output", args->out, "output file: .gguf for GGUF, otherwise a llama2.c checkpoint")->required();
  sub.add_option("--tokenizer-out", args->tokenizer_out, "llama2.c tokenizer .bin to write beside a llama2.c checkpoint");
  const std::map<std::string, GgufWeights> types = {
      {"f32", GgufWeights::F32}, {"f16", GgufWeights::F16}, {"q8_0", GgufWeights::Q8_0}};
  sub.add_option("--type", args->type, "GGUF weight type: f32, f16 or q8_0 (rows not a multiple of 32 stay f32)")
      ->transform(CLI::CheckedTransformer(types, CLI::ignore_case))
      ->default_str("f32");
  return [args] {
    args->spec.shared_classifier = !args->separate_classifier;
    auto shape = synth_config(args->spec);
    if (!shape.ok()) return fail(shape.error());
    if (ends_with(args->out, ".gguf")) {
      // Streamed tensor by tensor: a 7B-parameter shape never has to fit in memory.
      std::optional<ProgressBar> bar;
      Status saved = write_synthetic_gguf(args->spec, args->out, args->type, [&bar](int64_t done, int64_t total) {
        if (!bar) bar.emplace("synth", total);
        bar->update(done);
      });
      bar.reset();
      if (!saved.ok()) return fail(saved.error());
    } else {
      if (args->type != GgufWeights::F32) {
        return fail(make_error(args->out, "--type applies to .gguf output; llama2.c checkpoints are f32"));
      }
      auto model = synthesize(args->spec);
      if (!model.ok()) return fail(model.error());
      Status saved = save_llama2c(*model, args->out, args->tokenizer_out);
      if (!saved.ok()) return fail(saved.error());
    }
    std::printf("wrote %s: %lld parameters\n", args->out.c_str(),
                static_cast<long long>(shape->total_params(args->spec.shared_classifier)));
    return 0;
  };
}

CommandRegistrar registrar("synth", "write a model with random weights", setup);

}  // namespace
}  // namespace lv::cli
