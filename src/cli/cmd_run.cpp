// lightvault run MODEL -p PROMPT -n N: generate text, then report prefill and decode speed;
// optionally watermarked (--watermark-key) and labelled as AI-generated (--label).
#include <cctype>
#include <chrono>
#include <cstdio>

#include "cli/model_args.h"
#include "cli/watermark_args.h"
#include "lightvault/mark/text_label.h"
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
    WatermarkArgs watermark;
    std::string label, label_position = "start";
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_option("-p,--prompt", args->prompt, "prompt text");
  sub.add_option("-n,--steps", args->gen.steps, "positions to run, prompt tokens included")->capture_default_str();
  sub.add_option("--temp", args->gen.temperature, "sampling temperature; 0 is greedy")->capture_default_str();
  sub.add_option("--top-p", args->gen.top_p, "nucleus sampling mass")->capture_default_str();
  sub.add_option("--seed", args->gen.seed, "random seed (default: from the clock)");
  args->watermark.add_to(sub, true);
  sub.add_option("--label", args->label, "print a label line with the generation (--label alone: " +
                                             std::string(mark::kDefaultTextLabel) + ")")
      ->expected(0, 1)
      ->default_str(std::string(mark::kDefaultTextLabel));
  sub.add_option("--label-position", args->label_position, "start or end")->capture_default_str();
  return [args] {
    auto position = mark::parse_label_position(args->label_position);
    if (!position.ok()) return fail(position.error());
    if (!args->label.empty()) {
      if (auto valid = mark::validate_label(args->label); !valid.ok()) return fail(valid.error());
    }
    std::unique_ptr<mark::TextWatermarker> watermarker;
    if (!args->watermark.key_path.empty()) {
      auto key = args->watermark.load_key();
      if (!key.ok()) return fail(key.error());
      watermarker = std::make_unique<mark::TextWatermarker>(*key, args->watermark.params);
      args->gen.logits_processor = [w = watermarker.get()](std::span<const int> tokens, float* logits, int n) { w->bias(tokens, logits, n); };
    }
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
    const bool label_first = !args->label.empty() && *position == mark::LabelPosition::Start;
    if (label_first) std::printf("%s\n", args->label.c_str());
    auto stats = generate(transformer, *prompt, args->gen, [&](int prev, int next) { print_piece(tok.decode(prev, next)); });
    std::printf("\n");
    if (!args->label.empty() && !label_first) std::printf("%s\n", args->label.c_str());
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
