#include "lightvault/scan/dataset.h"

#include <gtest/gtest.h>

#include <cstring>

namespace lv::scan {
namespace {

std::string npy(const std::string& descr, const std::string& shape, const void* data, size_t bytes, bool fortran = false) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

TEST(ScanDataset, CsvWithLabelColumnFromTheEnd) {
  auto data = parse_csv("a,b,label\n1,2,cat\n3, 4.5 ,dog\r\n-1e1,0,cat\n", "t.csv", -1);
  ASSERT_TRUE(data.ok()) << data.error().message;
  EXPECT_EQ(data->rows, 3);
  EXPECT_EQ(data->dim, 2);
  EXPECT_EQ(data->values, (std::vector<float>{1, 2, 3, 4.5f, -10, 0}));
  EXPECT_EQ(data->labels, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(data->label_names, (std::vector<std::string>{"cat", "dog"}));
  auto first = parse_csv("label,a\n7,1\n", "t.csv", 0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->label_names[0], "7");
  auto unlabelled = parse_csv("a,b\n1,2\n", "t.csv", std::nullopt);
  ASSERT_TRUE(unlabelled.ok());
  EXPECT_FALSE(unlabelled->has_labels());
}

TEST(ScanDataset, CsvErrorsNameFileLineAndField) {
  auto ragged = parse_csv("a,b\n1,2\n3\n", "t.csv", std::nullopt);
  ASSERT_FALSE(ragged.ok());
  EXPECT_EQ(ragged.error().message, "t.csv: line 3 has 1 fields, the header has 2 (line 3)");
  auto nan = parse_csv("a,b\n1,nan\n", "t.csv", std::nullopt);
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().message, "t.csv: value 'nan' is not finite (line 2, field 2)");
  auto inf = parse_csv("a,b\n1,1e999\n", "t.csv", std::nullopt);
  ASSERT_FALSE(inf.ok());
  EXPECT_NE(inf.error().message.find("(line 2, field 2)"), std::string::npos);
  auto word = parse_csv("a,b\nx,1\n", "t.csv", std::nullopt);
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.error().message, "t.csv: 'x' is not a number (line 2, field 1)");
  auto empty = parse_csv("", "t.csv", std::nullopt);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "t.csv: empty file: no header row");
  auto range = parse_csv("a,b\n1,2\n", "t.csv", 5);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.error().message, "t.csv: label column 5 is out of range: the header has 2 columns (line 1)");
  EXPECT_FALSE(parse_csv("a,b\n1,2\n", "t.csv", -3).ok());
  EXPECT_FALSE(parse_csv("a,b\n", "t.csv", std::nullopt).ok());
}

TEST(ScanDataset, NpyFloat32AndFloat64InBothOrders) {
  const float f[] = {1, 2, 3, 4, 5, 6};
  auto c = parse_npy(npy("<f4", "2, 3", f, sizeof f), "x.npy");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rows, 2);
  EXPECT_EQ(c->dim, 3);
  EXPECT_EQ(c->values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const double d[] = {1, 4, 2, 5, 3, 6};  // Fortran order of the same matrix
  auto fortran = parse_npy(npy("<f8", "2, 3", d, sizeof d, true), "x.npy");
  ASSERT_TRUE(fortran.ok()) << fortran.error().message;
  EXPECT_EQ(fortran->values, c->values);
}

TEST(ScanDataset, NpyErrors) {
  const float f[] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(parse_npy("", "x.npy").error().message, "x.npy: empty file");
  EXPECT_EQ(parse_npy("PK\x03\x04zzzzzzzz", "x.npy").error().message, "x.npy: not a .npy file: bad magic (offset 0)");
  EXPECT_NE(parse_npy(npy("<i4", "2, 3", f, sizeof f), "x.npy").error().message.find("is not float32 or float64"), std::string::npos);
  EXPECT_NE(parse_npy(npy("<f4", "6,", f, sizeof f), "x.npy").error().message.find("1 dimensions, expected 2"), std::string::npos);
  EXPECT_NE(parse_npy(npy("<f4", "3, 3", f, sizeof f), "x.npy").error().message.find("truncated data"), std::string::npos);
  const float bad[] = {1, 2, std::numeric_limits<float>::quiet_NaN(), 4};
  auto nan = parse_npy(npy("<f4", "2, 2", bad, sizeof bad), "x.npy");
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.error().message.find("row 1, column 0 is not finite"), std::string::npos);
  EXPECT_FALSE(parse_npy(npy("<f4", "99999999999, 99999999", f, sizeof f), "x.npy").ok());
}

TEST(ScanDataset, LabelsAndScannability) {
  auto data = parse_csv("a\n1\n2\n3\n", "t.csv", std::nullopt);
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(check_scannable(*data).ok());
  Status short_labels = parse_labels("x\ny\n", "l.txt", *data);
  ASSERT_FALSE(short_labels.ok());
  EXPECT_EQ(short_labels.error().message, "l.txt: 2 labels for 3 rows of t.csv (line 3)");
  ASSERT_TRUE(parse_labels("x\ny\nx\n\n", "l.txt", *data).ok());
  EXPECT_EQ(data->labels, (std::vector<int>{0, 1, 0}));

  auto two = parse_csv("a\n1\n2\n", "t.csv", std::nullopt);
  EXPECT_EQ(check_scannable(*two).error().message, "t.csv: only 2 samples; a scan needs at least 3 (rows)");
  auto same = parse_csv("a,b\n1,2\n1,2\n1,2\n", "t.csv", std::nullopt);
  EXPECT_EQ(check_scannable(*same).error().message, "t.csv: all 3 samples are identical (rows)");
}

}  // namespace
}  // namespace lv::scan
