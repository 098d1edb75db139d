#include "lightvault/scan/spectral.h"

#include <Spectra/MatOp/SparseSymMatProd.h>
#include <Spectra/SymEigsSolver.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace lv::scan {

SparseMatrix affinity(const KnnGraph& graph) {
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(static_cast<size_t>(graph.rows * graph.k * 2));
  for (int64_t i = 0; i < graph.rows; ++i) {
    for (int a = 0; a < graph.k; ++a) {
      const int32_t j = graph.of(i)[a];
      if (j < 0 || j == i) continue;
      triplets.emplace_back(static_cast<int>(i), j, 0.5);
      triplets.emplace_back(j, static_cast<int>(i), 0.5);
    }
  }
  SparseMatrix w(graph.rows, graph.rows);
  w.setFromTriplets(triplets.begin(), triplets.end());  // duplicates add up: mutual pairs get 1
  return w;
}

namespace {

std::vector<double> inverse_sqrt_degree(const SparseMatrix& w) {
  std::vector<double> scale(static_cast<size_t>(w.rows()));
  for (int i = 0; i < w.outerSize(); ++i) {
    double degree = 0;
    for (SparseMatrix::InnerIterator it(w, i); it; ++it) degree += it.value();
    scale[i] = degree > 0 ? 1.0 / std::sqrt(degree) : 0.0;
  }
  return scale;
}

// D^-1/2 W D^-1/2
SparseMatrix normalized_adjacency(const SparseMatrix& w) {
  const auto scale = inverse_sqrt_degree(w);
  SparseMatrix m = w;
  for (int i = 0; i < m.outerSize(); ++i) {
    for (SparseMatrix::InnerIterator it(m, i); it; ++it) it.valueRef() *= scale[i] * scale[it.col()];
  }
  return m;
}

}  // namespace

SparseMatrix normalized_laplacian(const SparseMatrix& w) {
  SparseMatrix identity(w.rows(), w.cols());
  identity.setIdentity();
  return SparseMatrix(identity - normalized_adjacency(w));
}

Result<Eigenpairs> smallest_laplacian_eigenpairs(const SparseMatrix& w, int count) {
  const int n = static_cast<int>(w.rows());
  count = std::min(count, n - 1);
  if (n <= 200) return dense_smallest_eigenpairs(normalized_laplacian(w), count);
  const SparseMatrix m = normalized_adjacency(w);
  Spectra::SparseSymMatProd<double, Eigen::Lower | Eigen::Upper, Eigen::RowMajor> op(m);
  const int ncv = std::min(n, std::max(2 * count + 1, count + 30));
  Spectra::SymEigsSolver<decltype(op)> solver(op, count, ncv);
  // Lanczos starts from a fixed vector (Spectra's default is deterministic), so results repeat.
  solver.init();
  solver.compute(Spectra::SortRule::LargestAlge, 3000, 1e-8);
  if (solver.info() != Spectra::CompInfo::Successful) {
    return make_error("spectral embedding", "Lanczos did not converge for " + std::to_string(count) +
                                                " eigenvectors of a " + std::to_string(n) + "-vertex graph");
  }
  const Eigen::VectorXd mu = solver.eigenvalues();  // descending
  const Eigen::MatrixXd vectors = solver.eigenvectors();
  Eigenpairs pairs;
  for (int j = 0; j < count; ++j) {
    pairs.values.push_back(1.0 - mu[j]);
    pairs.vectors.emplace_back(vectors.col(j).data(), vectors.col(j).data() + n);
  }
  return pairs;
}

Eigenpairs dense_smallest_eigenpairs(const SparseMatrix& laplacian, int count) {
  const Eigen::MatrixXd dense = Eigen::MatrixXd(laplacian);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(dense);
  Eigenpairs pairs;
  const int n = static_cast<int>(dense.rows());
  for (int j = 0; j < std::min(count, n); ++j) {
    pairs.values.push_back(solver.eigenvalues()[j]);
    pairs.vectors.emplace_back(solver.eigenvectors().col(j).data(), solver.eigenvectors().col(j).data() + n);
  }
  return pairs;
}

int eigengap_clusters(const std::vector<double>& values, int max_k) {
  max_k = std::min<int>(max_k, static_cast<int>(values.size()) - 1);
  int best = 2;
  double best_gap = -1;
  for (int k = 2; k <= max_k; ++k) {
    const double gap = values[k] - values[k - 1];
    if (gap > best_gap) {
      best_gap = gap;
      best = k;
    }
  }
  return best;
}

std::vector<double> spectral_embedding(const Eigenpairs& pairs, int dims) {
  dims = std::min<int>(dims, static_cast<int>(pairs.vectors.size()));
  const size_t n = pairs.vectors.empty() ? 0 : pairs.vectors[0].size();
  std::vector<double> out(n * static_cast<size_t>(dims));
  for (size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int j = 0; j < dims; ++j) norm += pairs.vectors[j][i] * pairs.vectors[j][i];
    norm = norm > 0 ? std::sqrt(norm) : 1.0;
    for (int j = 0; j < dims; ++j) out[i * dims + j] = pairs.vectors[j][i] / norm;
  }
  return out;
}

double conductance(const SparseMatrix& w, const std::vector<char>& member) {
  double cut = 0, vol_in = 0, vol_out = 0;
  for (int i = 0; i < w.outerSize(); ++i) {
    for (SparseMatrix::InnerIterator it(w, i); it; ++it) {
      (member[i] ? vol_in : vol_out) += it.value();
      if (member[i] && !member[it.col()]) cut += it.value();
    }
  }
  const double smaller = std::min(vol_in, vol_out);
  return smaller > 0 ? cut / smaller : 1.0;
}

}  // namespace lv::scan
