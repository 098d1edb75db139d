#pragma once
// k-means on rows of doubles: k-means++ seeding (Arthur and Vassilvitskii 2007), then Lloyd
// iterations until no assignment changes; the best of `restarts` runs by inertia. The same
// seed gives the same clustering.
#include <cstdint>
#include <vector>

namespace lv::scan {

struct KMeansResult {
  std::vector<int> assignment;    // cluster of each row, 0..k-1
  std::vector<double> centroids;  // k * dim
  double inertia = 0;             // sum of squared distances to the assigned centroid
};

KMeansResult kmeans(const std::vector<double>& x, int64_t rows, int dim, int k, uint64_t seed, int restarts = 4,
                    int max_iterations = 300);

// Sum of squared distances of each row to the mean of its cluster: what k-means minimizes.
double clustering_inertia(const std::vector<double>& x, int64_t rows, int dim, const std::vector<int>& assignment, int k);

}  // namespace lv::scan
