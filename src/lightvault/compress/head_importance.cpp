#include "lightvault/compress/head_importance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "lightvault/compress/ablation.h"
#include "lightvault/runtime/backward.h"
#include "lightvault/tensor/thread_pool.h"

namespace lv {
namespace {

using Clock = std::chrono::steady_clock;

double abs_sum_rows(const Tensor& t, int64_t first_row, int64_t count) {
  std::vector<float> row(static_cast<size_t>(t.cols));
  double sum = 0.0;
  for (int64_t r = first_row; r < first_row + count; ++r) {
    dequantize_row(t, r, row.data());
    for (float v : row) sum += std::fabs(v);
  }
  return sum;
}

// Σ|W[r][c]| over all rows for each block of `width` consecutive columns, in one pass over W
// (each block's sum adds its elements in the same order a pass per block would).
std::vector<double> abs_sum_col_blocks(const Tensor& t, int64_t width) {
  std::vector<float> row(static_cast<size_t>(t.cols));
  std::vector<double> sums(static_cast<size_t>(t.cols / width), 0.0);
  for (int64_t r = 0; r < t.rows; ++r) {
    dequantize_row(t, r, row.data());
    for (size_t b = 0; b < sums.size(); ++b) {
      for (int64_t c = static_cast<int64_t>(b) * width; c < static_cast<int64_t>(b + 1) * width; ++c) {
        sums[b] += std::fabs(row[c]);
      }
    }
  }
  return sums;
}

std::vector<std::vector<double>> empty_scores(const ModelConfig& c) {
  std::vector<std::vector<double>> s;
  for (const auto& l : c.layers) s.emplace_back(static_cast<size_t>(l.n_heads), 0.0);
  return s;
}

class MagnitudeScorer : public HeadScorer {
 public:
  HeadScores score(const Model& m, const Calibration&, const ImportanceOptions&) override {
    HeadScores s;
    s.method = ImportanceMethod::Magnitude;
    s.raw = empty_scores(m.config);
    const int hd = m.config.head_dim;
    for (int l = 0; l < m.config.n_layers(); ++l) {
      const auto& shape = m.config.layers[l];
      if (shape.n_heads == 0) continue;
      const int group = shape.n_heads / shape.n_kv_heads;
      const auto& w = m.layers[l];
      const std::vector<double> wo_sums = abs_sum_col_blocks(w.wo, hd);
      for (int h = 0; h < shape.n_heads; ++h) {
        const int g = h / group;
        s.raw[l][h] = abs_sum_rows(w.wq, int64_t{h} * hd, hd) + wo_sums[static_cast<size_t>(h)] +
                      (abs_sum_rows(w.wk, int64_t{g} * hd, hd) + abs_sum_rows(w.wv, int64_t{g} * hd, hd)) / group;
      }
    }
    return s;
  }
};

class RandomScorer : public HeadScorer {
 public:
  HeadScores score(const Model& m, const Calibration&, const ImportanceOptions& options) override {
    HeadScores s;
    s.method = ImportanceMethod::Random;
    s.raw = empty_scores(m.config);
    std::mt19937_64 rng(options.seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (auto& layer : s.raw) {
      for (double& v : layer) v = uniform(rng);
    }
    return s;
  }
};

class ActivationScorer : public HeadScorer {
 public:
  HeadScores score(const Model& m, const Calibration& calibration, const ImportanceOptions& options) override {
    HeadScores s;
    s.method = ImportanceMethod::Activation;
    s.raw = empty_scores(m.config);
    const int hd = m.config.head_dim, dim = m.config.dim;
    Transformer t(m);
    t.set_attention_observer([&](int layer, const Batch& batch, const float* heads) {
      const int n_heads = m.config.layers[layer].n_heads;
      const Tensor& wo = m.layers[layer].wo;  // [dim, n_heads*hd], read one widened row at a time
      const int width = n_heads * hd, rows = batch.size();
      // norm2[i][h] = ‖Wo_h o_ih‖² = Σ_r (Wo[r, h] · o_ih)², summed over Wo's rows in order.
      // Tokens are split over the threads; each widens every row of Wo for its own tokens,
      // so no F32 copy of Wo is made and the sums do not depend on the thread count.
      std::vector<double> norm2(static_cast<size_t>(rows) * n_heads, 0.0);
      const int64_t per_thread = (rows + parallel_threads() - 1) / parallel_threads();
      parallel_for(rows, per_thread, [&](int64_t first, int64_t last) {
        std::vector<float> wrow(static_cast<size_t>(width));
        for (int r = 0; r < dim; ++r) {
          dequantize_row(wo, r, wrow.data());
          for (int64_t i = first; i < last; ++i) {
            for (int h = 0; h < n_heads; ++h) {
              const float* o = heads + i * width + h * hd;
              float acc = 0.0f;
              for (int d = 0; d < hd; ++d) acc += wrow[h * hd + d] * o[d];
              norm2[i * n_heads + h] += static_cast<double>(acc) * acc;
            }
          }
        }
      });
      std::vector<double> sums(static_cast<size_t>(n_heads), 0.0);
      for (int h = 0; h < n_heads; ++h) {
        for (int i = 0; i < rows; ++i) sums[h] += std::sqrt(norm2[static_cast<size_t>(i) * n_heads + h]);
      }
      for (int h = 0; h < n_heads; ++h) s.raw[layer][h] = sums[h] / batch.size();
      if (options.progress) options.progress(layer + 1, m.config.n_layers());
    });
    calibration_logits(t, calibration);
    return s;
  }
};

// Per-head scores from single-head ablations, and the order in which to remove key/value
// groups found greedily: each round disables, on top of the groups already gone, the
// fifth of the remaining groups whose removal hurts least, then re-scores the rest. Scoring
// groups jointly and re-scoring after each round captures interactions that single-head
// scores miss.
class AblationScorer : public HeadScorer {
 public:
  HeadScores score(const Model& m, const Calibration& calibration, const ImportanceOptions& options) override {
    HeadScores s;
    s.method = ImportanceMethod::Ablation;
    s.raw = empty_scores(m.config);
    const auto& c = m.config;
    Ablator ablator(m, calibration, options.ablation_on_hidden);
    std::vector<HeadGroup> remaining = all_groups(c);
    int total = 0, done = 0;
    for (const auto& l : c.layers) total += l.n_heads;
    for (int n = static_cast<int>(remaining.size()); n > 0; n -= std::max(1, n / 5)) total += n;

    for (int l = 0; l < c.n_layers(); ++l) {
      for (int h = 0; h < c.layers[l].n_heads; ++h) {
        s.raw[l][h] = ablator.damage(l, {h});
        if (options.progress) options.progress(++done, total);
      }
    }
    auto mask = ablator.base();
    while (!remaining.empty()) {
      for (HeadGroup& g : remaining) {
        g.score = ablator.damage(g.layer, g.heads);
        if (options.progress) options.progress(++done, total);
      }
      std::stable_sort(remaining.begin(), remaining.end(),
                       [](const HeadGroup& a, const HeadGroup& b) { return a.score < b.score; });
      const size_t take = std::max<size_t>(1, remaining.size() / 5);
      for (size_t i = 0; i < take; ++i) {
        for (int h : remaining[i].heads) mask[remaining[i].layer][h] = 0.0f;
        s.removal_order.push_back(remaining[i]);
      }
      remaining.erase(remaining.begin(), remaining.begin() + static_cast<std::ptrdiff_t>(take));
      if (!remaining.empty()) ablator.set_base(mask);
    }
    if (options.progress) options.progress(total, total);
    return s;
  }
};

using Scores = std::vector<std::vector<double>>;

// What one pass over the calibration text yields.
struct PassResult {
  std::map<GradientEstimate, Scores> estimates;
  // Per group (in the order given), the estimated damage of closing its gates: with a projection
  // estimate, the Gauss-Newton term of the group's heads together, minus 2 ∂D/∂g summed over them
  // when reference logits are given (backward.h); otherwise the sum of its heads' scores.
  std::vector<double> group_costs;
};

// Every estimate asked for, from one pass over the calibration text under the transformer's
// current gates: one backward pass per calibration chunk (and per probe for the projection, and
// one more with reference logits), chunks one after another so that memory holds one chunk's
// activations; the matmuls and attention inside use every core.
class GradientPass {
 public:
  GradientPass(const Model& m, const ImportanceOptions& options)
      : m_(m), options_(options),
        projection_(options.all_estimates || projection_estimate()),
        cross_entropy_(options.all_estimates || !projection_estimate()) {}

