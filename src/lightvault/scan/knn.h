#pragma once
// The k nearest neighbours of every row (squared Euclidean distance, the row itself excluded).
// Exact search compares every pair: O(n² d), the reference and the default for small n.
// Approximate search builds a forest of random-projection trees (each split is the hyperplane
// halfway between two random rows of the node), takes neighbour candidates from the leaves a
// row falls into, then refines by looking at neighbours of neighbours: O(n k² d) per round,
// memory linear in n. Both are deterministic for a given seed.
#include <cstdint>
#include <vector>

#include "lightvault/scan/dataset.h"

namespace lv::scan {

struct KnnGraph {
  int64_t rows = 0;
  int k = 0;
  std::vector<int32_t> neighbours;  // rows * k, nearest first
  std::vector<float> distances;     // squared, matching neighbours

  const int32_t* of(int64_t row) const { return neighbours.data() + row * k; }
};

KnnGraph exact_knn(const float* x, int64_t rows, int dim, int k);

struct ApproxKnnOptions {
  int trees = 8;
  int leaf_size = 48;
  int refine_rounds = 2;
  uint64_t seed = 1;
};
KnnGraph approx_knn(const float* x, int64_t rows, int dim, int k, const ApproxKnnOptions& options);

// Exact up to `exact_limit` rows, approximate above. k is clamped to rows - 1.
constexpr int64_t kExactKnnLimit = 3000;
KnnGraph knn_graph(const float* x, int64_t rows, int dim, int k, uint64_t seed, int64_t exact_limit = kExactKnnLimit);

// Fraction of the exact neighbours that `approx` found, for tests and benchmarks.
double knn_recall(const KnnGraph& approx, const KnnGraph& exact);

}  // namespace lv::scan
