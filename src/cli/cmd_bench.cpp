// lightvault bench MODEL: prefill and decode tokens/s and peak RSS, measured as llama-bench
// measures them (see eval/speed.h), so bench/run.sh can set the two side by side.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "lightvault/eval/speed.h"
#include "lightvault/tensor/kernels.h"

namespace lv::cli {
namespace {

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    SpeedOptions speed;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_option("--pp", args->speed.prompt_tokens, "prompt tokens in the prefill batch")->capture_default_str();
  sub.add_option("--tg", args->speed.generated_tokens, "tokens decoded one at a time")->capture_default_str();
  sub.add_option("--reps", args->speed.repetitions, "repetitions; the median is reported")->capture_default_str();
  sub.add_flag("--json", args->json, "print JSON");
  return [args] {
    auto model = args->model.load();
    if (!model.ok()) return fail(model.error());
    Transformer transformer(*model);
    SpeedResult r = measure_speed(transformer, args->speed);
    nlohmann::json j = {{"model", args->model.path},
                        {"parameters", model->parameter_count()},
                        {"file_size", model->file_size},
                        {"threads", parallel_threads()},
                        {"isa", isa_name(active_isa())},
                        {"pp", r.prompt_tokens},
                        {"pp_tokens_per_second", r.prefill_tokens_per_second},
                        {"tg", r.generated_tokens},
                        {"tg_tokens_per_second", r.decode_tokens_per_second},
                        {"peak_rss_bytes", peak_rss_bytes()}};
    if (args->json) {
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("prefill: %.2f tok/s (pp%d), decode: %.2f tok/s (tg%d), peak RSS %.1f MiB, %d threads, %s\n",
                  r.prefill_tokens_per_second, r.prompt_tokens, r.decode_tokens_per_second, r.generated_tokens,
                  peak_rss_bytes() / 1048576.0, parallel_threads(), isa_name(active_isa()));
    }
    return 0;
  };
}

CommandRegistrar registrar("bench", "prefill and decode speed and peak memory of a model", setup);

}  // namespace
}  // namespace lv::cli