  bool projection_estimate() const {
    return options_.gradient_estimate == GradientEstimate::Projection ||
           options_.gradient_estimate == GradientEstimate::TokenProjection;
  }

  // Backward passes one run() makes.
  int passes(const Calibration& calibration, bool with_references) const {
    return static_cast<int>(calibration.chunks.size()) *
           (int{cross_entropy_} + (projection_ ? probes() + int{with_references} : 0));
  }

  // `references`, when not null, holds each chunk's reference logits; `logits`, when not null,
  // receives each chunk's logits from the projection pass (so a first pass yields the references
  // of later ones); `done` counts backward passes across runs, for progress.
  PassResult run(Transformer& t, const Calibration& calibration, const std::vector<HeadGroup>& groups,
                 const std::vector<std::vector<float>>* references, std::vector<std::vector<float>>* logits, int& done,
                 int total) const {
    PassResult result;
    auto& sums = result.estimates;
    Scores signed_sum = empty_scores(m_.config);
    std::vector<double> group_sums(groups.size(), 0.0);
    const bool token_level = options_.gradient_estimate == GradientEstimate::TokenProjection;
    const int chunks = static_cast<int>(calibration.chunks.size());
    auto add = [&](GradientEstimate e, int l, int h, double v) {
      auto& s = sums.try_emplace(e, empty_scores(m_.config)).first->second;
      s[l][h] += v;
    };
    for (int c = 0; c < chunks; ++c) {
      if (cross_entropy_) {
        GateGradients g = gate_gradients(t, calibration.chunks[c]);
        for (int l = 0; l < m_.config.n_layers(); ++l) {
          const int n_heads = m_.config.layers[l].n_heads;
          for (int h = 0; h < n_heads; ++h) {
            double token_abs = 0.0, token_sq = 0.0;
            for (size_t i = h; i < g.by_row[l].size(); i += static_cast<size_t>(n_heads)) {
              token_abs += std::fabs(g.by_row[l][i]);
              token_sq += static_cast<double>(g.by_row[l][i]) * g.by_row[l][i];
            }
            const double d = g.gate[l][h];
            signed_sum[l][h] += d;
            add(GradientEstimate::ChunkAbs, l, h, std::fabs(d));
            add(GradientEstimate::ChunkFisher, l, h, d * d);
            add(GradientEstimate::TokenAbs, l, h, token_abs);
            add(GradientEstimate::TokenFisher, l, h, token_sq);
          }
        }
        if (options_.progress) options_.progress(++done, total);
      }
      if (projection_) {
        const uint64_t seed = options_.seed + static_cast<uint64_t>(c) * static_cast<uint64_t>(probes());
        std::vector<float>* kept = nullptr;
        if (logits != nullptr) kept = &logits->emplace_back();
        std::vector<GateGradients> grads = projection_gate_gradients(
            t, calibration.chunks[c], probes(), seed, references != nullptr ? &(*references)[c] : nullptr, kept);
        for (int p = 0; p < probes(); ++p) {
          const GateGradients& g = grads[p];
          for (int l = 0; l < m_.config.n_layers(); ++l) {
            const size_t n_heads = g.gate[l].size();
            for (size_t h = 0; h < n_heads; ++h) {
              add(GradientEstimate::Projection, l, h, g.gate[l][h] * g.gate[l][h] / probes());
              double token_sq = 0.0;
              for (size_t i = h; i < g.by_row[l].size(); i += n_heads) {
                token_sq += static_cast<double>(g.by_row[l][i]) * g.by_row[l][i];
              }
              add(GradientEstimate::TokenProjection, l, h, token_sq / probes());
            }
          }
          for (size_t k = 0; k < groups.size(); ++k) {
            group_sums[k] += group_gauss_newton(g, groups[k], token_level) / probes();
          }
          if (options_.progress) options_.progress(++done, total);
        }
        if (references != nullptr) {
          for (size_t k = 0; k < groups.size(); ++k) {
            for (int h : groups[k].heads) group_sums[k] -= 2.0 * grads.back().gate[groups[k].layer][h];
          }
          if (options_.progress) options_.progress(++done, total);
        }
      }
    }
    if (cross_entropy_) {
      for (int l = 0; l < m_.config.n_layers(); ++l) {
        for (size_t h = 0; h < signed_sum[l].size(); ++h) add(GradientEstimate::Taylor, l, h, std::fabs(signed_sum[l][h]));
      }
    }
    for (auto& [e, sum] : sums) {
      for (auto& layer : sum) {
        for (double& v : layer) v /= std::max(chunks, 1);
      }
    }
    result.group_costs.resize(groups.size());
    for (size_t k = 0; k < groups.size(); ++k) {
      if (projection_estimate()) {
        result.group_costs[k] = group_sums[k] / std::max(chunks, 1);
      } else {
        for (int h : groups[k].heads) result.group_costs[k] += sums[options_.gradient_estimate][groups[k].layer][h];
      }
    }
    return result;
  }

