#include "lightvault/scan/dataset.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "lightvault/util/text.h"

namespace lv::scan {
namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string_view field = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
    fields.push_back(field);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

std::string where(int64_t line, size_t field) {
  return "(line " + std::to_string(line) + ", field " + std::to_string(field + 1) + ")";
}

Result<float> parse_number(std::string_view field, const std::string& source, int64_t line, size_t column) {
  double value = 0;
  std::string_view digits = field;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return make_error(source, quote_for_message(field, 40) + " is not a number " + where(line, column));
  }
  if (!std::isfinite(value) || !std::isfinite(static_cast<float>(value))) {
    return make_error(source, "value " + quote_for_message(field, 40) + " is not finite " + where(line, column));
  }
  return static_cast<float>(value);
}

}  // namespace

Status for_each_line(std::string_view text, const std::function<Status(int64_t, std::string_view)>& fn) {
  int64_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LV_RETURN_IF_ERROR(fn(++number, line));
    start = end + 1;
  }
  return Status::Ok();
}

int Dataset::label_id(const std::string& name) {
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (label_names[i] == name) return static_cast<int>(i);
  }
  label_names.push_back(name);
  return static_cast<int>(label_names.size() - 1);
}

Result<Dataset> parse_csv(std::string_view text, const std::string& source, std::optional<int> label_column) {
  Dataset data;
  data.source = source;
  size_t columns = 0;
  size_t label_index = SIZE_MAX;
  bool header_seen = false;
  Status status = for_each_line(text, [&](int64_t line, std::string_view content) -> Status {
    if (content.empty()) return Status::Ok();
    auto fields = split_fields(content);
    if (!header_seen) {
      header_seen = true;
      columns = fields.size();
      if (label_column) {
        int64_t c = *label_column < 0 ? static_cast<int64_t>(columns) + *label_column : *label_column;
        if (c < 0 || c >= static_cast<int64_t>(columns)) {
          return make_error(source, "label column " + std::to_string(*label_column) + " is out of range: the header has " +
                                        std::to_string(columns) + " columns (line " + std::to_string(line) + ")");
        }
        label_index = static_cast<size_t>(c);
      }
      size_t features = columns - (label_column ? 1 : 0);
      if (features == 0) return make_error(source, "no feature columns (line " + std::to_string(line) + ")");
      data.dim = static_cast<int>(features);
      return Status::Ok();
    }
    if (fields.size() != columns) {
      return make_error(source, "line " + std::to_string(line) + " has " + std::to_string(fields.size()) +
                                    " fields, the header has " + std::to_string(columns) + " (line " +
                                    std::to_string(line) + ")");
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      if (c == label_index) {
        if (fields[c].empty()) return make_error(source, "empty label " + where(line, c));
        data.labels.push_back(data.label_id(std::string(fields[c])));
        continue;
      }
      LV_ASSIGN_OR_RETURN(float value, parse_number(fields[c], source, line, c));
      data.values.push_back(value);
    }
    ++data.rows;
    return Status::Ok();
  });
  if (!status.ok()) return status.error();
  if (!header_seen) return make_error(source, "empty file: no header row");
  if (data.rows == 0) return make_error(source, "no data rows after the header");
  return data;
}

Result<Dataset> read_csv(const std::string& path, std::optional<int> label_column) {
  LV_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_csv(text, path, label_column);
}

namespace {

// The value of `key` in a .npy header dict, e.g. 'descr': '<f4' -> <f4 (quotes kept off).
std::optional<std::string_view> header_value(std::string_view header, std::string_view key) {
  size_t at = header.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t colon = header.find(':', at + key.size());
  if (colon == std::string_view::npos) return std::nullopt;
  size_t start = colon + 1;
  while (start < header.size() && header[start] == ' ') ++start;
  if (start >= header.size()) return std::nullopt;
  if (header[start] == '\'' || header[start] == '"') {
    size_t end = header.find(header[start], start + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return header.substr(start + 1, end - start - 1);
  }
  if (header[start] == '(') {
    size_t end = header.find(')', start);
    if (end == std::string_view::npos) return std::nullopt;
    return header.substr(start + 1, end - start - 1);
  }
  size_t end = header.find_first_of(",}", start);
  if (end == std::string_view::npos) return std::nullopt;
  return header.substr(start, end - start);
}

Result<std::vector<int64_t>> parse_shape(std::string_view text, const std::string& source) {
  std::vector<int64_t> shape;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size()) break;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    if (ec != std::errc() || value < 0) return make_error(source, "bad shape " + quote_for_message(text, 40) + " (header field shape)");
    shape.push_back(value);
    i = static_cast<size_t>(end - text.data());
    while (i < text.size() && text[i] == 'L') ++i;  // Python 2 longs
  }
  return shape;
}

}  // namespace

