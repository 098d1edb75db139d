#include "lightvault/compress/head_importance.h"

#include <chrono>
#include <cmath>
#include <random>

#include "lightvault/compress/ablation.h"

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

double abs_sum_cols(const Tensor& t, int64_t first_col, int64_t count) {
  std::vector<float> row(static_cast<size_t>(t.cols));
  double sum = 0.0;
  for (int64_t r = 0; r < t.rows; ++r) {
    dequantize_row(t, r, row.data());
    for (int64_t c = first_col; c < first_col + count; ++c) sum += std::fabs(row[c]);
  }
  return sum;
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
      for (int h = 0; h < shape.n_heads; ++h) {
        const int g = h / group;
        s.raw[l][h] = abs_sum_rows(w.wq, int64_t{h} * hd, hd) + abs_sum_cols(w.wo, int64_t{h} * hd, hd) +
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
      std::vector<float> wo = to_f32(m.layers[layer].wo);  // [dim, n_heads*hd]
      const int width = n_heads * hd;
      std::vector<double> sums(static_cast<size_t>(n_heads), 0.0);
#pragma omp parallel for schedule(static)
      for (int h = 0; h < n_heads; ++h) {
        std::vector<float> contribution(static_cast<size_t>(dim));
        double sum = 0.0;
        for (int i = 0; i < batch.size(); ++i) {
          const float* o = heads + int64_t{i} * width + h * hd;
          double norm2 = 0.0;
          for (int r = 0; r < dim; ++r) {
            const float* wrow = &wo[static_cast<size_t>(r) * width + h * hd];
            float acc = 0.0f;
            for (int d = 0; d < hd; ++d) acc += wrow[d] * o[d];
            norm2 += static_cast<double>(acc) * acc;
          }
          sum += std::sqrt(norm2);
        }
        sums[h] = sum;
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

}  // namespace

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
  }
  return "?";
}

Result<ImportanceMethod> parse_importance(const std::string& name) {
  for (auto m : {ImportanceMethod::Magnitude, ImportanceMethod::Ablation, ImportanceMethod::Activation,
                 ImportanceMethod::Random}) {
    if (name == importance_name(m)) return m;
  }
  return make_error("--importance", "unknown method '" + name + "' (magnitude, ablation, activation, random)");
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
  }
  return nullptr;
}

}  // namespace lv