 private:
  int probes() const { return std::max(1, options_.projection_probes); }

  // One probe's sample of ‖P ∂logits/∂g‖² for the group's gates moved together: the square of
  // the heads' summed terms, per position (token level) or over the chunk.
  static double group_gauss_newton(const GateGradients& g, const HeadGroup& group, bool token_level) {
    const auto& rows = g.by_row[group.layer];
    const size_t n_heads = g.gate[group.layer].size();
    if (!token_level) {
      double sum = 0.0;
      for (int h : group.heads) sum += g.gate[group.layer][h];
      return sum * sum;
    }
    double total = 0.0;
    for (size_t row = 0; row < rows.size(); row += n_heads) {
      double sum = 0.0;
      for (int h : group.heads) sum += rows[row + h];
      total += sum * sum;
    }
    return total;
  }

  const Model& m_;
  const ImportanceOptions& options_;
  bool projection_, cross_entropy_;
};

// Scores every head with all gates open and orders key/value groups by the cost of closing
// each (PassResult::group_costs); with rounds > 1, each round removes the 1/rounds of the
// groups whose removal costs least, closes their gates and estimates the rest again, so that heads which only matter once
// others are gone are seen (Michel et al. 2019 prune iteratively). As in exact ablation, the
// cost is measured against the unpruned model's logits: past the first round the outputs have
// moved, so the first-order term −2 ∂D/∂g (backward.h) joins the Gauss-Newton one; without it,
// each round would measure damage against the already-pruned model and let errors add up.
class GradientScorer : public HeadScorer {
 public:
  HeadScores score(const Model& m, const Calibration& calibration, const ImportanceOptions& options) override {
    HeadScores s;
    s.method = ImportanceMethod::Gradient;
    GradientPass pass(m, options);
    Transformer t(m);
    std::vector<HeadGroup> remaining = all_groups(m.config);
    const int n_groups = static_cast<int>(remaining.size());
    const int rounds = std::clamp(options.gradient_rounds, 1, std::max(n_groups, 1));
    const int per_round = (n_groups + rounds - 1) / rounds;
    // Rounds past order_up_to only order groups that the plan keeps.
    const int ordered = static_cast<int>(std::ceil(std::clamp(options.order_up_to, 0.0, 1.0) * n_groups));
    const int rescored = rounds == 1 ? 0 : std::min(rounds - 1, (ordered + per_round - 1) / per_round);
    const bool with_references = rescored > 0 && pass.projection_estimate();
    int done = 0;
    const int total = pass.passes(calibration, false) + pass.passes(calibration, with_references) * rescored;

    // The unpruned model's logits, which later rounds measure distances from.
    std::vector<std::vector<float>> references;
    PassResult first = pass.run(t, calibration, remaining, nullptr, with_references ? &references : nullptr, done, total);
    for (const auto& [e, sum] : first.estimates) s.estimates[gradient_estimate_name(e)] = sum;
    s.raw = first.estimates[options.gradient_estimate];

    auto mask = t.head_mask();
    if (mask.empty()) {
      for (const auto& l : m.config.layers) mask.emplace_back(static_cast<size_t>(l.n_heads), 1.0f);
    }
    std::vector<double> costs = first.group_costs;
    for (int round = 0; !remaining.empty(); ++round) {
      for (size_t k = 0; k < remaining.size(); ++k) remaining[k].score = costs[k];
      std::stable_sort(remaining.begin(), remaining.end(),
                       [](const HeadGroup& a, const HeadGroup& b) { return a.score < b.score; });
      const bool last = round >= rescored;
      const size_t take = last ? remaining.size() : std::min<size_t>(per_round, remaining.size());
      for (size_t i = 0; i < take; ++i) {
        for (int h : remaining[i].heads) mask[remaining[i].layer][h] = 0.0f;
        s.removal_order.push_back(remaining[i]);
      }
      remaining.erase(remaining.begin(), remaining.begin() + static_cast<std::ptrdiff_t>(take));
      if (remaining.empty()) break;
      t.set_head_mask(mask);
      costs = pass.run(t, calibration, remaining, with_references ? &references : nullptr, nullptr, done, total).group_costs;
    }
    return s;
  }
};

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[order[k]] = (static_cast<double>(i) + static_cast<double>(j)) / 2.0;
    i = j + 1;
  }
  return r;
}

std::vector<double> flatten(const std::vector<std::vector<double>>& v) {
  std::vector<double> out;
  for (const auto& l : v) out.insert(out.end(), l.begin(), l.end());
  return out;
}

}  // namespace