Result<Dataset> parse_npy(std::string_view bytes, const std::string& source) {
  static constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.empty()) return make_error(source, "empty file");
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view(kMagic, 6)) {
    return make_error(source, "not a .npy file: bad magic (offset 0)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return make_error(source, "truncated header (offset 8)");
    for (int b = 3; b >= 0; --b) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + b]);
    header_start = 12;
  } else {
    return make_error(source, "unsupported .npy version " + std::to_string(major) + " (offset 6)");
  }
  if (header_len > bytes.size() - header_start) return make_error(source, "truncated header (offset 8)");
  std::string_view header = bytes.substr(header_start, header_len);
  auto descr = header_value(header, "'descr'");
  auto order = header_value(header, "'fortran_order'");
  auto shape_text = header_value(header, "'shape'");
  if (!descr || !order || !shape_text) return make_error(source, "header lacks descr, fortran_order or shape (header)");
  size_t item = 0;
  if (*descr == "<f4" || *descr == "=f4" || *descr == "f4") item = 4;
  else if (*descr == "<f8" || *descr == "=f8" || *descr == "f8") item = 8;
  else return make_error(source, "dtype " + quote_for_message(*descr, 40) + " is not float32 or float64 (header field descr)");
  bool fortran = *order == "True";
  if (!fortran && *order != "False") return make_error(source, "bad fortran_order (header field fortran_order)");
  LV_ASSIGN_OR_RETURN(auto shape, parse_shape(*shape_text, source));
  if (shape.size() != 2) {
    return make_error(source, "array has " + std::to_string(shape.size()) + " dimensions, expected 2 (header field shape)");
  }
  const int64_t rows = shape[0], cols = shape[1];
  if (rows == 0 || cols == 0) return make_error(source, "array is empty (header field shape)");
  if (cols > (1 << 24) || rows > (int64_t{1} << 40) / cols) return make_error(source, "array too large (header field shape)");
  const size_t data_start = header_start + header_len;
  const size_t need = static_cast<size_t>(rows * cols) * item;
  if (bytes.size() - data_start < need) {
    return make_error(source, "truncated data: " + std::to_string(bytes.size() - data_start) + " bytes, shape needs " +
                                  std::to_string(need) + " (offset " + std::to_string(data_start) + ")");
  }
  Dataset data;
  data.source = source;
  data.rows = rows;
  data.dim = static_cast<int>(cols);
  data.values.resize(static_cast<size_t>(rows * cols));
  const char* base = bytes.data() + data_start;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t stored = fortran ? c * rows + r : r * cols + c;
      double value;
      if (item == 4) {
        float f;
        std::memcpy(&f, base + stored * 4, 4);
        value = f;
      } else {
        std::memcpy(&value, base + stored * 8, 8);
      }
      if (!std::isfinite(value) || !std::isfinite(static_cast<float>(value))) {
        return make_error(source, "value at row " + std::to_string(r) + ", column " + std::to_string(c) +
                                      " is not finite (offset " + std::to_string(data_start + stored * item) + ")");
      }
      data.values[static_cast<size_t>(r * cols + c)] = static_cast<float>(value);
    }
  }
  return data;
}

Result<Dataset> read_npy(const std::string& path) {
  LV_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_npy(bytes, path);
}

Status parse_labels(std::string_view text, const std::string& source, Dataset& data) {
  data.labels.clear();
  data.label_names.clear();
  Status status = for_each_line(text, [&](int64_t, std::string_view line) -> Status {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty()) data.labels.push_back(data.label_id(std::string(line)));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  if (static_cast<int64_t>(data.labels.size()) != data.rows) {
    int64_t count = static_cast<int64_t>(data.labels.size());
    data.labels.clear();
    data.label_names.clear();
    return make_error(source, std::to_string(count) + " labels for " + std::to_string(data.rows) + " rows of " + data.source +
                                  " (line " + std::to_string(count + 1) + ")");
  }
  return Status::Ok();
}

Status read_labels(const std::string& path, Dataset& data) {
  LV_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_labels(text, path, data);
}

Status check_scannable(const Dataset& data) {
  if (data.rows < 3) return make_error(data.source, "only " + std::to_string(data.rows) + " samples; a scan needs at least 3 (rows)");
  for (int64_t r = 1; r < data.rows; ++r) {
    if (std::memcmp(data.row(r), data.row(0), sizeof(float) * static_cast<size_t>(data.dim)) != 0) return Status::Ok();
  }
  return make_error(data.source, "all " + std::to_string(data.rows) + " samples are identical (rows)");
}

}  // namespace lv::scan
