#include "lightvault/scan/scanner.h"

#include <algorithm>
#include <cmath>

#include "lightvault/scan/detectors.h"
#include "lightvault/scan/kmeans.h"
#include "lightvault/scan/knn.h"
#include "lightvault/scan/spectral.h"

namespace lv::scan {

Result<Method> parse_method(const std::string& name) {
  if (name == "all") return Method::kAll;
  if (name == "spectral") return Method::kSpectral;
  if (name == "signature") return Method::kSignature;
  if (name == "activation") return Method::kActivation;
  return make_error("--method", "'" + name + "' is not one of spectral, signature, activation, all");
}

const char* method_name(Method method) {
  switch (method) {
    case Method::kSpectral: return "spectral";
    case Method::kSignature: return "signature";
    case Method::kActivation: return "activation";
    default: return "all";
  }
}

namespace {

struct Clustering {
  SparseMatrix w;
  Eigenpairs pairs;
  int k = 1;
  std::vector<int> assignment;
};

// Spectral clustering of one graph: eigenpairs, k (given or by eigengap), k-means++.
Result<Clustering> spectral_clusters(const KnnGraph& graph, const ScanOptions& options) {
  Clustering c;
  const int64_t n = graph.rows;
  c.w = affinity(graph);
  const int wanted = options.clusters > 0 ? options.clusters : options.max_clusters;
  const int count = static_cast<int>(std::min<int64_t>(n - 1, std::max(wanted + 1, 3)));
  LV_ASSIGN_OR_RETURN(c.pairs, smallest_laplacian_eigenpairs(c.w, count));
  c.k = options.clusters > 0 ? options.clusters : eigengap_clusters(c.pairs.values, std::min(options.max_clusters, count - 1));
  c.k = static_cast<int>(std::min<int64_t>(c.k, n));
  const auto embedding = spectral_embedding(c.pairs, c.k);
  c.assignment = kmeans(embedding, n, std::min<int>(c.k, static_cast<int>(c.pairs.vectors.size())), c.k, options.seed).assignment;
  return c;
}

// Median of the non-negative entries; -1 when there are none.
double median_of_measured(const std::vector<double>& values) {
  std::vector<double> measured;
  for (double v : values) {
    if (v >= 0) measured.push_back(v);
  }
  if (measured.empty()) return -1;
  std::nth_element(measured.begin(), measured.begin() + static_cast<std::ptrdiff_t>(measured.size() / 2), measured.end());
  return measured[measured.size() / 2];
}

Block gather(const Dataset& data, const std::vector<int64_t>& rows) {
  Block b;
  b.rows = static_cast<int64_t>(rows.size());
  b.dim = data.dim;
  b.x.reserve(rows.size() * static_cast<size_t>(data.dim));
  for (int64_t r : rows) b.x.insert(b.x.end(), data.row(r), data.row(r) + data.dim);
  return b;
}

std::string percent(double share) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100 * share);
  return buffer;
}

std::string fixed(double value, int digits = 3) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

// How much nearer a member of a cluster is to other labels than to the rest of its own: the
// mean distance to its m nearest rows of its label outside the cluster over the mean distance
// to its m nearest rows of other labels. -1 when either side is empty.
double distance_ratio(const Dataset& data, int64_t row, const std::vector<char>& inside, int label, int m) {
  std::vector<float> own, other;
  const float* x = data.row(row);
  for (int64_t j = 0; j < data.rows; ++j) {
    if (inside[j]) continue;
    const float* y = data.row(j);
    float d = 0;
    for (int t = 0; t < data.dim; ++t) d += (x[t] - y[t]) * (x[t] - y[t]);
    (data.labels[j] == label ? own : other).push_back(d);
  }
  if (own.empty() || other.empty()) return -1;
  auto mean_of_nearest = [m](std::vector<float>& d) {
    const size_t take = std::min(d.size(), static_cast<size_t>(m));
    std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(take), d.end());
    double sum = 0;
    for (size_t i = 0; i < take; ++i) sum += std::sqrt(static_cast<double>(d[i]));
    return sum / static_cast<double>(take);
  };
  const double to_other = mean_of_nearest(other);
  return to_other > 0 ? mean_of_nearest(own) / to_other : 1e9;
}

