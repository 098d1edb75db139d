// lightvault synth: write a model with random weights, for tests and speed benchmarks.
#include <cstdio>

#include "cli/command.h"
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
  return [args] {
    args->spec.shared_classifier = !args->separate_classifier;
    auto model = synthesize(args->spec);
    if (!model.ok()) return fail(model.error());
    Status saved = ends_with(args->out, ".gguf") ? save_gguf(*model, args->out)
                                                 : save_llama2c(*model, args->out, args->tokenizer_out);
    if (!saved.ok()) return fail(saved.error());
    std::printf("wrote %s: %lld parameters\n", args->out.c_str(), static_cast<long long>(model->parameter_count()));
    return 0;
  };
}

CommandRegistrar registrar("synth", "write a model with random weights", setup);

}  // namespace
}  // namespace lv::cli
