// lightvault eval MODEL --text FILE: perplexity and next-token accuracy, optionally against a
// reference model (top-1 agreement, KL divergence).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "cli/progress.h"
#include "lightvault/eval/perplexity.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

nlohmann::json to_json(const EvalResult& r) {
  nlohmann::json j = {{"ctx", r.ctx},
                      {"text_tokens", r.text_tokens},
                      {"chunks", r.chunks},
                      {"scored_tokens", r.scored},
                      {"mean_nll", r.mean_nll},
                      {"perplexity", r.perplexity},
                      {"top1_accuracy", r.top1_accuracy},
                      {"seconds", r.seconds}};
  if (r.has_reference) {
    j["top1_agreement"] = r.top1_agreement;
    j["mean_kl_divergence"] = r.mean_kl;
  }
  return j;
}

void print_table(const std::string& model, const EvalResult& r) {
  std::printf("%-22s %s\n", "model", model.c_str());
  std::printf("%-22s %d chunks of %d tokens (%lld tokens in text, %lld scored)\n", "evaluated", r.chunks, r.ctx,
              static_cast<long long>(r.text_tokens), static_cast<long long>(r.scored));
  std::printf("%-22s %.4f\n", "perplexity", r.perplexity);
  std::printf("%-22s %.4f\n", "mean NLL (nats)", r.mean_nll);
  std::printf("%-22s %.2f%%\n", "top-1 accuracy", 100.0 * r.top1_accuracy);
  if (r.has_reference) {
    std::printf("%-22s %.2f%%\n", "top-1 agreement", 100.0 * r.top1_agreement);
    std::printf("%-22s %.6f\n", "mean KL (nats)", r.mean_kl);
  }
  std::printf("%-22s %.2f s\n", "time", r.seconds);
}

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    std::string text, reference;
    int ctx = 0;
    int max_chunks = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_option("--text", args->text, "text file to evaluate on")->required();
  sub.add_option("--ctx", args->ctx, "chunk length in tokens (default: min(512, the model's context))");
  sub.add_option("--reference", args->reference, "reference model for top-1 agreement and KL divergence");
  sub.add_option("--max-chunks", args->max_chunks, "evaluate only the first N chunks (0: all)");
  sub.add_flag("--json", args->json, "print JSON instead of a table");
  return [args] {
    auto model = args->model.load();
    if (!model.ok()) return fail(model.error());
    if (model->tokenizer.empty()) return fail(make_error(args->model.path, "has no tokenizer; pass one with --tokenizer"));
    Result<Model> reference = Error{};
    if (!args->reference.empty()) {
      reference = load_model(args->reference, LoadOptions{args->model.tokenizer});
      if (!reference.ok()) return fail(reference.error());
    }
    auto text = read_file(args->text);
    if (!text.ok()) return fail(text.error());
    auto tokens = model->tokenizer.encode(*text, true, args->text);
    if (!tokens.ok()) return fail(tokens.error());

    EvalOptions options;
    options.ctx = args->ctx > 0 ? args->ctx : std::min(512, model->config.seq_len);
    options.max_chunks = args->max_chunks;
    std::unique_ptr<ProgressBar> progress;
    options.progress = [&](int done, int total) {
      if (!progress) progress = std::make_unique<ProgressBar>("eval", total);
      progress->update(done);
    };
    Transformer transformer(*model);
    std::unique_ptr<Transformer> ref;
    if (!args->reference.empty()) ref = std::make_unique<Transformer>(*reference);
    auto result = evaluate(transformer, *tokens, options, ref.get());
    progress.reset();
    if (!result.ok()) return fail(make_error(args->model.path, result.error().message));
    if (args->json) {
      auto j = to_json(*result);
      j["model"] = args->model.path;
      if (ref) j["reference"] = args->reference;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      print_table(args->model.path, *result);
    }
    return 0;
  };
}

CommandRegistrar registrar("eval", "perplexity and next-token accuracy on a text file", setup);

}  // namespace
}  // namespace lv::cli