// distance_ratio for the members of a cluster. Exact search costs n d per member, so a large
// cluster measures an evenly spaced sample of `budget` members and the others get its median.
std::vector<double> distance_ratios(const Dataset& data, const std::vector<int64_t>& cluster, int label, int m, size_t budget) {
  std::vector<char> inside(static_cast<size_t>(data.rows), 0);
  for (int64_t r : cluster) inside[r] = 1;
  constexpr double kUnmeasured = -2;
  std::vector<double> ratios(cluster.size(), kUnmeasured);
  const size_t stride = std::max<size_t>(1, (cluster.size() + budget - 1) / budget);
#pragma omp parallel for schedule(dynamic, 4)
  for (size_t at = 0; at < cluster.size(); at += stride) ratios[at] = distance_ratio(data, cluster[at], inside, label, m);
  if (stride > 1) {
    const double fill = median_of_measured(ratios);
    for (double& r : ratios) {
      if (r == kUnmeasured) r = fill;
    }
  }
  return ratios;
}

}  // namespace

Result<ScanReport> run_scan(const Dataset& data, const ScanOptions& options) {
  LV_RETURN_IF_ERROR(check_scannable(data));
  auto progress = [&](const std::string& step, int64_t done, int64_t total) {
    if (options.progress) options.progress(step, done, total);
  };
  ScanReport report;
  report.n = data.rows;
  report.dim = data.dim;
  report.method = method_name(options.method);
  report.labels = data.labels;
  report.label_names = data.label_names;
  const int k = std::max(2, options.neighbours);

  // The whole data set, for the view and, without labels, for small cut-off clusters.
  progress("kNN graph", 0, 1);
  const KnnGraph graph = knn_graph(data.values.data(), data.rows, data.dim, k, options.seed, options.exact_knn_limit);
  progress("kNN graph", 1, 1);
  progress("spectral embedding", 0, 1);
  LV_ASSIGN_OR_RETURN(Clustering global, spectral_clusters(graph, options));
  progress("spectral embedding", 1, 1);
  report.eigenvalues = global.pairs.values;
  report.global_clusters = global.k;
  report.assignment = global.assignment;
  report.embedding.resize(static_cast<size_t>(data.rows) * 2, 0.0f);
  for (int64_t i = 0; i < data.rows; ++i) {
    for (int d = 0; d < 2 && d + 1 < static_cast<int>(global.pairs.vectors.size()); ++d) {
      report.embedding[i * 2 + d] = static_cast<float>(global.pairs.vectors[d + 1][i]);
    }
  }
  std::vector<std::vector<std::string>> reasons(static_cast<size_t>(data.rows));
  std::vector<double> scores(static_cast<size_t>(data.rows), 0.0);
  std::vector<char> flagged(static_cast<size_t>(data.rows), 0);

  for (int c = 0; c < global.k; ++c) {
    ClusterSummary s;
    s.scope = "all";
    s.id = c;
    std::vector<char> member(static_cast<size_t>(data.rows));
    for (int64_t i = 0; i < data.rows; ++i) member[i] = global.assignment[i] == c;
    s.size = std::count(member.begin(), member.end(), 1);
    s.share = static_cast<double>(s.size) / static_cast<double>(data.rows);
    s.conductance = conductance(global.w, member);
    s.candidate = s.share < options.small_cluster;
    if (s.candidate && !data.has_labels() && s.conductance < 0.1 &&
        (options.method == Method::kAll || options.method == Method::kSpectral)) {
      s.flagged = true;
      s.why = "small (" + percent(s.share) + " of rows) and cut off (conductance " + fixed(s.conductance) + ")";
      for (int64_t i = 0; i < data.rows; ++i) {
        if (!member[i]) continue;
        flagged[i] = 1;
        scores[i] = 1.0 - s.conductance;
        reasons[i].push_back("cluster all/" + std::to_string(c) + ": " + s.why);
      }
    }
    report.clusters.push_back(s);
  }

  if (data.has_labels()) {
    const int label_count = static_cast<int>(data.label_names.size());
    std::vector<std::vector<int64_t>> rows_of(static_cast<size_t>(label_count));
    for (int64_t i = 0; i < data.rows; ++i) rows_of[data.labels[i]].push_back(i);
    for (int label = 0; label < label_count; ++label) {
      progress("per-label tests", label, label_count);
      const auto& rows = rows_of[label];
      const std::string& name = data.label_names[label];
      if (rows.size() < 8) continue;  // too few to cluster or to centre
      const Block block = gather(data, rows);
      const auto signature = signature_scores(block);
      const auto top_signature = signature_flags(signature, options.expected_poison);
      const auto activation = activation_clustering(block, options.seed);
      bool label_flagged = false;
      if (options.method == Method::kSignature) {
        for (size_t m = 0; m < rows.size(); ++m) {
          if (!top_signature[m]) continue;
          flagged[rows[m]] = 1;
          scores[rows[m]] = signature[m];
          reasons[rows[m]].push_back("spectral signature in the top " + percent(1.5 * options.expected_poison) + " of label " + name);
          label_flagged = true;
        }
      }
      if (options.method == Method::kActivation && activation.poisoned) {
        for (size_t m = 0; m < rows.size(); ++m) {
          if (activation.assignment[m] != activation.smaller) continue;
          flagged[rows[m]] = 1;
          scores[rows[m]] = 1.0 - activation.smaller_fraction;
          reasons[rows[m]].push_back("activation clustering: smaller 2-means cluster (" + percent(activation.smaller_fraction) +
                                     ") of label " + name);
          label_flagged = true;
        }
      }
      if (options.method == Method::kAll || options.method == Method::kSpectral) {
        std::vector<float> xs(block.x.begin(), block.x.end());
        const KnnGraph graph = knn_graph(xs.data(), block.rows, block.dim, k, options.seed, options.exact_knn_limit);
        LV_ASSIGN_OR_RETURN(Clustering clustering, spectral_clusters(graph, options));
        for (int c = 0; c < clustering.k; ++c) {
          ClusterSummary s;
          s.scope = name;
          s.id = c;
          std::vector<char> member(rows.size());
          std::vector<int64_t> members;
          for (size_t m = 0; m < rows.size(); ++m) {
            member[m] = clustering.assignment[m] == c;
            if (member[m]) members.push_back(rows[m]);
          }
          s.size = static_cast<int64_t>(members.size());
          if (s.size == 0) continue;
          s.share = static_cast<double>(s.size) / static_cast<double>(rows.size());
          s.conductance = conductance(clustering.w, member);
          s.candidate = s.share < 0.5;
          // Each measured member costs a pass over all rows: fewer of them on large data.
          const auto ratios = distance_ratios(data, members, label, k, data.rows > 20000 ? 64 : 256);
          s.ratio = median_of_measured(ratios);
          if (s.candidate && s.conductance <= options.max_conductance && s.ratio > options.ratio) {
            s.flagged = true;
            label_flagged = true;
            s.why = percent(s.share) + " of label " + name + ", cut off from it (conductance " + fixed(s.conductance) +
                    "), and nearer other labels than the rest of its own (median distance ratio " + fixed(s.ratio, 2) + ")";
            for (size_t m = 0, at = 0; m < rows.size(); ++m) {
              if (!member[m]) continue;
              const double ratio = ratios[at++];
              if (ratio >= 0 && ratio <= 1.0) continue;  // this member sits nearer its own label
              const int64_t i = rows[m];
              flagged[i] = 1;
              scores[i] = std::max(ratio, 0.0);
              reasons[i].push_back("cluster " + name + "/" + std::to_string(c) + ": " + s.why);
              if (top_signature[m]) reasons[i].push_back("spectral signature in the top " + percent(1.5 * options.expected_poison) + " of its label");
              if (activation.poisoned && activation.assignment[m] == activation.smaller) {
                reasons[i].push_back("in activation clustering's smaller cluster (" + percent(activation.smaller_fraction) + ")");
              }
            }
          }
          report.clusters.push_back(s);
        }
      }
      if (label_flagged) report.suspicious_labels.push_back(name);
    }
    progress("per-label tests", label_count, label_count);
  }
  for (int64_t i = 0; i < data.rows; ++i) {
    if (flagged[i]) report.flagged.push_back(FlaggedRow{i, scores[i], std::move(reasons[i])});
  }
  return report;
}

}  // namespace lv::scan
