#pragma once
// The scan: rows in, flagged rows with reasons out.
//
// The decision rule (the default, --method all). Poisoning plants, inside one target label, a
// group of samples that really belong to other labels and share a trigger. Per label:
//   1. candidate groups: the label's spectral clusters (its own kNN graph, eigengap k,
//      k-means++ on the normalized-Laplacian embedding) that are cut off from the rest of it
//      (conductance <= --max-conductance 0.05), and the clusters of k-means partitions of the
//      label into 2, 3 and 4 parts (a small group can hide inside a spectral cluster, and poison
//      that is half of its label is not a minority);
//   2. the shift check (shift_check.h) on each group of 5 or more rows: stripped of the shift
//      its members share, do they sit among other labels? A group is flagged when its median
//      shift ratio is under --ratio 1.0 (0.8 x --ratio for a 3- or 4-means group) and under 0.9
//      times that of a random group of its size from the same label (chance), or when it is one
//      half of the label's 2-means split with a ratio under 0.7 times the other half's and
//      either under 1.15 or cut off from the other half (conductance <= --max-conductance);
//   3. the flagged group's shift is tried on every row of the label (when rows x n <= 2e8) and
//      rows whose own ratio falls under --ratio join it: members the clustering put elsewhere.
// Why it leaves clean data alone: a natural style of a class clusters and may be cut off, but
// no single shift turns its members into rows of other labels; on clean digits (pixels and a
// classifier's activations) cut-off clusters and 2-means halves have ratios of 1.1 or more,
// small 3- and 4-means groups 0.87 or more, and 2-means halves differ by less than a factor
// 0.75 (bench/scan/detection.md).
// Spectral signatures and activation clustering are computed for every label and reported
// beside each flag as evidence; on their own (--method signature|activation) they flag a share
// of every label, poisoned or not. --method spectral judges the spectral clusters alone.
// Without labels only a cluster under --small-cluster of the rows with conductance under 0.1
// is flagged.
// Known blind spots: a trigger that the representation does not carry (its rows land exactly
// on their target class) leaves no shift to find. Labels the representation does not separate
// put every group's ratio near 1: on TinyStories embedded by stories260K (labels girl/boy
// protagonist, 10-NN label agreement 0.82) clean labels' groups measure 0.98 to 1.07, and
// before the chance comparison a clean 2-means half was flagged (33-46% of the stories;
// bench/scan/stories.md shows none). A trigger sentence there moves its samples only part of
// the way towards each other, too little for a cut-off cluster without labels, and the
// labelled rule finds none of them either: for text, the repeated-sentence check
// (repeated_sentences.h, joined by add_repeated_sentences) is what finds a trigger sentence.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lightvault/scan/dataset.h"
#include "lightvault/scan/knn.h"
#include "lightvault/scan/repeated_sentences.h"
#include "lightvault/util/status.h"

namespace lv::scan {

enum class Method { kAll, kSpectral, kSignature, kActivation };
Result<Method> parse_method(const std::string& name);
const char* method_name(Method method);

struct ScanOptions {
  Method method = Method::kAll;
  int neighbours = 10;         // k of the kNN graphs
  int clusters = 0;            // 0: by the eigengap, up to max_clusters
  int max_clusters = 10;
  double small_cluster = 0.05; // share of the rows under which a cluster is a candidate
  double max_conductance = 0.05;  // a candidate must be cut off from its label at least this well
  double ratio = 1.0;          // a group is flagged when its median shift ratio is under this (shift_check.h)
  double expected_poison = 0.05;  // Tran et al.'s eps for --method signature
  uint64_t seed = 1;
  int64_t exact_knn_limit = kExactKnnLimit;
  // Called as long steps advance: (step name, done, total).
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};

struct ClusterSummary {
  std::string scope;          // "all" for the whole data set, else the label
  std::string source = "spectral";  // the clustering that proposed it: spectral or K-means
  int id = 0;
  int64_t size = 0;
  double share = 0;           // of its scope
  double conductance = 0;     // in its scope's kNN graph
  double ratio = -1;          // median shift ratio of its members (see shift_check.h); -1 unmeasured
  bool candidate = false;
  bool flagged = false;
  std::string why;
};

struct FlaggedRow {
  int64_t index = 0;
  double score = 0;
  std::vector<std::string> reasons;
};

struct ScanReport {
  int64_t n = 0;
  int dim = 0;
  std::string method;
  std::string rule;                       // the decision rule in one paragraph
  std::vector<double> eigenvalues;        // of the whole data set's Laplacian, ascending
  int global_clusters = 0;
  std::vector<int> assignment;            // global cluster of each row
  std::vector<float> embedding;           // n * 2: the first two non-trivial eigenvectors
  std::vector<int> labels;                // copy of the data's label ids (may be empty)
  std::vector<std::string> label_names;
  std::vector<ClusterSummary> clusters;
  std::vector<FlaggedRow> flagged;        // ascending index
  std::vector<std::string> suspicious_labels;
  std::vector<RepeatedSentence> repeated_sentences;  // text input only (repeated_sentences.h)
};

Result<ScanReport> run_scan(const Dataset& data, const ScanOptions& options);

// For text input: keeps `repeated` in the report and flags each flagged sentence's
// flagged_samples, with the sentence as their reason. With labels, a label that at least 90% of
// them share becomes suspicious (a backdoor's target).
void add_repeated_sentences(std::vector<RepeatedSentence> repeated, ScanReport& report);

}  // namespace lv::scan
