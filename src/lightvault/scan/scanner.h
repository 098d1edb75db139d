#pragma once
// The scan: rows in, flagged rows with reasons out.
//
// The decision rule (the default, --method all). Poisoning plants, inside one target label, a
// group of samples that really belong to other labels and share a trigger. A group is flagged
// when all of these hold:
//   1. it is a cluster of its label: spectral clustering of the label's own kNN graph
//      (eigengap k, k-means++ on the normalized-Laplacian embedding) sets it apart;
//   2. it is a minority of its label (under half) and cut off from the rest of it
//      (conductance <= --max-conductance 0.05 in the label's graph);
//   3. it belongs elsewhere: its members' median ratio of the mean distance to their 10
//      nearest rows of their own label outside the cluster over the mean distance to their 10
//      nearest rows of other labels exceeds --ratio 1.3. A natural style of a digit clusters
//      too, and may even be cut off, but its rows are not that much nearer other classes.
// Within a flagged group, members nearer their own label (ratio <= 1) are left alone.
// Spectral signatures and activation clustering are computed for every label and reported
// beside each flag as evidence; on their own (--method signature|activation) they flag a share
// of every label, poisoned or not. Without labels only a cluster under --small-cluster of the
// rows with conductance under 0.1 is flagged.
// Known blind spots (bench/scan/detection.md): a group that outnumbers its label's clean rows
// (10% poison of digits into one class) is not a minority and is missed; so is a group that
// the representation does not set apart (the hidden activations of a network that learned
// the trigger map it onto its target class).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lightvault/scan/dataset.h"
#include "lightvault/scan/knn.h"
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
  double ratio = 1.3;          // ... and its median distance ratio (own label / other labels) exceed this
  double expected_poison = 0.05;  // Tran et al.'s eps for --method signature
  uint64_t seed = 1;
  int64_t exact_knn_limit = kExactKnnLimit;
  // Called as long steps advance: (step name, done, total).
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};

struct ClusterSummary {
  std::string scope;          // "all" for the whole data set, else the label
  int id = 0;
  int64_t size = 0;
  double share = 0;           // of its scope
  double conductance = 0;     // in its scope's kNN graph
  double ratio = -1;          // median distance ratio of its members (own label / other labels); -1 unmeasured
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
};

Result<ScanReport> run_scan(const Dataset& data, const ScanOptions& options);

}  // namespace lv::scan
