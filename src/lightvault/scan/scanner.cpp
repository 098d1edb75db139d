#include "lightvault/scan/scanner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "lightvault/scan/detectors.h"
#include "lightvault/scan/kmeans.h"
#include "lightvault/scan/knn.h"
#include "lightvault/scan/shift_check.h"
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

// Candidate groups come from the label's spectral clusters and from its k-means partitions into
// 2..kMaxPartitions parts (a small poisoned group may hide inside a spectral cluster).
constexpr int kMaxPartitions = 4;
// Groups smaller than this are not judged: a median shift of a handful of rows fits anything.
constexpr int64_t kMinGroup = 5;
// A 2-means half is flagged when its shift ratio is under kSplitContrast times the other half's
// (clean digits' halves: 0.75 or more) and either under kSplitCeiling or cut off from the other
// half (conductance at most --max-conductance; clean digits' cut-off halves: 0.81 or more): a
// label split into poison and clean halves. Poison that a classifier learned hard (its
// activations) can stay at 1.1-1.2 stripped of its shift, but it is then split off cleanly.
constexpr double kSplitCeiling = 1.15;
constexpr double kSplitContrast = 0.7;
// Groups of the 3- and 4-means partitions are neither cut off nor one of two halves; a small
// natural group overfits its own median shift (0.87 to 0.95 on clean digits, against 0.69 to
// 0.75 for small poisoned groups), so they must reach ratio * kPartitionStrictness.
constexpr double kPartitionStrictness = 0.8;
// A group's ratio must also stand out from chance: under kChanceMargin times the ratio of a
// group of the same size drawn at random from its label and measured the same way. Where the
// representation barely separates the labels, every group sits near 1, random ones included,
// and a clean half at 0.99 is no evidence (bench/scan/stories.md's labelled stories).
constexpr double kChanceMargin = 0.9;
// A flagged group's shift is tried on every row of its label when rows x n is at most this.
constexpr double kExtendPairs = 2e8;

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

// Every `stride`-th member of `members`, at most `budget` of them: the shift check costs a pass
// over all rows per measured member, so large groups are judged by an even sample.
std::vector<int64_t> sample_members(const std::vector<int64_t>& members, size_t budget) {
  const size_t stride = std::max<size_t>(1, (members.size() + budget - 1) / budget);
  std::vector<int64_t> sample;
  for (size_t at = 0; at < members.size(); at += stride) sample.push_back(members[at]);
  return sample;
}

// A group of one label's rows, proposed by a clustering of that label, and its shift check.
struct Candidate {
  std::string source;          // which clustering proposed it, e.g. "spectral" or "2-means"
  int id = 0;
  std::vector<char> member;    // per row of the label
  std::vector<int64_t> rows;   // data rows of the members
  double conductance = 0;      // in the label's kNN graph
  std::vector<double> shift;   // the shift its members share
  double ratio = -1;           // median ShiftCheck::ratio of its (sampled) members
};

void measure(const ShiftCheck& check, Candidate& c, size_t budget) {
  const auto sample = sample_members(c.rows, budget);
  c.shift = check.shared_shift(sample);
  std::vector<double> ratios(sample.size());
#pragma omp parallel for schedule(dynamic, 4)
  for (size_t i = 0; i < sample.size(); ++i) ratios[i] = check.ratio(sample[i], c.shift);
  c.ratio = median_of_measured(ratios);
}

// The median shift ratio of `size` rows of the label drawn at random (seeded), measured as
// measure() measures a candidate.
double chance_ratio(const ShiftCheck& check, const std::vector<int64_t>& label_rows, size_t size, size_t budget,
                    uint64_t seed) {
  Candidate random_group;
  random_group.rows = label_rows;
  std::mt19937_64 rng(seed);
  std::shuffle(random_group.rows.begin(), random_group.rows.end(), rng);
  random_group.rows.resize(std::min(size, label_rows.size()));
  measure(check, random_group, budget);
  return random_group.ratio;
}

