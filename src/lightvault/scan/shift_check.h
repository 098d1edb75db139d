#pragma once
// The shift check: does a group of one label's rows belong to other labels once the change its
// members share is taken away? It is exclusionary reclassification (Chen et al. 2018, who
// retrain a model without the group and see where its members go) done with nearest
// neighbours instead of a retrained model.
//
// A BadNets-style poisoned sample is a sample of another class plus the trigger, relabelled.
// Every poisoned member therefore sits about one trigger away from rows of its true class,
// whatever that class is: the displacement from a member to the mean of its m nearest rows of
// other labels is nearly the same vector for all of them. For a group of label L:
//   shift t   = the coordinate-wise median over members of (x - mean of its m nearest rows
//               of labels other than L);
//   ratio(x)  = mean distance from x - t to its m nearest rows of other labels
//               / mean distance from x to its m nearest other rows of label L.
// A poisoned group, stripped of t, lands among other labels about as near as its own rows are
// to each other (ratio near or under 1). A natural style of a digit has no shared shift that
// turns it into other digits: its ratio stays above 1 (1.1 to 2.2 for the clean digits' large
// groups; small groups fit their own median shift better, down to 0.87).
//
// Distances are Euclidean over all rows by exhaustive search: O(n d) per measured row.
#include <cstdint>
#include <vector>

#include "lightvault/scan/dataset.h"

namespace lv::scan {

class ShiftCheck {
 public:
  // `data` must outlive the check and carry labels; m >= 1 is the neighbour count.
  ShiftCheck(const Dataset& data, int label, int m);

  // x - the mean of the m nearest rows of other labels (zeros when there are none).
  std::vector<double> displacement(int64_t row) const;
  // The coordinate-wise median displacement of `members` (rows of the label).
  std::vector<double> shared_shift(const std::vector<int64_t>& members) const;
  // ratio(row) under `shift`; -1 when the label has no other row or there are no other labels.
  double ratio(int64_t row, const std::vector<double>& shift) const;

 private:
  // Mean of the m smallest Euclidean distances from `point` to the rows that `take` accepts,
  // the row `skip` excluded; -1 when none is accepted.
  template <typename Accept>
  double mean_nearest(const double* point, int64_t skip, Accept take) const;

  const Dataset& data_;
  int label_;
  int m_;
};

}  // namespace lv::scan
