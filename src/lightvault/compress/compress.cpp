#include "lightvault/compress/compress.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "lightvault/compress/ablation.h"
#include "lightvault/compress/prune.h"
#include "lightvault/eval/speed.h"
#include "lightvault/model/gguf.h"
#include "lightvault/model/gguf_layout.h"
#include "lightvault/model/load.h"
#include "lightvault/util/text.h"

namespace lv {
namespace {

std::vector<std::vector<float>> full_mask(const ModelConfig& c) {
  std::vector<std::vector<float>> mask;
  for (const auto& l : c.layers) mask.emplace_back(static_cast<size_t>(l.n_heads), 1.0f);
  return mask;
}

std::vector<std::vector<float>> mask_of(const ModelConfig& c, const PrunePlan& plan) {
  auto mask = full_mask(c);
  for (int l = 0; l < c.n_layers(); ++l) {
    for (int h : plan.remove[l]) mask[l][h] = 0.0f;
  }
  return mask;
}

// Top-1 accuracy on the calibration text with the plan's heads masked.
double masked_top1(const Model& model, const Calibration& calibration, const PrunePlan& plan) {
  Transformer t(model);
  t.set_head_mask(mask_of(model.config, plan));
  return calibration_top1(t, calibration);
}

// The largest number of ranked groups whose removal keeps calibration top-1 at least
// `target` × the original's (accuracy falls nearly monotonically as groups go, so bisect).
PrunePlan plan_for_retention(const Model& model, const Calibration& calibration, const std::vector<HeadGroup>& ranked,
                             const CompressOptions& o, const CompressProgress& progress) {
  const double base = masked_top1(model, calibration, PrunePlan::empty_for(model.config));
  int lo = 0, hi = static_cast<int>(ranked.size());
  int step = 0, steps = static_cast<int>(std::ceil(std::log2(hi + 1))) + 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    PrunePlan p = plan_from_ranking(model.config, ranked, mid, o.allow_layer_drop, importance_name(o.importance));
    const double top1 = masked_top1(model, calibration, p);
    if (top1 >= o.target_retention * base) lo = mid;
    else hi = mid - 1;
    if (progress) progress("retention search", ++step, steps);
  }
  return plan_from_ranking(model.config, ranked, lo, o.allow_layer_drop, importance_name(o.importance));
}

// One round of gradient estimates orders groups as well as exact ablation does up to a quarter
// of them removed; past that, the estimates taken with every head present drift from what the
// pruned model feels (top-1 retention at half the heads: 0.68 in one round against ablation's
// 0.83 on stories260K, 0.84 in 8 rounds; bench/compress_gradient_agreement.md).
int gradient_rounds(const CompressOptions& o) {
  if (o.gradient_rounds > 0) return o.gradient_rounds;
  return o.mode == PruneMode::Ratio && o.ratio > 0.25 ? 8 : 1;
}

// Re-orders the groups of `ranked` nearest `boundary` (the first `boundary` groups are
// removed), about `heads` query heads of them, by the damage exact ablation measures for each
// group alone: the scorer decides which groups are near the boundary, ablation which side
// they fall on. The ablator reuses the activations below each ablated layer.
void refine_boundary(const Model& model, const Calibration& calibration, bool on_hidden, int boundary, int heads,
                     std::vector<HeadGroup>& ranked, const CompressProgress& progress) {
  int lo = boundary, hi = boundary, covered = 0;
  const int n = static_cast<int>(ranked.size());
  while (covered < heads && (lo > 0 || hi < n)) {
    if (hi < n && (hi - boundary <= boundary - lo || lo == 0)) covered += static_cast<int>(ranked[hi++].heads.size());
    else covered += static_cast<int>(ranked[--lo].heads.size());
  }
  Ablator ablator(model, calibration, on_hidden);
  for (int i = lo; i < hi; ++i) {
    ranked[i].score = ablator.damage(ranked[i].layer, ranked[i].heads);
    if (progress) progress("refining the boundary by ablation", i - lo + 1, hi - lo);
  }
  std::stable_sort(ranked.begin() + lo, ranked.begin() + hi,
                   [](const HeadGroup& a, const HeadGroup& b) { return a.score < b.score; });
}

ModelFigures figures_of(const Model& m) {
  ModelFigures f;
  f.parameters = m.parameter_count();
  f.attention_parameters = m.config.attention_params();
  f.file_size = m.file_size;
  return f;
}

// The matmul weights that `written` keeps in float, and why.
std::vector<std::string> float_weights(const Model& written, const QuantSpec& spec) {
  std::vector<std::string> out;
  if (spec.granularity == QuantGranularity::None) return out;
  for (const GgufSlot& slot : gguf_slots(written.config, written.shared_classifier)) {
    const bool matmul = !slot.vector && (slot.name != "token_embd.weight" || written.shared_classifier);
    const Tensor& t = gguf_slot_tensor(written, slot);
    if (!matmul || t.empty() || (t.dtype != DType::F32 && t.dtype != DType::F16)) continue;
    out.push_back(slot.name + (t.cols % kQ8BlockSize != 0
                                   ? " (" + std::to_string(t.cols) + " columns, not a multiple of 32 as GGUF Q8_0 needs)"
                                   : " (--keep-float)"));
  }
  return out;
}

}  // namespace

