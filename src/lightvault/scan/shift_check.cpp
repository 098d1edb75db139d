#include "lightvault/scan/shift_check.h"

#include <algorithm>
#include <cmath>

namespace lv::scan {

ShiftCheck::ShiftCheck(const Dataset& data, int label, int m) : data_(data), label_(label), m_(std::max(1, m)) {}

template <typename Accept>
double ShiftCheck::mean_nearest(const double* point, int64_t skip, Accept take) const {
  // A bounded max-heap of the m smallest squared distances seen so far.
  std::vector<double> heap;
  heap.reserve(static_cast<size_t>(m_) + 1);
  for (int64_t j = 0; j < data_.rows; ++j) {
    if (j == skip || !take(j)) continue;
    const float* y = data_.row(j);
    double d = 0;
    for (int t = 0; t < data_.dim; ++t) {
      const double diff = point[t] - static_cast<double>(y[t]);
      d += diff * diff;
    }
    if (static_cast<int>(heap.size()) < m_) {
      heap.push_back(d);
      std::push_heap(heap.begin(), heap.end());
    } else if (d < heap.front()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = d;
      std::push_heap(heap.begin(), heap.end());
    }
  }
  if (heap.empty()) return -1;
  double sum = 0;
  for (double d : heap) sum += std::sqrt(d);
  return sum / static_cast<double>(heap.size());
}

std::vector<double> ShiftCheck::displacement(int64_t row) const {
  const int dim = data_.dim;
  const float* x = data_.row(row);
  // The same bounded heap as mean_nearest, keeping row indices: the mean is of the rows.
  std::vector<std::pair<double, int64_t>> heap;
  for (int64_t j = 0; j < data_.rows; ++j) {
    if (data_.labels[j] == label_) continue;
    const float* y = data_.row(j);
    double d = 0;
    for (int t = 0; t < dim; ++t) {
      const double diff = static_cast<double>(x[t]) - static_cast<double>(y[t]);
      d += diff * diff;
    }
    if (static_cast<int>(heap.size()) < m_) {
      heap.emplace_back(d, j);
      std::push_heap(heap.begin(), heap.end());
    } else if (d < heap.front().first) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = {d, j};
      std::push_heap(heap.begin(), heap.end());
    }
  }
  std::vector<double> shift(static_cast<size_t>(dim), 0.0);
  if (heap.empty()) return shift;
  for (const auto& [d, j] : heap) {
    for (int t = 0; t < dim; ++t) shift[t] -= static_cast<double>(data_.row(j)[t]);
  }
  for (int t = 0; t < dim; ++t) shift[t] = static_cast<double>(x[t]) + shift[t] / static_cast<double>(heap.size());
  return shift;
}

std::vector<double> ShiftCheck::shared_shift(const std::vector<int64_t>& members) const {
  const int dim = data_.dim;
  std::vector<double> all(members.size() * static_cast<size_t>(dim));
#pragma omp parallel for schedule(dynamic, 4)
  for (size_t i = 0; i < members.size(); ++i) {
    const auto d = displacement(members[i]);
    std::copy(d.begin(), d.end(), all.begin() + static_cast<std::ptrdiff_t>(i * dim));
  }
  std::vector<double> shift(static_cast<size_t>(dim), 0.0);
  if (members.empty()) return shift;
  std::vector<double> column(members.size());
  for (int t = 0; t < dim; ++t) {
    for (size_t i = 0; i < members.size(); ++i) column[i] = all[i * dim + t];
    const size_t mid = column.size() / 2;
    std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid), column.end());
    double median = column[mid];
    if (column.size() % 2 == 0) {
      median = (median + *std::max_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
    }
    shift[t] = median;
  }
  return shift;
}

double ShiftCheck::ratio(int64_t row, const std::vector<double>& shift) const {
  const int dim = data_.dim;
  std::vector<double> x(static_cast<size_t>(dim)), stripped(static_cast<size_t>(dim));
  for (int t = 0; t < dim; ++t) {
    x[t] = static_cast<double>(data_.row(row)[t]);
    stripped[t] = x[t] - shift[t];
  }
  const auto& labels = data_.labels;
  const double own = mean_nearest(x.data(), row, [&](int64_t j) { return labels[j] == label_; });
  const double other = mean_nearest(stripped.data(), -1, [&](int64_t j) { return labels[j] != label_; });
  if (own < 0 || other < 0) return -1;
  // Duplicated rows make `own` 0: then only an exact match elsewhere would be as near.
  if (own == 0) return other == 0 ? 1.0 : 1e9;
  return other / own;
}

}  // namespace lv::scan
