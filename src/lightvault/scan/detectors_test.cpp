#include "lightvault/scan/detectors.h"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

namespace lv::scan {
namespace {

Block random_block(int64_t rows, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  Block b;
  b.rows = rows;
  b.dim = dim;
  for (int64_t i = 0; i < rows * dim; ++i) b.x.push_back(noise(rng) * (1 + i % dim));
  return b;
}

TEST(ScanDetectors, SignatureScoresMatchTheTopSingularVector) {
  const Block b = random_block(40, 6, 3);
  Eigen::MatrixXd m(b.rows, b.dim);
  for (int64_t i = 0; i < b.rows; ++i) {
    for (int j = 0; j < b.dim; ++j) m(i, j) = b.x[i * b.dim + j];
  }
  const Eigen::MatrixXd centred = m.rowwise() - m.colwise().mean();
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
  const Eigen::VectorXd v = svd.matrixV().col(0);
  const auto scores = signature_scores(b);
  for (int64_t i = 0; i < b.rows; ++i) {
    const double p = centred.row(i).dot(v);
    EXPECT_NEAR(scores[i], p * p, 1e-9 * (1 + p * p));
  }
}

TEST(ScanDetectors, SignatureFlagsTheTopOneAndAHalfEps) {
  std::vector<double> scores(100);
  for (int i = 0; i < 100; ++i) scores[i] = i;
  const auto flags = signature_flags(scores, 0.1);
  int count = 0;
  for (int i = 0; i < 100; ++i) {
    count += flags[i];
    if (flags[i]) {
      EXPECT_GE(i, 85);
    }
  }
  EXPECT_EQ(count, 15);
}

TEST(ScanDetectors, ActivationClusteringSplitsOffAPlantedGroup) {
  Block b = random_block(200, 12, 8);
  for (int64_t i = 0; i < 30; ++i) {
    for (int j = 0; j < 3; ++j) b.x[i * b.dim + j] += 40;  // a shared shift: the trigger
  }
  const auto result = activation_clustering(b, 1);
  EXPECT_TRUE(result.poisoned);
  EXPECT_NEAR(result.smaller_fraction, 0.15, 1e-12);
  for (int64_t i = 0; i < 200; ++i) EXPECT_EQ(result.assignment[i] == result.smaller, i < 30) << i;
}

}  // namespace
}  // namespace lv::scan