Status check_disjoint(const std::string& calib_path, const std::string& calib, const std::string& eval_path,
                      const std::string& eval) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::equivalent(calib_path, eval_path, ec)) {
    return make_error(eval_path, "is also the calibration text; calibration and evaluation must not overlap");
  }
  std::unordered_set<std::string> lines;
  std::istringstream c(calib);
  for (std::string line; std::getline(c, line);) {
    if (line.size() >= 40) lines.insert(line);
  }
  std::istringstream e(eval);
  int line_no = 0;
  for (std::string line; std::getline(e, line);) {
    ++line_no;
    if (line.size() >= 40 && lines.count(line)) {
      return make_error(eval_path, "line " + std::to_string(line_no) + " also appears in the calibration text " +
                                       calib_path + "; calibration and evaluation must not overlap");
    }
  }
  return Status::Ok();
}

Result<CompressReport> compress(const CompressOptions& o, const CompressProgress& progress) {
  using Clock = std::chrono::steady_clock;
  auto started = Clock::now(), step_started = started;
  CompressReport report;
  // Closes the step that began where the previous one ended.
  auto step_done = [&](const std::string& name) {
    const auto now = Clock::now();
    report.step_seconds.emplace_back(name, std::chrono::duration<double>(now - step_started).count());
    step_started = now;
  };
  report.options = o;
  report.options.gradient_rounds = gradient_rounds(o);
  LV_ASSIGN_OR_RETURN(Model original, load_model(o.input, LoadOptions{o.tokenizer}));
  if (original.tokenizer.empty()) return make_error(o.input, "has no tokenizer; pass one with --tokenizer");
  report.before = figures_of(original);
  const bool pruning = o.mode != PruneMode::None;
  const int bos = original.tokenizer.bos_id();

  // Texts.
  std::string calib_text, eval_text;
  std::vector<int> eval_tokens;
  if (pruning && o.mode != PruneMode::Plan && o.calib_path.empty() &&
      (o.importance == ImportanceMethod::Ablation || o.importance == ImportanceMethod::Activation ||
       o.importance == ImportanceMethod::Gradient || o.mode == PruneMode::TargetRetention)) {
    return make_error("--calib", "is needed to score heads by " + std::string(importance_name(o.importance)) +
                                     " or to search for a retention target");
  }
  if (o.importance == ImportanceMethod::Gradient && o.ctx < 2) {
    return make_error("--ctx", "must be at least 2 for --importance gradient (a chunk predicts its next tokens)");
  }
  if (o.refine_heads > 0 && o.mode != PruneMode::Ratio) {
    return make_error("--refine", "works with --ratio, whose ranking has one boundary");
  }
  if (o.refine_heads > 0 && o.calib_path.empty()) return make_error("--calib", "is needed by --refine");
  if (!o.calib_path.empty()) {
    LV_ASSIGN_OR_RETURN(calib_text, read_file(o.calib_path));
  }
  if (!o.eval_path.empty()) {
    LV_ASSIGN_OR_RETURN(eval_text, read_file(o.eval_path));
    if (!o.calib_path.empty()) LV_RETURN_IF_ERROR(check_disjoint(o.calib_path, calib_text, o.eval_path, eval_text));
    LV_ASSIGN_OR_RETURN(eval_tokens, original.tokenizer.encode(eval_text, true, o.eval_path));
  }
  Calibration calibration;
  if (!calib_text.empty()) {
    LV_ASSIGN_OR_RETURN(auto calib_tokens, original.tokenizer.encode(calib_text, true, o.calib_path));
    calibration = Calibration::from_tokens(calib_tokens, o.ctx, o.calib_chunks, bos);
    if (calibration.chunks.empty()) return make_error(o.calib_path, "shorter than one chunk of --ctx tokens");
  }
  step_done("loading the model and texts");

  // Scores and the plan.
  ImportanceOptions io;
  io.seed = o.seed;
  io.ablation_on_hidden = o.ablation_on_hidden;
  io.gradient_estimate = o.gradient_estimate;
  io.all_estimates = o.compare_scorers;
  io.gradient_rounds = report.options.gradient_rounds;
  io.projection_probes = o.projection_probes;
  // A ratio plan depends only on the order of the groups it removes; every other use (curves,
  // retention search) walks the whole order.
  io.order_up_to = o.mode == PruneMode::Ratio && !o.compare_scorers ? o.ratio : 1.0;
  auto score = [&](ImportanceMethod m) {
    io.progress = [&](int done, int total) {
      if (progress) progress(std::string("scoring heads (") + importance_name(m) + ")", done, total);
    };
    return score_heads(m, original, calibration, io);
  };
  report.plan = PrunePlan::empty_for(original.config);
  if (o.mode == PruneMode::Plan) {
    LV_ASSIGN_OR_RETURN(std::string text, read_file(o.plan_path));
    LV_ASSIGN_OR_RETURN(report.plan, PrunePlan::from_json(text, o.plan_path));
    LV_RETURN_IF_ERROR(report.plan.validate(original.config, o.allow_layer_drop, o.plan_path));
  } else if (pruning) {
    report.scores.push_back(score(o.importance));
    const int rounds = report.options.gradient_rounds;
    step_done(std::string("scoring heads (") + importance_name(o.importance) +
              (o.importance == ImportanceMethod::Gradient && rounds > 1 ? ", " + std::to_string(rounds) + " rounds" : "") + ")");
    const HeadScores& s = report.scores.front();
    std::vector<HeadGroup> ranked = rank_groups(original.config, s);
    if (o.mode == PruneMode::Threshold) {
      report.plan = plan_by_threshold(original.config, s, o.threshold, o.allow_layer_drop);
    } else if (o.mode == PruneMode::Ratio) {
      const int groups = static_cast<int>(std::lround(o.ratio * static_cast<double>(ranked.size())));
      if (o.refine_heads > 0) {
        refine_boundary(original, calibration, o.ablation_on_hidden, groups, o.refine_heads, ranked, progress);
        step_done("refining " + std::to_string(o.refine_heads) + " heads by ablation");
      }
      report.plan = plan_from_ranking(original.config, ranked, groups, o.allow_layer_drop, importance_name(o.importance));
    } else {
      report.plan = plan_for_retention(original, calibration, ranked, o, progress);
    }
    LV_RETURN_IF_ERROR(report.plan.validate(original.config, o.allow_layer_drop, "plan"));
    step_done("choosing the plan");
  }

  // Retention curves of every scorer on held-out text, for the chart.
  if (pruning && o.compare_scorers && !eval_tokens.empty() && !calibration.chunks.empty()) {
    Calibration held_out = Calibration::from_tokens(eval_tokens, o.ctx, o.curve_chunks, bos);
    for (auto m : {ImportanceMethod::Magnitude, ImportanceMethod::Activation, ImportanceMethod::Ablation,
                   ImportanceMethod::Random, ImportanceMethod::Gradient}) {
      if (std::none_of(report.scores.begin(), report.scores.end(), [&](const HeadScores& s) { return s.method == m; })) {
        report.scores.push_back(score(m));
      }
      const HeadScores& s = *std::find_if(report.scores.begin(), report.scores.end(),
                                          [&](const HeadScores& x) { return x.method == m; });
      std::vector<HeadGroup> ranked = rank_groups(original.config, s);
      std::vector<RetentionPoint> curve;
      double base = 0.0;
      int done = 0;
      for (double f : o.curve_fractions) {
        const int groups = static_cast<int>(std::lround(f * static_cast<double>(ranked.size())));
        PrunePlan p = plan_from_ranking(original.config, ranked, groups, true, importance_name(m));
        RetentionPoint pt;
        pt.fraction_pruned = static_cast<double>(p.removed_heads()) / p.total_heads();
        pt.top1 = masked_top1(original, held_out, p);
        if (groups == 0) base = pt.top1;
        pt.retention = base > 0 ? pt.top1 / base : 0.0;
        curve.push_back(pt);
        if (progress) progress(std::string("retention curve (") + importance_name(m) + ")", ++done,
                               static_cast<int>(o.curve_fractions.size()));
      }
      report.curves[importance_name(m)] = curve;
    }
    const auto& ablation = *std::find_if(report.scores.begin(), report.scores.end(),
                                         [](const HeadScores& x) { return x.method == ImportanceMethod::Ablation; });
    for (const HeadScores& s : report.scores) {
      report.rank_agreement[importance_name(s.method)] = rank_agreement(s.raw, ablation.raw);
      for (const auto& [name, estimate] : s.estimates) {
        report.rank_agreement[std::string(importance_name(s.method)) + "/" + name] = rank_agreement(estimate, ablation.raw);
      }
    }
    step_done("comparing scorers");
  }

  // Prune, quantize, write, and read back what was written. Each tensor is quantized as the
  // writer reaches it, and the pruned attention weights live only until the file is written:
  // evaluation maps the written file instead, so the run never holds more than the input's
  // mapping, the pruned attention weights and the output's mapping.
  {
    LV_ASSIGN_OR_RETURN(Model pruned, prune(original, report.plan));
    pruned.path = o.output;
    LV_RETURN_IF_ERROR(save_quantized_gguf(pruned, o.quant, o.output));
  }
  LV_ASSIGN_OR_RETURN(Model written, load_model(o.output));
  report.after = figures_of(written);
  report.float_weights = float_weights(written, o.quant);
  step_done("pruning, quantizing, writing");

  if (!eval_tokens.empty()) {
    EvalOptions eo;
    eo.ctx = o.ctx;
    eo.max_chunks = o.eval_chunks;
    Transformer before(original), after(written);
    eo.progress = [&](int done, int total) {
      if (progress) progress("evaluating the original", done, total);
    };
    LV_ASSIGN_OR_RETURN(report.before.eval, evaluate(before, eval_tokens, eo));
    eo.progress = [&](int done, int total) {
      if (progress) progress("evaluating the compressed model", done, total);
    };
    LV_ASSIGN_OR_RETURN(report.after.eval, evaluate(after, eval_tokens, eo, &before));
    step_done("evaluating");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report.peak_rss_bytes = peak_rss_bytes();
  return report;
}

}  // namespace lv
