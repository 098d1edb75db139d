#include "lightvault/scan/spectral.h"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

namespace lv::scan {
namespace {

// Two rings of `size` points each (a point's neighbours are its ring neighbours), joined by one edge.
KnnGraph two_rings(int size) {
  KnnGraph g;
  g.rows = 2 * size;
  g.k = 2;
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < size; ++i) {
      g.neighbours.push_back(r * size + (i + 1) % size);
      g.neighbours.push_back(r * size + (i + size - 1) % size);
    }
  }
  g.neighbours[0] = size;  // row 0 points to row `size` instead of row 1
  g.distances.assign(g.neighbours.size(), 1.0f);
  return g;
}

TEST(ScanSpectral, AffinityIsSymmetricHalfOrOne) {
  KnnGraph g;
  g.rows = 3;
  g.k = 1;
  g.neighbours = {1, 0, 0};  // 0<->1 mutual, 2->0 one-sided
  g.distances = {1, 1, 1};
  const Eigen::MatrixXd w = Eigen::MatrixXd(affinity(g));
  Eigen::MatrixXd expected(3, 3);
  expected << 0, 1, 0.5, 1, 0, 0, 0.5, 0, 0;
  EXPECT_TRUE(w.isApprox(expected)) << w;
}

TEST(ScanSpectral, LaplacianMatchesTheDefinition) {
  const SparseMatrix w = affinity(two_rings(5));
  const Eigen::MatrixXd dense_w = Eigen::MatrixXd(w);
  const Eigen::VectorXd degree = dense_w.rowwise().sum();
  const Eigen::MatrixXd scale = degree.cwiseSqrt().cwiseInverse().asDiagonal();
  const Eigen::MatrixXd expected = Eigen::MatrixXd::Identity(10, 10) - scale * dense_w * scale;
  EXPECT_TRUE(Eigen::MatrixXd(normalized_laplacian(w)).isApprox(expected, 1e-12));
  // The smallest eigenvalue is 0 with eigenvector D^1/2 1.
  const Eigenpairs pairs = dense_smallest_eigenpairs(normalized_laplacian(w), 2);
  EXPECT_NEAR(pairs.values[0], 0.0, 1e-10);
}

TEST(ScanSpectral, LanczosMatchesDenseEigensolver) {
  // Two Gaussian blobs, 300 rows: Lanczos, not the dense shortcut (rings would give double
  // eigenvalues, of which Lanczos finds one copy).
  std::mt19937_64 rng(2);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(300 * 4);
  for (int i = 0; i < 300; ++i) {
    for (int d = 0; d < 4; ++d) x[i * 4 + d] = noise(rng) + (i < 150 && d == 0 ? 3.5f : 0.0f);
  }
  const SparseMatrix w = affinity(exact_knn(x.data(), 300, 4, 8));
  auto lanczos = smallest_laplacian_eigenpairs(w, 5);
  ASSERT_TRUE(lanczos.ok()) << lanczos.error().message;
  const Eigenpairs dense = dense_smallest_eigenpairs(normalized_laplacian(w), 5);
  for (int j = 0; j < 5; ++j) {
    EXPECT_NEAR(lanczos->values[j], dense.values[j], 1e-7) << "eigenvalue " << j;
    double dot = 0;
    for (int i = 0; i < 300; ++i) dot += lanczos->vectors[j][i] * dense.vectors[j][i];
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-5) << "eigenvector " << j;
  }
  // The Fiedler vector separates the blobs.
  const auto& fiedler = lanczos->vectors[1];
  int agree = 0;
  for (int i = 0; i < 300; ++i) agree += (fiedler[i] > 0) == (fiedler[0] > 0) ? (i < 150) : (i >= 150);
  EXPECT_GE(agree, 270);
}

TEST(ScanSpectral, ConnectedComponentsFollowTheEdges) {
  // Two rings joined by one edge form one component; cut the edge and they are two.
  const KnnGraph joined = two_rings(5);
  int count = 0;
  EXPECT_EQ(connected_components(affinity(joined), &count), std::vector<int>(10, 0));
  EXPECT_EQ(count, 1);
  KnnGraph cut = joined;
  cut.neighbours[0] = 1;
  EXPECT_EQ(connected_components(affinity(cut), &count), (std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(count, 2);
}

// Three blobs far apart (a kNN graph of three components, 360 rows, past the dense shortcut):
// eigenvalue 0 three times. Lanczos alone returns that eigenspace only in part; the result must
// span it and agree with the dense solver on the eigenpairs after it.
TEST(ScanSpectral, SeparateComponentsGiveTheWholeNullSpace) {
  const int n = 360, dim = 8;
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d < dim; ++d) x[i * dim + d] = noise(rng) + (d == i % 3 ? 40.0f : 0.0f);
  }
  const SparseMatrix w = affinity(exact_knn(x.data(), n, dim, 10));
  int components = 0;
  connected_components(w, &components);
  ASSERT_EQ(components, 3);
  auto pairs = smallest_laplacian_eigenpairs(w, 5);
  ASSERT_TRUE(pairs.ok()) << pairs.error().message;
  const Eigenpairs dense = dense_smallest_eigenpairs(normalized_laplacian(w), 5);
  Eigen::MatrixXd null_space(n, 3);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(pairs->values[j], 0.0, 1e-12);
    EXPECT_NEAR(dense.values[j], 0.0, 1e-9);
    for (int i = 0; i < n; ++i) null_space(i, j) = pairs->vectors[j][i];
  }
  // Each dense null vector lies in the span of ours (its projection keeps its length).
  for (int j = 0; j < 3; ++j) {
    const Eigen::VectorXd v = Eigen::Map<const Eigen::VectorXd>(dense.vectors[j].data(), n);
    EXPECT_NEAR((null_space.transpose() * v).norm(), 1.0, 1e-6) << "null vector " << j;
  }
  for (int j = 3; j < 5; ++j) {
    EXPECT_NEAR(pairs->values[j], dense.values[j], 1e-7) << "eigenvalue " << j;
    double dot = 0;
    for (int i = 0; i < n; ++i) dot += pairs->vectors[j][i] * dense.vectors[j][i];
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-5) << "eigenvector " << j;
  }
}

TEST(ScanSpectral, EigengapAndConductance) {
  EXPECT_EQ(eigengap_clusters({0, 0.001, 0.002, 0.5, 0.6, 0.7}, 5), 3);
  EXPECT_EQ(eigengap_clusters({0, 0.5, 0.55, 0.6}, 3), 2);
  const SparseMatrix w = affinity(two_rings(5));
  std::vector<char> ring(10, 0);
  for (int i = 0; i < 5; ++i) ring[i] = 1;
  // cut: the one-sided edge 0->5 (0.5); the ring's volume: 10 less the half lost by 0-1.
  EXPECT_NEAR(conductance(w, ring), 0.5 / 9.5, 1e-12);
}

TEST(ScanSpectral, EmbeddingRowsHaveUnitLength) {
  Eigenpairs pairs;
  pairs.values = {0, 0.1};
  pairs.vectors = {{3, 0, 1}, {4, 2, 0}};
  const auto e = spectral_embedding(pairs, 2);
  EXPECT_EQ(e, (std::vector<double>{0.6, 0.8, 0, 1, 1, 0}));
}

}  // namespace
}  // namespace lv::scan
