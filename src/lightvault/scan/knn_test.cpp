#include "lightvault/scan/knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace lv::scan {
namespace {

std::vector<float> gaussian_blobs(int64_t rows, int dim, int blobs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> centres(static_cast<size_t>(blobs) * dim);
  for (float& c : centres) c = 6 * noise(rng);
  std::vector<float> x(static_cast<size_t>(rows) * dim);
  for (int64_t i = 0; i < rows; ++i) {
    for (int d = 0; d < dim; ++d) x[i * dim + d] = centres[(i % blobs) * dim + d] + noise(rng);
  }
  return x;
}

TEST(ScanKnn, ExactMatchesSortingAllDistances) {
  const int64_t n = 60;
  const int dim = 5, k = 4;
  const auto x = gaussian_blobs(n, dim, 3, 7);
  const KnnGraph g = exact_knn(x.data(), n, dim, k);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::pair<float, int>> all;
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      float d = 0;
      for (int t = 0; t < dim; ++t) d += (x[i * dim + t] - x[j * dim + t]) * (x[i * dim + t] - x[j * dim + t]);
      all.emplace_back(d, static_cast<int>(j));
    }
    std::sort(all.begin(), all.end());
    for (int a = 0; a < k; ++a) {
      EXPECT_EQ(g.of(i)[a], all[a].second) << "row " << i << " neighbour " << a;
      EXPECT_FLOAT_EQ(g.distances[i * k + a], all[a].first);
    }
  }
}

TEST(ScanKnn, ApproximateFindsMostExactNeighboursAndRepeats) {
  const int64_t n = 3000;
  const int dim = 16, k = 10;
  const auto x = gaussian_blobs(n, dim, 5, 3);
  const KnnGraph exact = exact_knn(x.data(), n, dim, k);
  ApproxKnnOptions options;
  options.seed = 11;
  const KnnGraph approx = approx_knn(x.data(), n, dim, k, options);
  EXPECT_GT(knn_recall(approx, exact), 0.95);
  EXPECT_EQ(approx.neighbours, approx_knn(x.data(), n, dim, k, options).neighbours);
  for (int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < k; ++a) EXPECT_NE(approx.of(i)[a], i);
  }
}

TEST(ScanKnn, ApproximateSurvivesDuplicateRows) {
  std::vector<float> x(200 * 3, 1.0f);
  x[0] = 2;
  ApproxKnnOptions options;
  options.leaf_size = 8;
  const KnnGraph g = approx_knn(x.data(), 200, 3, 5, options);
  for (int64_t i = 0; i < 200; ++i) {
    for (int a = 0; a < 5; ++a) EXPECT_GE(g.of(i)[a], 0);
  }
}

}  // namespace
}  // namespace lv::scan
