#pragma once
// The rows a scan looks at: n samples of d features (row-major float32) and, optionally, one
// label per sample. Readers check everything a scan relies on and name the file, line and
// field of the first problem: ragged rows, values that are not finite numbers, an empty file,
// a label column out of range.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::scan {

struct Dataset {
  std::string source;               // the file the rows came from, for messages
  int64_t rows = 0;
  int dim = 0;
  std::vector<float> values;        // rows * dim
  std::vector<int> labels;          // empty, or one id per row indexing label_names
  std::vector<std::string> label_names;

  const float* row(int64_t i) const { return values.data() + i * dim; }
  bool has_labels() const { return !labels.empty(); }
  // Appends `name` to label_names if new; returns its id.
  int label_id(const std::string& name);
};

// CSV with a header row and numeric feature columns. `label_column` picks the label column
// (negative counts from the end, -1 the last); without it every column is a feature.
Result<Dataset> parse_csv(std::string_view text, const std::string& source, std::optional<int> label_column);
Result<Dataset> read_csv(const std::string& path, std::optional<int> label_column);

// NumPy .npy (versions 1-3), a 2-D little-endian float32 or float64 array, C or Fortran order.
Result<Dataset> parse_npy(std::string_view bytes, const std::string& source);
Result<Dataset> read_npy(const std::string& path);

// Reads one label per line (blank lines ignored) into `data`; the count must equal data.rows.
Status read_labels(const std::string& path, Dataset& data);
Status parse_labels(std::string_view text, const std::string& source, Dataset& data);

// Calls fn(line_number, line) for every line of `text` (1-based; \n or \r\n, the terminator
// removed, empty lines included) until fn fails; returns its error.
Status for_each_line(std::string_view text, const std::function<Status(int64_t, std::string_view)>& fn);

// A scan needs at least 3 rows that are not all identical.
Status check_scannable(const Dataset& data);

}  // namespace lv::scan
