#include "lightvault/scan/knn.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace lv::scan {
namespace {

float squared_distance(const float* a, const float* b, int dim) {
  float sum = 0;
  for (int i = 0; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

// The k best (distance, index) pairs seen so far for one row, sorted, without duplicates.
struct NeighbourList {
  int32_t* idx;
  float* dist;
  int k;
  int size = 0;

  bool contains(int32_t j) const {
    for (int i = 0; i < size; ++i) {
      if (idx[i] == j) return true;
    }
    return false;
  }
  void offer(int32_t j, float d) {
    if (size == k && d >= dist[k - 1]) return;
    if (contains(j)) return;
    int at = size < k ? size++ : k - 1;
    while (at > 0 && dist[at - 1] > d) {
      dist[at] = dist[at - 1];
      idx[at] = idx[at - 1];
      --at;
    }
    dist[at] = d;
    idx[at] = j;
  }
};

KnnGraph empty_graph(int64_t rows, int k) {
  KnnGraph g;
  g.rows = rows;
  g.k = k;
  g.neighbours.assign(static_cast<size_t>(rows * k), -1);
  g.distances.assign(static_cast<size_t>(rows * k), std::numeric_limits<float>::infinity());
  return g;
}

// Splits ids[begin, end) recursively until leaves hold at most leaf_size rows; calls
// leaf(begin, end) for each leaf.
template <class Leaf>
void build_tree(const float* x, int dim, std::vector<int32_t>& ids, size_t begin, size_t end, int leaf_size,
                std::mt19937_64& rng, std::vector<float>& side, Leaf&& leaf) {
  if (end - begin <= static_cast<size_t>(leaf_size)) {
    leaf(begin, end);
    return;
  }
  std::uniform_int_distribution<size_t> pick(begin, end - 1);
  const float* a = x + static_cast<int64_t>(ids[pick(rng)]) * dim;
  const float* b = x + static_cast<int64_t>(ids[pick(rng)]) * dim;
  // Normal (a - b), offset at the midpoint: side = (x - (a+b)/2) · (a - b).
  double offset = 0;
  std::vector<float> normal(static_cast<size_t>(dim));
  for (int i = 0; i < dim; ++i) {
    normal[i] = a[i] - b[i];
    offset += 0.5 * (a[i] + b[i]) * normal[i];
  }
  for (size_t i = begin; i < end; ++i) {
    const float* p = x + static_cast<int64_t>(ids[i]) * dim;
    double s = -offset;
    for (int j = 0; j < dim; ++j) s += p[j] * normal[j];
    side[ids[i]] = static_cast<float>(s);
  }
  auto middle = std::partition(ids.begin() + begin, ids.begin() + end, [&](int32_t id) { return side[id] < 0; });
  size_t mid = static_cast<size_t>(middle - ids.begin());
  // Identical rows (or an unlucky pair) can leave one side empty: fall back to halving.
  if (mid == begin || mid == end) {
    std::shuffle(ids.begin() + begin, ids.begin() + end, rng);
    mid = begin + (end - begin) / 2;
  }
  build_tree(x, dim, ids, begin, mid, leaf_size, rng, side, leaf);
  build_tree(x, dim, ids, mid, end, leaf_size, rng, side, leaf);
}

}  // namespace

KnnGraph exact_knn(const float* x, int64_t rows, int dim, int k) {
  KnnGraph g = empty_graph(rows, k);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < rows; ++i) {
    NeighbourList list{g.neighbours.data() + i * k, g.distances.data() + i * k, k};
    const float* xi = x + i * dim;
    for (int64_t j = 0; j < rows; ++j) {
      if (j != i) list.offer(static_cast<int32_t>(j), squared_distance(xi, x + j * dim, dim));
    }
  }
  return g;
}

KnnGraph approx_knn(const float* x, int64_t rows, int dim, int k, const ApproxKnnOptions& options) {
  KnnGraph g = empty_graph(rows, k);
  std::vector<int> sizes(static_cast<size_t>(rows), 0);
  auto list_of = [&](int64_t i) {
    return NeighbourList{g.neighbours.data() + i * k, g.distances.data() + i * k, k, sizes[i]};
  };
  auto store = [&](int64_t i, const NeighbourList& list) { sizes[i] = list.size; };
  const int leaf_size = std::max(options.leaf_size, k + 1);
  // Trees are built one after another (each from its own seed, so the result does not depend
  // on the thread count); the pairs inside a leaf are compared in parallel across leaves.
  std::vector<float> side(static_cast<size_t>(rows));
  for (int t = 0; t < options.trees; ++t) {
    std::mt19937_64 rng(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(t));
    std::vector<int32_t> ids(static_cast<size_t>(rows));
    std::iota(ids.begin(), ids.end(), 0);
    std::vector<std::pair<size_t, size_t>> leaves;
    build_tree(x, dim, ids, 0, ids.size(), leaf_size, rng, side,
               [&](size_t begin, size_t end) { leaves.emplace_back(begin, end); });
    // Leaves partition the rows, so each row is written by one thread only.
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t l = 0; l < leaves.size(); ++l) {
      auto [begin, end] = leaves[l];
      for (size_t a = begin; a < end; ++a) {
        NeighbourList list = list_of(ids[a]);
        const float* xa = x + static_cast<int64_t>(ids[a]) * dim;
        for (size_t b = begin; b < end; ++b) {
          if (a != b) list.offer(ids[b], squared_distance(xa, x + static_cast<int64_t>(ids[b]) * dim, dim));
        }
        store(ids[a], list);
      }
    }
  }
  // Neighbours of neighbours: reads the previous round's graph, writes a new one.
  for (int round = 0; round < options.refine_rounds; ++round) {
    KnnGraph next = g;
    std::vector<int> next_sizes = sizes;
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < rows; ++i) {
      NeighbourList list{next.neighbours.data() + i * k, next.distances.data() + i * k, k, next_sizes[i]};
      const float* xi = x + i * dim;
      for (int a = 0; a < sizes[i]; ++a) {
        const int32_t j = g.neighbours[i * k + a];
        for (int b = 0; b < sizes[j]; ++b) {
          const int32_t m = g.neighbours[static_cast<int64_t>(j) * k + b];
          if (m != i) list.offer(m, squared_distance(xi, x + static_cast<int64_t>(m) * dim, dim));
        }
      }
      next_sizes[i] = list.size;
    }
    g = std::move(next);
    sizes = std::move(next_sizes);
  }
  return g;
}

KnnGraph knn_graph(const float* x, int64_t rows, int dim, int k, uint64_t seed, int64_t exact_limit) {
  k = static_cast<int>(std::min<int64_t>(k, rows - 1));
  if (rows <= exact_limit) return exact_knn(x, rows, dim, k);
  ApproxKnnOptions options;
  options.seed = seed;
  return approx_knn(x, rows, dim, k, options);
}

double knn_recall(const KnnGraph& approx, const KnnGraph& exact) {
  int64_t found = 0;
  for (int64_t i = 0; i < exact.rows; ++i) {
    for (int a = 0; a < exact.k; ++a) {
      const int32_t want = exact.of(i)[a];
      for (int b = 0; b < approx.k; ++b) found += approx.of(i)[b] == want;
    }
  }
  return static_cast<double>(found) / static_cast<double>(exact.rows * exact.k);
}

}  // namespace lv::scan
