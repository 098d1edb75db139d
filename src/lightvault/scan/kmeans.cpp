#include "lightvault/scan/kmeans.h"

#include <limits>
#include <random>

namespace lv::scan {
namespace {

double squared(const double* a, const double* b, int dim) {
  double sum = 0;
  for (int i = 0; i < dim; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

std::vector<double> plus_plus_seeds(const std::vector<double>& x, int64_t rows, int dim, int k, std::mt19937_64& rng) {
  std::vector<double> centroids;
  std::uniform_int_distribution<int64_t> first(0, rows - 1);
  const int64_t start = first(rng);
  centroids.insert(centroids.end(), x.begin() + start * dim, x.begin() + (start + 1) * dim);
  std::vector<double> nearest(static_cast<size_t>(rows), std::numeric_limits<double>::infinity());
  for (int c = 1; c < k; ++c) {
    const double* last = centroids.data() + static_cast<size_t>(c - 1) * dim;
    double total = 0;
    for (int64_t i = 0; i < rows; ++i) {
      nearest[i] = std::min(nearest[i], squared(x.data() + i * dim, last, dim));
      total += nearest[i];
    }
    int64_t chosen = rows - 1;
    if (total > 0) {
      double target = std::uniform_real_distribution<double>(0, total)(rng);
      for (int64_t i = 0; i < rows; ++i) {
        target -= nearest[i];
        if (target <= 0) {
          chosen = i;
          break;
        }
      }
    } else {
      chosen = first(rng);
    }
    centroids.insert(centroids.end(), x.begin() + chosen * dim, x.begin() + (chosen + 1) * dim);
  }
  return centroids;
}

KMeansResult lloyd(const std::vector<double>& x, int64_t rows, int dim, int k, std::vector<double> centroids,
                   int max_iterations) {
  KMeansResult r;
  r.assignment.assign(static_cast<size_t>(rows), -1);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    bool changed = false;
#pragma omp parallel for reduction(|| : changed)
    for (int64_t i = 0; i < rows; ++i) {
      int best = 0;
      double best_d = std::numeric_limits<double>::infinity();
      for (int c = 0; c < k; ++c) {
        const double d = squared(x.data() + i * dim, centroids.data() + static_cast<size_t>(c) * dim, dim);
        if (d < best_d) {
          best_d = d;
          best = c;
        }
      }
      if (r.assignment[i] != best) {
        r.assignment[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    std::vector<double> sums(static_cast<size_t>(k) * dim, 0.0);
    std::vector<int64_t> counts(static_cast<size_t>(k), 0);
    for (int64_t i = 0; i < rows; ++i) {
      const int c = r.assignment[i];
      ++counts[c];
      for (int j = 0; j < dim; ++j) sums[static_cast<size_t>(c) * dim + j] += x[i * dim + j];
    }
    for (int c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;  // an emptied cluster keeps its old centre
      for (int j = 0; j < dim; ++j) centroids[static_cast<size_t>(c) * dim + j] = sums[static_cast<size_t>(c) * dim + j] / counts[c];
    }
  }
  r.centroids = std::move(centroids);
  r.inertia = 0;
  for (int64_t i = 0; i < rows; ++i) {
    r.inertia += squared(x.data() + i * dim, r.centroids.data() + static_cast<size_t>(r.assignment[i]) * dim, dim);
  }
  return r;
}

}  // namespace

KMeansResult kmeans(const std::vector<double>& x, int64_t rows, int dim, int k, uint64_t seed, int restarts,
                    int max_iterations) {
  std::mt19937_64 rng(seed);
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int run = 0; run < restarts; ++run) {
    KMeansResult r = lloyd(x, rows, dim, k, plus_plus_seeds(x, rows, dim, k, rng), max_iterations);
    if (r.inertia < best.inertia) best = std::move(r);
  }
  return best;
}

double clustering_inertia(const std::vector<double>& x, int64_t rows, int dim, const std::vector<int>& assignment, int k) {
  std::vector<double> sums(static_cast<size_t>(k) * dim, 0.0);
  std::vector<int64_t> counts(static_cast<size_t>(k), 0);
  for (int64_t i = 0; i < rows; ++i) {
    ++counts[assignment[i]];
    for (int j = 0; j < dim; ++j) sums[static_cast<size_t>(assignment[i]) * dim + j] += x[i * dim + j];
  }
  double inertia = 0;
  for (int64_t i = 0; i < rows; ++i) {
    const int c = assignment[i];
    for (int j = 0; j < dim; ++j) {
      const double d = x[i * dim + j] - sums[static_cast<size_t>(c) * dim + j] / counts[c];
      inertia += d * d;
    }
  }
  return inertia;
}

}  // namespace lv::scan
