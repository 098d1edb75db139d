// lightvault compress IN -o OUT: score heads, prune, quantize to INT8, write GGUF and a report
// (OUT.report.json, OUT.report.html, a table on stdout).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "cli/progress.h"
#include "lightvault/compress/report.h"

namespace lv::cli {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Speed and peak memory of `path`, measured by `lightvault bench` in a fresh process so that
// one model's memory does not count against the other's.
void measure_in_subprocess(const std::string& path, const std::string& tokenizer, ModelFigures& figures) {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return;
  std::string cmd = shell_quote(self) + " bench " + shell_quote(path) + " --json";
  if (!tokenizer.empty()) cmd += " --tokenizer " + shell_quote(tokenizer);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return;
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return;
  figures.prefill_tokens_per_second = j.value("pp_tokens_per_second", 0.0);
  figures.decode_tokens_per_second = j.value("tg_tokens_per_second", 0.0);
  figures.peak_rss_bytes = j.value("peak_rss_bytes", 0LL);
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return out ? Status::Ok() : make_error(path, "cannot write");
}

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    CompressOptions o;
    std::string importance = "ablation", quant = "channel", gradient_estimate = "token-projection";
    std::vector<std::string> keep_float;
    double threshold = -1, ratio = -1, retention = -1;
    bool no_speed = false;
  };
  auto a = std::make_shared<Args>();
  a->model.add_to(sub);
  CompressOptions& o = a->o;
  sub.add_option("-o,--output", o.output, "output GGUF file")->required();
  sub.add_option("--calib", o.calib_path, "calibration text (scoring heads, retention search)");
  sub.add_option("--eval", o.eval_path, "held-out evaluation text (before/after figures)");
  sub.add_option("--ctx", o.ctx, "tokens per chunk, as in `lightvault eval --ctx`")->capture_default_str();
  sub.add_option("--calib-chunks", o.calib_chunks, "calibration chunks used")->capture_default_str();
  sub.add_option("--eval-chunks", o.eval_chunks, "evaluation chunks used (0: all)")->capture_default_str();
  sub.add_option("--curve-chunks", o.curve_chunks, "evaluation chunks per point of the retention curves")
      ->capture_default_str();
  sub.add_option("--importance", a->importance, "magnitude|ablation|activation|random|gradient")->capture_default_str();
  sub.add_option("--gradient-estimate", a->gradient_estimate,
                 "what --importance gradient ranks by: taylor|chunk-abs|chunk-fisher|token-abs|token-fisher|projection|token-projection")
      ->capture_default_str();
  sub.add_option("--gradient-rounds", o.gradient_rounds,
                 "--importance gradient removes groups in this many rounds, re-scoring with removed heads closed "
                 "(0: 1, or 8 when --ratio is above 0.25)")
      ->capture_default_str();
  sub.add_option("--projection-probes", o.projection_probes,
                 "random probes per calibration chunk for the projection estimates")
      ->capture_default_str();
  auto* threshold = sub.add_option("--threshold", a->threshold, "remove heads whose normalized score is below T");
  auto* ratio = sub.add_option("--ratio", a->ratio, "remove this fraction of all heads");
  auto* retention = sub.add_option("--target-retention", a->retention,
                                   "remove the most heads keeping calibration top-1 >= P x the original's");
  auto* plan = sub.add_option("--plan", o.plan_path, "prune plan JSON to apply");
  threshold->excludes(ratio)->excludes(retention)->excludes(plan);
  ratio->excludes(retention)->excludes(plan);
  retention->excludes(plan);
  sub.add_flag("--allow-layer-drop", o.allow_layer_drop, "allow removing every head of a layer");
  sub.add_flag("--ablate-hidden", o.ablation_on_hidden, "ablation compares final hidden states, not logits");
  sub.add_option("--quant", a->quant, "none|tensor|channel|block32")->capture_default_str();
  sub.add_option("--keep-float", a->keep_float,
                 "weights left in float: attention, ffn, classifier (and an embedding shared with it)")
      ->delimiter(',');
  sub.add_option("--refine", o.refine_heads,
                 "with --ratio: exact ablation re-orders the groups of about N heads nearest the pruning boundary")
      ->capture_default_str();
  sub.add_flag("--compare-scorers", o.compare_scorers,
               "score with every scorer (exact ablation included) for the report's retention curves and rank agreement");
  sub.add_flag("--no-speed", a->no_speed, "skip the speed and memory measurements");
  sub.add_option("--seed", o.seed, "seed of the random scorer")->capture_default_str();
  return [a] {
    CompressOptions& o = a->o;
    o.input = a->model.path;
    o.tokenizer = a->model.tokenizer;
    auto importance = parse_importance(a->importance);
    if (!importance.ok()) return fail(importance.error());
    o.importance = *importance;
    auto estimate = parse_gradient_estimate(a->gradient_estimate);
    if (!estimate.ok()) return fail(estimate.error());
    o.gradient_estimate = *estimate;
    auto quant = parse_granularity(a->quant);
    if (!quant.ok()) return fail(quant.error());
    o.quant.granularity = *quant;
    for (const auto& group : a->keep_float) {
      if (Status s = keep_in_float(o.quant, group); !s.ok()) return fail(s.error());
    }
    if (a->threshold >= 0) {
      o.mode = PruneMode::Threshold;
      o.threshold = a->threshold;
    } else if (a->ratio >= 0) {
      if (a->ratio >= 1.0) return fail(make_error("--ratio", "must be in [0, 1)"));
      o.mode = PruneMode::Ratio;
      o.ratio = a->ratio;
    } else if (a->retention >= 0) {
      if (a->retention > 1.0) return fail(make_error("--target-retention", "must be in [0, 1]"));
      o.mode = PruneMode::TargetRetention;
      o.target_retention = a->retention;
    } else if (!o.plan_path.empty()) {
      o.mode = PruneMode::Plan;
    }

    std::unique_ptr<ProgressBar> bar;
    std::string current;
    auto progress = [&](const std::string& stage, int done, int total) {
      if (stage != current) {
        bar = std::make_unique<ProgressBar>(stage, total);
        current = stage;
      }
      bar->update(done);
    };
    auto report = compress(o, progress);
    bar.reset();
    if (!report.ok()) return fail(report.error());
    if (!a->no_speed) {
      measure_in_subprocess(o.input, o.tokenizer, report->before);
      measure_in_subprocess(o.output, "", report->after);
    }
    Status s = write_text(o.output + ".report.json", report_json(*report));
    if (s.ok()) s = write_text(o.output + ".report.html", report_html(*report));
    if (s.ok() && o.mode != PruneMode::None) s = write_text(o.output + ".plan.json", report->plan.to_json());
    if (!s.ok()) return fail(s.error());
    std::printf("%s", report_table(*report).c_str());
    if (!report->float_weights.empty()) {
      std::printf("left in float: %s", report->float_weights.front().c_str());
      if (report->float_weights.size() > 1) std::printf(" and %zu more (see the report)", report->float_weights.size() - 1);
      std::printf("\n");
    }
    std::printf("wrote %s, %s.report.json, %s.report.html%s\n", o.output.c_str(), o.output.c_str(), o.output.c_str(),
                o.mode != PruneMode::None ? (", " + o.output + ".plan.json").c_str() : "");
    return 0;
  };
}

CommandRegistrar registrar("compress", "prune attention heads and quantize to INT8, with a report", setup);

}  // namespace
}  // namespace lv::cli
