#include "lightvault/scan/spectral.h"

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

// D^-1/2 W D^-1/2 with some of its eigenvectors of eigenvalue 1 (unit, orthogonal) moved to 0:
// the operator Spectra iterates on once the components' eigenvectors are known.
class DeflatedAdjacency {
 public:
  using Scalar = double;
  DeflatedAdjacency(const SparseMatrix& m, const std::vector<Eigen::VectorXd>& known) : m_(m), known_(known) {}
  Eigen::Index rows() const { return m_.rows(); }
  Eigen::Index cols() const { return m_.cols(); }
  void perform_op(const double* x_in, double* y_out) const {
    Eigen::Map<const Eigen::VectorXd> x(x_in, m_.rows());
    Eigen::Map<Eigen::VectorXd> y(y_out, m_.rows());
    y.noalias() = m_ * x;
    for (const Eigen::VectorXd& u : known_) y -= u * u.dot(x);
  }

 private:
  const SparseMatrix& m_;
  const std::vector<Eigen::VectorXd>& known_;
};

}  // namespace

std::vector<int> connected_components(const SparseMatrix& w, int* count) {
  const int n = static_cast<int>(w.rows());
  std::vector<int> component(static_cast<size_t>(n), -1), stack;
  int next = 0;
  for (int start = 0; start < n; ++start) {
    if (component[start] >= 0) continue;
    component[start] = next;
    stack.push_back(start);
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      for (SparseMatrix::InnerIterator it(w, i); it; ++it) {
        const int j = static_cast<int>(it.col());
        if (component[j] < 0) {
          component[j] = next;
          stack.push_back(j);
        }
      }
    }
    ++next;
  }
  if (count != nullptr) *count = next;
  return component;
}

SparseMatrix normalized_laplacian(const SparseMatrix& w) {
  SparseMatrix identity(w.rows(), w.cols());
  identity.setIdentity();
  return SparseMatrix(identity - normalized_adjacency(w));
}

Result<Eigenpairs> smallest_laplacian_eigenpairs(const SparseMatrix& w, int count) {
  const int n = static_cast<int>(w.rows());
  count = std::min(count, n - 1);
  if (n <= 200) return dense_smallest_eigenpairs(normalized_laplacian(w), count);

  // Eigenvalue 0, exactly: D^1/2 1_C for each component C with edges, the largest first.
  int components = 0;
  const std::vector<int> component = connected_components(w, &components);
  std::vector<double> volume(static_cast<size_t>(components), 0.0);
  std::vector<int64_t> size(static_cast<size_t>(components), 0);
  const std::vector<double> scale = inverse_sqrt_degree(w);
  for (int i = 0; i < n; ++i) {
    ++size[component[i]];
    if (scale[i] > 0) volume[component[i]] += 1.0 / (scale[i] * scale[i]);
  }
  std::vector<int> order;
  for (int c = 0; c < components; ++c) {
    if (volume[c] > 0) order.push_back(c);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return size[a] > size[b]; });
  if (order.size() == 1) order.clear();  // one component: Lanczos finds its vector itself
  if (static_cast<int>(order.size()) > count) order.resize(static_cast<size_t>(count));
  std::vector<Eigen::VectorXd> known;
  for (int c : order) {
    Eigen::VectorXd u = Eigen::VectorXd::Zero(n);
    for (int i = 0; i < n; ++i) {
      if (component[i] == c && scale[i] > 0) u[i] = 1.0 / scale[i] / std::sqrt(volume[c]);
    }
    known.push_back(std::move(u));
  }
  Eigenpairs pairs;
  for (const Eigen::VectorXd& u : known) {
    pairs.values.push_back(0.0);
    pairs.vectors.emplace_back(u.data(), u.data() + n);
  }
  const int rest = count - static_cast<int>(known.size());
  if (rest == 0) return pairs;

  const SparseMatrix m = normalized_adjacency(w);
  DeflatedAdjacency op(m, known);
  const int ncv = std::min(n, std::max(2 * rest + 1, rest + 30));
  Spectra::SymEigsSolver<DeflatedAdjacency> solver(op, rest, ncv);
  // Lanczos starts from a fixed vector (Spectra's default is deterministic), so results repeat.
  solver.init();
  solver.compute(Spectra::SortRule::LargestAlge, 3000, 1e-8);
  if (solver.info() != Spectra::CompInfo::Successful) {
    return make_error("spectral embedding", "Lanczos did not converge for " + std::to_string(rest) +
                                                " eigenvectors of a " + std::to_string(n) + "-vertex graph");
  }
  const Eigen::VectorXd mu = solver.eigenvalues();  // descending
  const Eigen::MatrixXd vectors = solver.eigenvectors();
  for (int j = 0; j < rest; ++j) {
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
