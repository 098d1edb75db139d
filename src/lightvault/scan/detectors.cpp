#include "lightvault/scan/detectors.h"

#include <Eigen/Dense>
#include <algorithm>

#include "lightvault/scan/kmeans.h"

namespace lv::scan {
namespace {

std::vector<double> column_means(const Block& b) {
  std::vector<double> mean(static_cast<size_t>(b.dim), 0.0);
  for (int64_t i = 0; i < b.rows; ++i) {
    for (int j = 0; j < b.dim; ++j) mean[j] += b.x[i * b.dim + j];
  }
  for (double& m : mean) m /= static_cast<double>(std::max<int64_t>(b.rows, 1));
  return mean;
}

}  // namespace

std::vector<std::vector<double>> principal_directions(const Block& b, int count) {
  const auto mean = column_means(b);
  Eigen::MatrixXd centred(b.rows, b.dim);
  for (int64_t i = 0; i < b.rows; ++i) {
    for (int j = 0; j < b.dim; ++j) centred(i, j) = b.x[i * b.dim + j] - mean[j];
  }
  const Eigen::MatrixXd covariance = centred.transpose() * centred;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  std::vector<std::vector<double>> directions;
  for (int c = 0; c < std::min(count, b.dim); ++c) {
    const Eigen::VectorXd v = solver.eigenvectors().col(b.dim - 1 - c);  // eigenvalues ascend
    directions.emplace_back(v.data(), v.data() + b.dim);
  }
  return directions;
}

std::vector<double> signature_scores(const Block& b) {
  const auto mean = column_means(b);
  const auto v = principal_directions(b, 1).at(0);
  std::vector<double> scores(static_cast<size_t>(b.rows));
  for (int64_t i = 0; i < b.rows; ++i) {
    double projection = 0;
    for (int j = 0; j < b.dim; ++j) projection += (b.x[i * b.dim + j] - mean[j]) * v[j];
    scores[i] = projection * projection;
  }
  return scores;
}

std::vector<char> signature_flags(const std::vector<double>& scores, double expected_poison) {
  std::vector<char> flags(scores.size(), 0);
  const auto remove = static_cast<size_t>(std::min(1.0, 1.5 * expected_poison) * static_cast<double>(scores.size()));
  if (remove == 0) return flags;
  std::vector<double> sorted = scores;
  std::nth_element(sorted.begin(), sorted.end() - static_cast<std::ptrdiff_t>(remove), sorted.end());
  const double threshold = sorted[sorted.size() - remove];
  for (size_t i = 0; i < scores.size(); ++i) flags[i] = scores[i] >= threshold;
  return flags;
}

ActivationClusters activation_clustering(const Block& b, uint64_t seed, int dims, double size_threshold) {
  ActivationClusters result;
  const auto mean = column_means(b);
  const auto directions = principal_directions(b, dims);
  const int d = static_cast<int>(directions.size());
  std::vector<double> reduced(static_cast<size_t>(b.rows) * d);
  for (int64_t i = 0; i < b.rows; ++i) {
    for (int c = 0; c < d; ++c) {
      double p = 0;
      for (int j = 0; j < b.dim; ++j) p += (b.x[i * b.dim + j] - mean[j]) * directions[c][j];
      reduced[i * d + c] = p;
    }
  }
  if (b.rows < 2) {
    result.assignment.assign(static_cast<size_t>(b.rows), 0);
    return result;
  }
  const KMeansResult clusters = kmeans(reduced, b.rows, d, 2, seed);
  result.assignment = clusters.assignment;
  const auto ones = std::count(result.assignment.begin(), result.assignment.end(), 1);
  result.smaller = ones * 2 < b.rows ? 1 : 0;
  const auto smaller_size = result.smaller == 1 ? ones : b.rows - ones;
  result.smaller_fraction = static_cast<double>(smaller_size) / static_cast<double>(b.rows);
  result.poisoned = result.smaller_fraction < size_threshold;
  return result;
}

}  // namespace lv::scan