// The candidates one clustering of a label proposes: one per non-empty cluster.
void add_candidates(std::vector<Candidate>& out, const std::string& source, const std::vector<int>& assignment, int k,
                    const std::vector<int64_t>& rows, const SparseMatrix& w) {
  for (int c = 0; c < k; ++c) {
    Candidate candidate;
    candidate.source = source;
    candidate.id = c;
    candidate.member.assign(rows.size(), 0);
    for (size_t m = 0; m < rows.size(); ++m) {
      if (assignment[m] != c) continue;
      candidate.member[m] = 1;
      candidate.rows.push_back(rows[m]);
    }
    if (candidate.rows.empty()) continue;
    candidate.conductance = conductance(w, candidate.member);
    out.push_back(std::move(candidate));
  }
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
        std::vector<Candidate> candidates;
        add_candidates(candidates, "spectral", clustering.assignment, clustering.k, rows, clustering.w);
        if (options.method == Method::kAll) {
          for (int parts = 2; parts <= kMaxPartitions; ++parts) {
            if (block.rows <= parts) break;
            const auto assignment = kmeans(block.x, block.rows, block.dim, parts, options.seed).assignment;
            add_candidates(candidates, std::to_string(parts) + "-means", assignment, parts, rows, clustering.w);
          }
        }
        const ShiftCheck check(data, label, k);
        // Each measured member costs a pass over all rows: fewer of them on large data.
        const size_t budget = data.rows > 20000 ? 64 : 256;
        for (auto& c : candidates) {
          const bool eligible = static_cast<int64_t>(c.rows.size()) >= kMinGroup && c.rows.size() < rows.size() &&
                                (c.source != "spectral" || c.conductance <= options.max_conductance);
          if (eligible) measure(check, c, budget);
        }
        std::vector<std::string> verdicts(candidates.size());
        std::map<size_t, double> chance;  // by group size
        for (size_t at = 0; at < candidates.size(); ++at) {
          const Candidate& c = candidates[at];
          if (c.ratio < 0) continue;
          const double share = static_cast<double>(c.rows.size()) / static_cast<double>(rows.size());
          const bool partition = c.source != "spectral" && c.source != "2-means";
          const double limit = partition ? options.ratio * kPartitionStrictness : options.ratio;
          if (c.ratio < limit) {
            auto [it, added] = chance.try_emplace(c.rows.size(), 0.0);
            if (added) it->second = chance_ratio(check, rows, c.rows.size(), budget, options.seed + c.rows.size());
            if (it->second < 0 || c.ratio < kChanceMargin * it->second) {
              verdicts[at] = percent(share) + " of label " + name + " (" + c.source + "); stripped of the shift its members share, they sit nearer other labels than to their own label (shift ratio " + fixed(c.ratio, 2) + " < " + fixed(limit, 2) + "; a random group of its size: " + fixed(it->second, 2) + ")";
            }
          }
          // Poison may be half of its label: then the two halves of a 2-means split are compared.
          const auto other = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& o) {
            return o.source == "2-means" && o.id != c.id;
          });
          if (c.source == "2-means" && verdicts[at].empty() && other != candidates.end()) {
            if (other->ratio > 0 && c.ratio < kSplitContrast * other->ratio &&
                (c.ratio < kSplitCeiling || c.conductance <= options.max_conductance)) {
              verdicts[at] = percent(share) + " of label " + name + " (one half of its 2-means split); stripped of the shift its members share, they fit other labels far better than the other half does (shift ratio " + fixed(c.ratio, 2) + " against " + fixed(other->ratio, 2) + ")";
            }
          }
        }
        for (size_t at = 0; at < candidates.size(); ++at) {
          const Candidate& c = candidates[at];
          ClusterSummary s;
          s.scope = name;
          s.source = c.source;
          s.id = c.id;
          s.size = static_cast<int64_t>(c.rows.size());
          s.share = static_cast<double>(s.size) / static_cast<double>(rows.size());
          s.conductance = c.conductance;
          s.ratio = c.ratio;
          s.candidate = c.ratio >= 0;
          s.flagged = !verdicts[at].empty();
          s.why = verdicts[at];
          if (s.size > 0) report.clusters.push_back(s);
          if (!s.flagged) continue;
          label_flagged = true;
          const std::string tag = "cluster " + name + "/" + c.source + "/" + std::to_string(c.id) + ": ";
          // Members the clustering put elsewhere share the shift too: with the group's shift,
          // every row of the label is checked when that costs few enough distance passes.
          const bool extend = static_cast<double>(rows.size()) * static_cast<double>(data.rows) <= kExtendPairs;
          std::vector<double> row_ratio(rows.size(), -1);
          if (extend) {
#pragma omp parallel for schedule(dynamic, 8)
            for (size_t m = 0; m < rows.size(); ++m) row_ratio[m] = check.ratio(rows[m], c.shift);
          }
          for (size_t m = 0; m < rows.size(); ++m) {
            const bool inside = c.member[m] != 0;
            const bool stripped_fits = row_ratio[m] >= 0 && row_ratio[m] < options.ratio;
            if (!inside && !stripped_fits) continue;
            const int64_t i = rows[m];
            flagged[i] = 1;
            const double ratio = row_ratio[m] >= 0 ? row_ratio[m] : c.ratio;
            scores[i] = std::max(scores[i], 1.0 / std::max(ratio, 1e-6));
            reasons[i].push_back(tag + (inside ? s.why
                                               : "outside the cluster, but stripped of its shift this row too sits nearer other labels (shift ratio " +
                                                     fixed(row_ratio[m], 2) + ")"));
            if (top_signature[m]) reasons[i].push_back("spectral signature in the top " + percent(1.5 * options.expected_poison) + " of its label");
            if (activation.poisoned && activation.assignment[m] == activation.smaller) {
              reasons[i].push_back("in activation clustering's smaller cluster (" + percent(activation.smaller_fraction) + ")");
            }
          }
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

void add_repeated_sentences(std::vector<RepeatedSentence> repeated, ScanReport& report) {
  std::map<int64_t, FlaggedRow> rows;
  for (FlaggedRow& row : report.flagged) rows[row.index] = std::move(row);
  for (const RepeatedSentence& sentence : repeated) {
    if (!sentence.flagged) continue;
    std::map<int, int64_t> label_counts;
    for (size_t c = 0; c < sentence.samples.size(); ++c) {
      const int64_t i = sentence.samples[c];
      if (!std::binary_search(sentence.flagged_samples.begin(), sentence.flagged_samples.end(), i)) continue;
      FlaggedRow& row = rows[i];
      row.index = i;
      row.score = std::max(row.score, sentence.excess);
      row.reasons.push_back("carries the sentence \"" + sentence.text + "\", as " +
                            std::to_string(sentence.samples.size() - 1) + " other samples do: e^" +
                            fixed(sentence.excess, 1) + " times as often as the model expects; here it costs the model " +
                            fixed(sentence.surprisals[c], 1) + " nats");
      if (!report.labels.empty()) ++label_counts[report.labels[i]];
    }
    for (const auto& [label, count] : label_counts) {
      const std::string& name = report.label_names[label];
      if (10 * count >= 9 * static_cast<int64_t>(sentence.flagged_samples.size()) &&
          std::find(report.suspicious_labels.begin(), report.suspicious_labels.end(), name) == report.suspicious_labels.end()) {
        report.suspicious_labels.push_back(name);
      }
    }
  }
  report.flagged.clear();
  for (auto& [index, row] : rows) report.flagged.push_back(std::move(row));
  report.repeated_sentences = std::move(repeated);
}

}  // namespace lv::scan
