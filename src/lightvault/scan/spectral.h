#pragma once
// Spectral embedding of a kNN graph.
//   W = (A + Aᵀ) / 2 with A the 0/1 kNN connectivity (scikit-learn's nearest_neighbors affinity)
//   L = I - D^-1/2 W D^-1/2, the symmetric normalized Laplacian, sparse
// Its smallest eigenpairs are the largest of D^-1/2 W D^-1/2 (eigenvalues in [-1, 1]), found by
// Lanczos (Spectra's SymEigsSolver) on the sparse matrix: memory O(n k), no dense n×n.
#include <cstdint>
#include <vector>

#include <Eigen/SparseCore>

#include "lightvault/scan/knn.h"
#include "lightvault/util/status.h"

namespace lv::scan {

using SparseMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;

// W from the kNN graph: symmetric, zero diagonal, entries 1 (mutual) or 0.5 (one-sided).
SparseMatrix affinity(const KnnGraph& graph);
// I - D^-1/2 W D^-1/2. Rows with zero degree get L_ii = 1.
SparseMatrix normalized_laplacian(const SparseMatrix& w);

struct Eigenpairs {
  std::vector<double> values;         // ascending eigenvalues of L
  std::vector<std::vector<double>> vectors;  // vectors[j] is the unit eigenvector of values[j]
};

// Connected components of the graph whose edges are w's nonzeros: a label per vertex, numbered
// from 0 in the order of their first vertex; `count`, when given, receives their number.
std::vector<int> connected_components(const SparseMatrix& w, int* count = nullptr);

// The `count` smallest eigenpairs of the normalized Laplacian of `w`. Each connected component
// C contributes an eigenvalue 0 with eigenvector D^1/2 1_C; Lanczos from one start vector sees
// a repeated eigenvalue only through rounding, so it could return part of that eigenspace mixed
// with the next eigenvector (two separate clusters merged). With several components their
// vectors are therefore taken exactly (the largest components first) and deflated, and Lanczos
// finds the rest.
Result<Eigenpairs> smallest_laplacian_eigenpairs(const SparseMatrix& w, int count);
// The same by a dense symmetric eigensolver: the reference for tests and tiny graphs.
Eigenpairs dense_smallest_eigenpairs(const SparseMatrix& laplacian, int count);

// The number of clusters the spectrum suggests: the k in [2, max_k] after which the gap
// between consecutive ascending eigenvalues is largest. values needs max_k + 1 entries.
int eigengap_clusters(const std::vector<double>& values, int max_k);

// Rows of the first `dims` eigenvectors, each scaled to unit length (Ng, Jordan and Weiss),
// rows * dims row-major.
std::vector<double> spectral_embedding(const Eigenpairs& pairs, int dims);

// Conductance of the vertex set marked in `member`: cut(S, S̄) / min(vol S, vol S̄).
double conductance(const SparseMatrix& w, const std::vector<char>& member);

}  // namespace lv::scan
