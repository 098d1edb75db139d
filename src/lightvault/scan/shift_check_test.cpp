#include "lightvault/scan/shift_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace lv::scan {
namespace {

Dataset from_rows(const std::vector<std::vector<float>>& rows, const std::vector<int>& labels) {
  Dataset d;
  d.source = "rows";
  d.rows = static_cast<int64_t>(rows.size());
  d.dim = static_cast<int>(rows[0].size());
  for (const auto& r : rows) d.values.insert(d.values.end(), r.begin(), r.end());
  d.labels = labels;
  for (int l = 0; l <= *std::max_element(labels.begin(), labels.end()); ++l) d.label_names.push_back(std::to_string(l));
  return d;
}

TEST(ScanShiftCheck, HandComputedOneDimensionalCase) {
  // Label 0 at 0, 1, 2; label 1 at 10, 11. With m = 1 the nearest other row of each label-0
  // row is 10, so the displacements are -10, -9, -8 and their median -9.
  const Dataset d = from_rows({{0}, {1}, {2}, {10}, {11}}, {0, 0, 0, 1, 1});
  const ShiftCheck check(d, 0, 1);
  EXPECT_DOUBLE_EQ(check.displacement(0)[0], -10.0);
  EXPECT_DOUBLE_EQ(check.displacement(2)[0], -8.0);
  const auto shift = check.shared_shift({0, 1, 2});
  EXPECT_DOUBLE_EQ(shift[0], -9.0);
  // Row 0 stripped of -9 sits at 9: 1 from its nearest other row (10), and 1 from its nearest
  // own row (1).
  EXPECT_DOUBLE_EQ(check.ratio(0, shift), 1.0);
  // Row 1 stripped sits at 10, on top of a label-1 row: ratio 0.
  EXPECT_DOUBLE_EQ(check.ratio(1, shift), 0.0);
  // An even number of members: the median is the mean of the middle two.
  EXPECT_DOUBLE_EQ(check.shared_shift({0, 2})[0], -9.0);
}

TEST(ScanShiftCheck, AgreesWithBruteForce) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0, 1);
  std::vector<std::vector<float>> rows(60, std::vector<float>(4));
  std::vector<int> labels(60);
  for (int i = 0; i < 60; ++i) {
    for (float& v : rows[i]) v = noise(rng);
    labels[i] = i % 3;
  }
  const Dataset d = from_rows(rows, labels);
  const int m = 3;
  const ShiftCheck check(d, 1, m);
  auto mean_nearest = [&](const std::vector<double>& p, int64_t skip, bool own) {
    std::vector<double> ds;
    for (int64_t j = 0; j < d.rows; ++j) {
      if (j == skip || (labels[j] == 1) != own) continue;
      double s = 0;
      for (int t = 0; t < d.dim; ++t) s += (p[t] - d.row(j)[t]) * (p[t] - d.row(j)[t]);
      ds.push_back(std::sqrt(s));
    }
    std::sort(ds.begin(), ds.end());
    double sum = 0;
    for (int i = 0; i < m; ++i) sum += ds[i];
    return sum / m;
  };
  const std::vector<double> shift = {0.5, -0.25, 1.0, 0.0};
  for (int64_t row : {1, 4, 31}) {
    std::vector<double> x(d.row(row), d.row(row) + d.dim), stripped(4);
    for (int t = 0; t < 4; ++t) stripped[t] = x[t] - shift[t];
    const double expected = mean_nearest(stripped, -1, false) / mean_nearest(x, row, true);
    EXPECT_NEAR(check.ratio(row, shift), expected, 1e-9) << "row " << row;
  }
}

TEST(ScanShiftCheck, PlantedGroupFallsUnderOneAndANaturalStyleDoesNot) {
  // Three labels, blobs in 6 dimensions. Label 0 has a natural style (a sub-blob offset in one
  // direction) and a planted group: rows drawn like labels 1 and 2 plus one shared trigger.
  std::mt19937_64 rng(11);
  std::normal_distribution<float> noise(0, 1);
  std::vector<std::vector<float>> rows;
  std::vector<int> labels;
  std::vector<int64_t> planted, style;
  for (int i = 0; i < 300; ++i) {
    const int label = i % 3;
    std::vector<float> r(6);
    for (float& v : r) v = noise(rng);
    r[label] += 8;
    if (label == 0 && i < 90) {
      r[3] += 4;  // the style
      style.push_back(i);
    }
    rows.push_back(r);
    labels.push_back(label);
  }
  for (int i = 0; i < 20; ++i) {
    std::vector<float> r(6);
    for (float& v : r) v = noise(rng);
    r[1 + i % 2] += 8;
    r[4] += 6;  // the trigger
    r[5] += 6;
    planted.push_back(static_cast<int64_t>(rows.size()));
    rows.push_back(r);
    labels.push_back(0);
  }
  const Dataset d = from_rows(rows, labels);
  const ShiftCheck check(d, 0, 5);
  auto median_ratio = [&](const std::vector<int64_t>& group) {
    const auto shift = check.shared_shift(group);
    std::vector<double> r;
    for (int64_t row : group) r.push_back(check.ratio(row, shift));
    std::nth_element(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(r.size() / 2), r.end());
    return r[r.size() / 2];
  };
  EXPECT_LT(median_ratio(planted), 1.0);
  EXPECT_GT(median_ratio(style), 1.2);
  // The shift is the trigger: large in dimensions 4 and 5.
  const auto shift = check.shared_shift(planted);
  EXPECT_GT(shift[4], 4.0);
  EXPECT_GT(shift[5], 4.0);
}

TEST(ScanShiftCheck, NoOtherLabelMeansUnmeasured) {
  const Dataset d = from_rows({{0}, {1}, {2}}, {0, 0, 0});
  const ShiftCheck check(d, 0, 2);
  EXPECT_EQ(check.ratio(0, check.shared_shift({0, 1})), -1.0);
}

}  // namespace
}  // namespace lv::scan
