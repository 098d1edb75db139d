#include "lightvault/compress/report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lv {
namespace {

using nlohmann::json;

json figures_json(const ModelFigures& f) {
  json j = {{"parameters", f.parameters}, {"attention_parameters", f.attention_parameters}, {"file_size", f.file_size}};
  if (f.eval) {
    const EvalResult& e = *f.eval;
    j["perplexity"] = e.perplexity;
    j["mean_nll"] = e.mean_nll;
    j["top1_accuracy"] = e.top1_accuracy;
    j["scored_tokens"] = e.scored;
    if (e.has_reference) {
      j["top1_agreement"] = e.top1_agreement;
      j["kl_divergence"] = e.mean_kl;
    }
  }
  if (f.prefill_tokens_per_second) j["prefill_tokens_per_second"] = *f.prefill_tokens_per_second;
  if (f.decode_tokens_per_second) j["decode_tokens_per_second"] = *f.decode_tokens_per_second;
  if (f.peak_rss_bytes) j["peak_rss_bytes"] = *f.peak_rss_bytes;
  return j;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// "#rrggbb" on a white→dark-blue ramp for v in [0, 1].
std::string heat_color(double v) {
  v = std::clamp(v, 0.0, 1.0);
  auto mix = [&](int a, int b) { return static_cast<int>(a + (b - a) * v); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", mix(247, 8), mix(251, 48), mix(255, 107));
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

std::string heatmap_svg(const HeadScores& s, const PrunePlan& plan) {
  size_t max_heads = 0;
  for (const auto& l : s.normalized) max_heads = std::max(max_heads, l.size());
  const int cell = 28, left = 60, top = 30;
  const int width = left + static_cast<int>(max_heads) * cell + 20, height = top + static_cast<int>(s.normalized.size()) * cell + 30;
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height << "' font-size='11'>";
  o << "<text x='0' y='15' font-weight='bold'>" << importance_name(s.method) << " (normalized per layer; "
    << fmt("%.2f", s.seconds) << " s)</text>";
  for (size_t l = 0; l < s.normalized.size(); ++l) {
    o << "<text x='0' y='" << top + l * cell + 18 << "'>layer " << l << "</text>";
    for (size_t h = 0; h < s.normalized[l].size(); ++h) {
      const double v = s.normalized[l][h];
      o << "<rect x='" << left + h * cell << "' y='" << top + l * cell << "' width='" << cell - 2 << "' height='"
        << cell - 2 << "' fill='" << heat_color(v) << "'><title>layer " << l << " head " << h << ": "
        << fmt("%.4g", s.raw[l][h]) << " (" << fmt("%.3f", v) << ")</title></rect>";
      const bool pruned = l < plan.remove.size() &&
                          std::find(plan.remove[l].begin(), plan.remove[l].end(), static_cast<int>(h)) != plan.remove[l].end();
      if (pruned) o << "<text x='" << left + h * cell + 9 << "' y='" << top + l * cell + 18 << "' fill='#d00'>✕</text>";
    }
  }
  o << "<text x='" << left << "' y='" << height - 8 << "'>heads →   (✕ = removed by the plan)</text></svg>";
  return o.str();
}

std::string curves_svg(const std::map<std::string, std::vector<RetentionPoint>>& curves) {
  const int w = 520, h = 320, left = 60, right = 130, top = 20, bottom = 50;
  const int pw = w - left - right, ph = h - top - bottom;
  double max_x = 0.0, min_y = 1.0;
  for (const auto& [name, pts] : curves) {
    for (const auto& p : pts) {
      max_x = std::max(max_x, p.fraction_pruned);
      min_y = std::min(min_y, p.retention);
    }
  }
  max_x = max_x > 0 ? max_x : 1.0;
  min_y = std::max(0.0, std::floor(min_y * 10.0) / 10.0);
  auto X = [&](double x) { return left + x / max_x * pw; };
  auto Y = [&](double y) { return top + (1.0 - (y - min_y) / std::max(1e-9, 1.0 - min_y)) * ph; };
  const std::map<std::string, std::string> colors = {
      {"ablation", "#1f77b4"}, {"activation", "#2ca02c"}, {"magnitude", "#ff7f0e"}, {"random", "#7f7f7f"}};
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "' font-size='11'>";
  o << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph << "' fill='none' stroke='#999'/>";
  for (int i = 0; i <= 4; ++i) {
    const double y = min_y + (1.0 - min_y) * i / 4.0, x = max_x * i / 4.0;
    o << "<text x='" << left - 40 << "' y='" << Y(y) + 4 << "'>" << fmt("%.0f%%", 100 * y) << "</text>";
    o << "<text x='" << X(x) - 10 << "' y='" << top + ph + 15 << "'>" << fmt("%.0f%%", 100 * x) << "</text>";
  }
  o << "<text x='" << left + pw / 2 - 60 << "' y='" << h - 12 << "'>fraction of heads pruned</text>";
  o << "<text x='5' y='" << top - 6 << "'>top-1 retention</text>";
  int legend = 0;
  for (const auto& [name, pts] : curves) {
    const std::string color = colors.count(name) ? colors.at(name) : "#000";
    o << "<polyline fill='none' stroke-width='2' stroke='" << color << "' points='";
    for (const auto& p : pts) o << X(p.fraction_pruned) << "," << Y(p.retention) << " ";
    o << "'/>";
    for (const auto& p : pts) {
      o << "<circle cx='" << X(p.fraction_pruned) << "' cy='" << Y(p.retention) << "' r='3' fill='" << color
        << "'><title>" << name << ": " << fmt("%.1f%%", 100 * p.fraction_pruned) << " pruned, retention "
        << fmt("%.2f%%", 100 * p.retention) << "</title></circle>";
    }
    o << "<text x='" << left + pw + 10 << "' y='" << top + 15 + 16 * legend++ << "' fill='" << color << "'>" << name
      << "</text>";
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

std::string report_json(const CompressReport& r) {
  json scores = json::object();
  for (const auto& s : r.scores) {
    scores[importance_name(s.method)] = {{"raw", s.raw}, {"normalized", s.normalized}, {"seconds", s.seconds}};
    if (!s.estimates.empty()) scores[importance_name(s.method)]["estimates"] = s.estimates;
  }
  json steps = json::array();
  for (const auto& [name, seconds] : r.step_seconds) steps.push_back({{"step", name}, {"seconds", seconds}});
  json curves = json::object();
  for (const auto& [name, pts] : r.curves) {
    json arr = json::array();
    for (const auto& p : pts) arr.push_back({{"fraction_pruned", p.fraction_pruned}, {"top1", p.top1}, {"retention", p.retention}});
    curves[name] = arr;
  }
  const CompressOptions& o = r.options;
  json j = {{"input", o.input},
            {"output", o.output},
            {"calibration", o.calib_path},
            {"evaluation", o.eval_path},
            {"ctx", o.ctx},
            {"importance", importance_name(o.importance)},
            {"quantization", granularity_name(o.quant.granularity)},
            {"before", figures_json(r.before)},
            {"after", figures_json(r.after)},
            {"removed_heads", r.plan.removed_heads()},
            {"total_heads", r.plan.total_heads()},
            {"plan", json::parse(r.plan.to_json())},
            {"importance_scores", scores},
            {"retention_curves", curves},
            {"rank_agreement_with_ablation", r.rank_agreement},
            {"steps", steps},
            {"float_weights", r.float_weights},
            {"seconds", r.seconds},
            {"compress_peak_rss_bytes", r.peak_rss_bytes}};
  if (o.importance == ImportanceMethod::Gradient) j["gradient_rounds"] = o.gradient_rounds;
  if (r.before.eval && r.after.eval && r.before.eval->top1_accuracy > 0) {
    j["top1_retention"] = r.after.eval->top1_accuracy / r.before.eval->top1_accuracy;
  }
  j["parameter_reduction"] = 1.0 - static_cast<double>(r.after.parameters) / static_cast<double>(r.before.parameters);
  return j.dump(2) + "\n";
}

std::string report_table(const CompressReport& r) {
  std::ostringstream o;
  auto row = [&](const std::string& name, const std::string& before, const std::string& after, const std::string& change) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-26s %16s %16s %12s\n", name.c_str(), before.c_str(), after.c_str(), change.c_str());
    o << buf;
  };
  auto ratio = [](double a, double b) { return b != 0 ? fmt("%.3fx", a / b) : std::string("-"); };
  row("", "before", "after", "after/before");
  row("parameters", std::to_string(r.before.parameters), std::to_string(r.after.parameters),
      ratio(static_cast<double>(r.after.parameters), static_cast<double>(r.before.parameters)));
  row("attention parameters", std::to_string(r.before.attention_parameters), std::to_string(r.after.attention_parameters),
      ratio(static_cast<double>(r.after.attention_parameters), static_cast<double>(r.before.attention_parameters)));
  row("file size (bytes)", std::to_string(r.before.file_size), std::to_string(r.after.file_size),
      ratio(static_cast<double>(r.after.file_size), static_cast<double>(r.before.file_size)));
  row("attention heads", std::to_string(r.plan.total_heads()), std::to_string(r.plan.total_heads() - r.plan.removed_heads()), "");
  if (r.before.eval && r.after.eval) {
    const EvalResult &b = *r.before.eval, &a = *r.after.eval;
    row("perplexity", fmt("%.4f", b.perplexity), fmt("%.4f", a.perplexity), ratio(a.perplexity, b.perplexity));
    row("top-1 accuracy", fmt("%.2f%%", 100 * b.top1_accuracy), fmt("%.2f%%", 100 * a.top1_accuracy),
        ratio(a.top1_accuracy, b.top1_accuracy));
    row("top-1 agreement", "100.00%", fmt("%.2f%%", 100 * a.top1_agreement), "");
    row("KL divergence (nats)", "0", fmt("%.6f", a.mean_kl), "");
  }
  auto opt = [&](const std::string& name, const std::optional<double>& b, const std::optional<double>& a, const char* f) {
    if (b && a) row(name, fmt(f, *b), fmt(f, *a), ratio(*a, *b));
  };
  opt("prefill tokens/s", r.before.prefill_tokens_per_second, r.after.prefill_tokens_per_second, "%.1f");
  opt("decode tokens/s", r.before.decode_tokens_per_second, r.after.decode_tokens_per_second, "%.1f");
  if (r.before.peak_rss_bytes && r.after.peak_rss_bytes) {
    opt("peak RSS (MiB)", *r.before.peak_rss_bytes / 1048576.0, *r.after.peak_rss_bytes / 1048576.0, "%.1f");
  }
  if (!r.step_seconds.empty()) {
    o << "\ntime taken\n";
    auto line = [&](const std::string& name, double seconds) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "  %-36s %9.2f s\n", name.c_str(), seconds);
      o << buf;
    };
    for (const auto& [name, seconds] : r.step_seconds) line(name, seconds);
    line("total", r.seconds);
    if (r.peak_rss_bytes > 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "peak memory of this run: %.0f MiB\n", r.peak_rss_bytes / 1048576.0);
      o << buf;
    }
  }
  return o.str();
}

std::string report_html(const CompressReport& r) {
  std::ostringstream o;
  o << "<!doctype html><html><head><meta charset='utf-8'><title>lightvault compress: " << escape(r.options.output)
    << "</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}pre{background:#f6f6f6;padding:1em}"
       "figure{display:inline-block;margin:0 2em 2em 0;vertical-align:top}</style></head><body>";
  o << "<h1>Compression report</h1><p>" << escape(r.options.input) << " → " << escape(r.options.output) << "<br>importance: "
    << importance_name(r.options.importance) << ", quantization: " << granularity_name(r.options.quant.granularity)
    << ", heads removed: " << r.plan.removed_heads() << " of " << r.plan.total_heads() << "</p>";
  o << "<h2>Before and after</h2><pre>" << escape(report_table(r)) << "</pre>";
  if (!r.float_weights.empty()) {
    o << "<p>Matmul weights left in float:</p><ul>";
    for (const auto& w : r.float_weights) o << "<li>" << escape(w) << "</li>";
    o << "</ul>";
  }
  if (!r.curves.empty()) {
    o << "<h2>Top-1 retention against the fraction of heads pruned</h2><p>On " << escape(r.options.eval_path)
      << "; each scorer's least important key/value groups removed first.</p>" << curves_svg(r.curves);
  }
  if (!r.rank_agreement.empty()) {
    o << "<h2>Rank agreement with exact ablation</h2><p>Spearman correlation of each scorer's per-head scores with "
         "ablation's, over all heads.</p><table>";
    for (const auto& [name, rho] : r.rank_agreement) o << "<tr><td>" << escape(name) << "</td><td>" << fmt("%.3f", rho) << "</td></tr>";
    o << "</table>";
  }
  if (!r.scores.empty()) {
    o << "<h2>Head importance</h2>";
    for (const auto& s : r.scores) o << "<figure>" << heatmap_svg(s, r.plan) << "</figure>";
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace lv