double rank_agreement(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
  const std::vector<double> ra = ranks(flatten(a)), rb = ranks(flatten(b));
  const size_t n = ra.size();
  if (n < 2 || rb.size() != n) return 0.0;
  const double mean = (static_cast<double>(n) - 1.0) / 2.0;
  double cov = 0.0, va = 0.0, vb = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) * (ra[i] - mean);
    vb += (rb[i] - mean) * (rb[i] - mean);
  }
  return va > 0 && vb > 0 ? cov / std::sqrt(va * vb) : 0.0;
}

std::vector<HeadGroup> all_groups(const ModelConfig& c) {
  std::vector<HeadGroup> groups;
  for (int l = 0; l < c.n_layers(); ++l) {
    const auto& shape = c.layers[l];
    if (shape.n_heads == 0) continue;
    const int group = shape.n_heads / shape.n_kv_heads;
    for (int g = 0; g < shape.n_kv_heads; ++g) {
      HeadGroup hg{l, g, {}, 0.0};
      for (int h = g * group; h < (g + 1) * group; ++h) hg.heads.push_back(h);
      groups.push_back(std::move(hg));
    }
  }
  return groups;
}

const char* importance_name(ImportanceMethod method) {
  switch (method) {
    case ImportanceMethod::Magnitude: return "magnitude";
    case ImportanceMethod::Ablation: return "ablation";
    case ImportanceMethod::Activation: return "activation";
    case ImportanceMethod::Random: return "random";
    case ImportanceMethod::Gradient: return "gradient";
  }
  return "?";
}

