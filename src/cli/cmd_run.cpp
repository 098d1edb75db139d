// lightvault run MODEL -p PROMPT -n N: generate text, then report prefill and decode speed.
#include <cctype>
#include <chrono>
#include <cstdio>

#include "cli/model_args.h"
#include "lightvault/runtime/generate.h"

namespace lv::cli {
namespace {

// Prints a piece as llama2.c does: a lone byte that is neither printable nor whitespace is
// dropped, so raw byte tokens can't garble the terminal.
void print_piece(const std::string& piece) {
  if (piece.size() == 1) {
    auto c = static_cast<unsigned char>(piece[0]);
    if (!(std::isprint(c) || std::isspace(c))) return;
  }
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
}

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    std::string prompt;
    GenerateOptions gen;
    bool seed_given = false;
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_option("-p,--prompt", args->prompt, "prompt text");
  sub.add_option("-n,--steps", args->gen.steps, "positions to run, prompt tokens included")->capture_default_str();
  sub.add_option("--temp", args->gen.temperature, "sampling temperature; 0 is greedy")->capture_default_str();
  sub.add_option("--top-p", args->gen.top_p, "nucleus sampling mass")->capture_default_str();
  sub.add_option("--seed", args->gen.seed, "random seed (default: from the clock)");
  return [args] {
    auto model = args->model.load();
    if (!model.ok()) return fail(model.error());
    if (model->tokenizer.empty()) {
      return fail(make_error(args->model.path, "has no tokenizer; pass one with --tokenizer"));
    }
    auto prompt = model->tokenizer.encode(args->prompt, true, "prompt");
    if (!prompt.ok()) return fail(prompt.error());
    if (args->gen.steps <= 0) return fail(make_error("-n", "must be positive"));
    if (args->gen.seed == 0) args->gen.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    Transformer transformer(*model);
    const Tokenizer& tok = model->tokenizer;
    auto stats = generate(transformer, *prompt, args->gen, [&](int prev, int next) { print_piece(tok.decode(prev, next)); });
    std::printf("\n");
    std::fflush(stdout);
    if (!stats.ok()) return fail(stats.error());
    std::fprintf(stderr, "prefill: %.2f tok/s, decode: %.2f tok/s\n", stats->prefill_tokens_per_second(),
                 stats->decode_tokens_per_second());
    return 0;
  };
}

CommandRegistrar registrar("run", "generate text from a prompt", setup);

}  // namespace
}  // namespace lv::cli
