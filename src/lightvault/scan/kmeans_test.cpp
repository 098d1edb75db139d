#include "lightvault/scan/kmeans.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace lv::scan {
namespace {

TEST(ScanKMeans, FindsTheOptimalTwoClusteringOfSmallSets) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 1);
  for (int trial = 0; trial < 5; ++trial) {
    const int n = 10, dim = 2;
    std::vector<double> x(n * dim);
    for (int i = 0; i < n; ++i) {
      for (int d = 0; d < dim; ++d) x[i * dim + d] = noise(rng) + (i < 4 ? 4.0 : 0.0);
    }
    // Exhaustive: every split of the 10 points into two non-empty groups.
    double best = std::numeric_limits<double>::infinity();
    for (int mask = 1; mask < (1 << n) - 1; ++mask) {
      std::vector<int> a(n);
      for (int i = 0; i < n; ++i) a[i] = (mask >> i) & 1;
      best = std::min(best, clustering_inertia(x, n, dim, a, 2));
    }
    const KMeansResult r = kmeans(x, n, dim, 2, 1 + trial);
    EXPECT_NEAR(r.inertia, best, 1e-9) << "trial " << trial;
    EXPECT_NEAR(clustering_inertia(x, n, dim, r.assignment, 2), r.inertia, 1e-9);
  }
}

TEST(ScanKMeans, SameSeedSameClustering) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x(500 * 3);
  for (double& v : x) v = u(rng);
  EXPECT_EQ(kmeans(x, 500, 3, 4, 42).assignment, kmeans(x, 500, 3, 4, 42).assignment);
}

}  // namespace
}  // namespace lv::scan
