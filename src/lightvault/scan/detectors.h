#pragma once
// The two classic per-label poisoning detectors, on the rows of one label.
//   Spectral signatures (Tran, Li and Madry 2018): centre the rows, take the top right
//   singular vector v of the centred matrix; a row's score is ((x - mean) · v)².
//   Activation clustering (Chen et al. 2018, as IBM's adversarial-robustness-toolbox runs it):
//   reduce the rows to 10 dimensions, split them by 2-means, and call the smaller cluster
//   poisoned when it holds under 35% of the label. ART reduces with FastICA; this reduces with
//   PCA (the top principal directions), which needs no iteration to converge.
#include <cstdint>
#include <vector>

namespace lv::scan {

// rows x dim, row-major doubles (one label's samples).
struct Block {
  std::vector<double> x;
  int64_t rows = 0;
  int dim = 0;
};

// The top `count` principal directions (unit vectors, by decreasing variance) of the centred
// rows, by the dense symmetric eigensolver on the dim x dim covariance.
std::vector<std::vector<double>> principal_directions(const Block& block, int count);

// ((x - mean) · v)² for each row, v the top principal direction.
std::vector<double> signature_scores(const Block& block);

// Rows whose score is above the (1 - 1.5 eps) quantile: Tran et al.'s removal rule.
std::vector<char> signature_flags(const std::vector<double>& scores, double expected_poison);

struct ActivationClusters {
  std::vector<int> assignment;  // 0 or 1 per row
  int smaller = 0;              // the cluster with fewer rows
  double smaller_fraction = 0;  // its share of the label
  bool poisoned = false;        // smaller_fraction < size_threshold
};
ActivationClusters activation_clustering(const Block& block, uint64_t seed, int dims = 10, double size_threshold = 0.35);

}  // namespace lv::scan