const char* gradient_estimate_name(GradientEstimate estimate) {
  switch (estimate) {
    case GradientEstimate::Taylor: return "taylor";
    case GradientEstimate::ChunkAbs: return "chunk-abs";
    case GradientEstimate::ChunkFisher: return "chunk-fisher";
    case GradientEstimate::TokenAbs: return "token-abs";
    case GradientEstimate::TokenFisher: return "token-fisher";
    case GradientEstimate::Projection: return "projection";
    case GradientEstimate::TokenProjection: return "token-projection";
  }
  return "?";
}

Result<GradientEstimate> parse_gradient_estimate(const std::string& name) {
  for (auto e : {GradientEstimate::Taylor, GradientEstimate::ChunkAbs, GradientEstimate::ChunkFisher,
                 GradientEstimate::TokenAbs, GradientEstimate::TokenFisher, GradientEstimate::Projection,
                 GradientEstimate::TokenProjection}) {
    if (name == gradient_estimate_name(e)) return e;
  }
  return make_error("--gradient-estimate", "unknown estimate '" + name +
                                               "' (taylor, chunk-abs, chunk-fisher, token-abs, token-fisher, projection, token-projection)");
}

Result<ImportanceMethod> parse_importance(const std::string& name) {
  for (auto m : {ImportanceMethod::Magnitude, ImportanceMethod::Ablation, ImportanceMethod::Activation,
                 ImportanceMethod::Random, ImportanceMethod::Gradient}) {
    if (name == importance_name(m)) return m;
  }
  return make_error("--importance",
                    "unknown method '" + name + "' (magnitude, ablation, activation, random, gradient)");
}

void normalize_per_layer(HeadScores& scores) {
  scores.normalized = scores.raw;
  for (auto& layer : scores.normalized) {
    double max = 0.0;
    for (double v : layer) max = std::max(max, v);
    for (double& v : layer) v = max > 0.0 ? v / max : 0.0;
  }
}

HeadScores score_heads(ImportanceMethod method, const Model& model, const Calibration& calibration,
                       const ImportanceOptions& options) {
  auto start = Clock::now();
  HeadScores scores = make_scorer(method)->score(model, calibration, options);
  normalize_per_layer(scores);
  scores.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return scores;
}

std::unique_ptr<HeadScorer> make_scorer(ImportanceMethod method) {
  switch (method) {
    case ImportanceMethod::Magnitude: return std::make_unique<MagnitudeScorer>();
    case ImportanceMethod::Ablation: return std::make_unique<AblationScorer>();
    case ImportanceMethod::Activation: return std::make_unique<ActivationScorer>();
    case ImportanceMethod::Random: return std::make_unique<RandomScorer>();
    case ImportanceMethod::Gradient: return std::make_unique<GradientScorer>();
  }
  return nullptr;
}

}  // namespace lv
