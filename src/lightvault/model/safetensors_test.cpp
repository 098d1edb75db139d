#include "lightvault/model/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lightvault/tensor/dtype.h"

namespace lv {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lv_safetensors_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // Writes a file by hand: the 8-byte length `n` (default: the header's), the header, the data.
  std::string write_raw(const std::string& header, size_t data_bytes, std::optional<uint64_t> n = std::nullopt) {
    std::string bytes;
    uint64_t len = n.value_or(header.size());
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(len >> (8 * i)));
    bytes += header;
    bytes.append(data_bytes, '\x01');
    std::string p = path("raw.safetensors");
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  // The error of opening a hand-written file.
  std::string open_error(const std::string& header, size_t data_bytes, std::optional<uint64_t> n = std::nullopt) {
    auto file = SafetensorsFile::open(write_raw(header, data_bytes, n));
    EXPECT_FALSE(file.ok()) << "header accepted: " << header;
    return file.ok() ? "" : file.error().message;
  }

  std::string dir_;
};

TEST_F(SafetensorsTest, DTypeNamesAndSizes) {
  EXPECT_EQ(st_dtype_name(StDType::BF16), "BF16");
  EXPECT_EQ(st_dtype_size(StDType::F32), 4u);
  EXPECT_EQ(st_dtype_size(StDType::F16), 2u);
  EXPECT_EQ(st_dtype_size(StDType::I64), 8u);
  EXPECT_EQ(st_dtype_from_name("F8_E4M3"), StDType::F8_E4M3);
  EXPECT_FALSE(st_dtype_from_name("f32").has_value());
}

TEST_F(SafetensorsTest, WriteThenReadRoundTrips) {
  std::vector<uint16_t> half = {f32_to_f16(1.5f), f32_to_f16(-2.0f), f32_to_f16(0.25f)};  // 6 bytes: odd offset for what follows
  std::vector<float> matrix = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> bf16 = {0x3f80, 0xc000, 0x3e80, 0x0000};
  int64_t scalar = -7;
  std::vector<StTensorRef> tensors = {
      {"h", StDType::F16, {3}, half.data()},
      {"m", StDType::F32, {2, 3}, matrix.data()},
      {"b", StDType::BF16, {2, 2}, bf16.data()},
      {"s", StDType::I64, {}, &scalar},
      {"empty", StDType::F32, {0, 4}, nullptr},
  };
  std::string p = path("model.safetensors");
  ASSERT_TRUE(write_safetensors(p, tensors, {{"format", "pt"}}).ok());

  auto file = SafetensorsFile::open(p);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->header().data_offset % 8, 0u);
  EXPECT_EQ(file->header().metadata.at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const auto& t : tensors) {
    const StTensorInfo* info = file->find(t.name);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(info->dtype, t.dtype);
    EXPECT_EQ(info->shape, t.shape);
    size_t bytes = static_cast<size_t>(info->numel()) * st_dtype_size(t.dtype);
    ASSERT_EQ(info->nbytes(), bytes);
    if (bytes > 0) {
      EXPECT_EQ(std::memcmp(file->data(*info), t.data, bytes), 0) << t.name;
    }
    EXPECT_EQ(reinterpret_cast<uintptr_t>(file->data(*info)) % st_dtype_size(t.dtype), 0u) << t.name << " misaligned";
  }
  EXPECT_EQ(file->find("missing"), nullptr);
  // Nothing but the file itself is left in the directory.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) entries += e.path() == p ? 1 : 100;
  EXPECT_EQ(entries, 1);
}

TEST_F(SafetensorsTest, EmptyHeaderIsAValidFile) {
  auto file = SafetensorsFile::open(write_raw("{}", 0));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_TRUE(file->tensors().empty());
}

TEST_F(SafetensorsTest, TrailingSpacesInHeaderAreAccepted) {
  auto file = SafetensorsFile::open(
      write_raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})" + std::string(5, ' '), 8));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->find("a")->shape, std::vector<int64_t>{2});
}

TEST_F(SafetensorsTest, RejectsShortFile) {
  std::string p = path("short.safetensors");
  std::ofstream(p, std::ios::binary) << "abc";
  auto file = SafetensorsFile::open(p);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().message, p + ": file is 3 bytes, too short for the 8-byte header length (offset 0)");
}

TEST_F(SafetensorsTest, RejectsHeaderLengthPastEnd) {
  std::string e = open_error("{}", 0, 1000);
  EXPECT_NE(e.find("raw.safetensors: header length 1000 runs past the end of the 10-byte file (offset 0)"),
            std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsHugeHeaderLength) {
  std::string e = open_error("{}", 0, 200'000'000);
  EXPECT_NE(e.find("exceeds the limit of 100000000 bytes"), std::string::npos) << e;
  e = open_error("{}", 0, ~uint64_t{0});
  EXPECT_NE(e.find("exceeds the limit"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsInvalidJson) {
  std::string e = open_error(R"({"a": {"dtype": )", 0);
  EXPECT_NE(e.find("raw.safetensors: header is not valid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("(offset "), std::string::npos) << e;
  e = open_error("[1, 2]", 0);
  EXPECT_NE(e.find("header is not a JSON object"), std::string::npos) << e;
  e = open_error("{} x", 0);
  EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsDuplicateNames) {
  std::string e = open_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
  EXPECT_NE(e.find("header names 'a' twice"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsUnknownDType) {
  std::string e = open_error(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(e.find("raw.safetensors: unknown dtype 'Q4' (tensor 'w')"), std::string::npos) << e;
  e = open_error(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(e.find("no \"dtype\" string (tensor 'w')"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsBadShapes) {
  std::string e = open_error(R"({"w":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(e.find("not a non-negative integer (tensor 'w')"), std::string::npos) << e;
  e = open_error(R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(e.find("(tensor 'w')"), std::string::npos) << e;
  // 2^62 * 2^62 elements overflows; so does 2^62 elements of 4 bytes.
  e = open_error(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(e.find("is too large (tensor 'w')"), std::string::npos) << e;
  e = open_error(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0);
  EXPECT_NE(e.find("is too large (tensor 'w')"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsOffsetsPastEnd) {
  std::string e = open_error(R"({"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}})", 16);
  EXPECT_NE(e.find("data_offsets end 64 lies past the end of the 16-byte data buffer (tensor 'w')"),
            std::string::npos) << e;
  e = open_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551615,3]}})", 16);
  EXPECT_NE(e.find("data_offsets begin 18446744073709551615 is after end 3 (tensor 'w')"), std::string::npos) << e;
  e = open_error(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4);
  EXPECT_NE(e.find("\"data_offsets\" is not a pair"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsSizeMismatch) {
  std::string header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})";
  std::string e = open_error(header, 12);
  EXPECT_NE(e.find("data_offsets span 12 bytes but F32 [2, 2] needs 16 (tensor 'w', offset " +
                   std::to_string(8 + header.size()) + ")"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsOverlapGapAndTrailingBytes) {
  std::string e = open_error(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                             R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 24);
  EXPECT_NE(e.find("data overlaps tensor 'a' (tensor 'b', offset"), std::string::npos) << e;
  e = open_error(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                 R"("b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}})", 36);
  EXPECT_NE(e.find("4 unused bytes before the data (tensor 'b', offset"), std::string::npos) << e;
  e = open_error(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 20);
  EXPECT_NE(e.find("4 bytes after the last tensor's data"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, RejectsBadMetadata) {
  std::string e = open_error(R"({"__metadata__":{"format":1}})", 0);
  EXPECT_NE(e.find("__metadata__ value of 'format' is not a string"), std::string::npos) << e;
  e = open_error(R"({"__metadata__":[]})", 0);
  EXPECT_NE(e.find("__metadata__ is not a JSON object"), std::string::npos) << e;
}

TEST_F(SafetensorsTest, ErrorsEscapeControlCharactersInNames) {
  std::string e = open_error(R"({"a\nb":{"dtype":"X","shape":[],"data_offsets":[0,0]}})", 0);
  EXPECT_NE(e.find("(tensor 'a\\x0ab')"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST_F(SafetensorsTest, WriterRejectsBadInput) {
  float x = 1;
  std::string p = path("bad.safetensors");
  EXPECT_FALSE(write_safetensors(p, {{"a", StDType::F32, {1}, &x}, {"a", StDType::F32, {1}, &x}}).ok());
  EXPECT_FALSE(write_safetensors(p, {{"__metadata__", StDType::F32, {1}, &x}}).ok());
  EXPECT_FALSE(write_safetensors(p, {{"a", StDType::F32, {-1}, &x}}).ok());
  EXPECT_FALSE(write_safetensors(p, {{"a", StDType::F32, {1}, nullptr}}).ok());
  EXPECT_FALSE(write_safetensors(p, {{"\xff", StDType::F32, {1}, &x}}).ok());
  EXPECT_FALSE(fs::exists(p));
  auto s = write_safetensors(path("no/such/dir/x.safetensors"), {{"a", StDType::F32, {1}, &x}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no/such/dir/x.safetensors: cannot create a temporary file"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SafetensorsTest, WriterReplacesAnExistingFile) {
  float a = 1, b = 2;
  std::string p = path("x.safetensors");
  ASSERT_TRUE(write_safetensors(p, {{"a", StDType::F32, {1}, &a}}).ok());
  ASSERT_TRUE(write_safetensors(p, {{"b", StDType::F32, {1}, &b}}).ok());
  auto file = SafetensorsFile::open(p);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->find("a"), nullptr);
  ASSERT_NE(file->find("b"), nullptr);
  EXPECT_EQ(*reinterpret_cast<const float*>(file->data(*file->find("b"))), 2.0f);
}

// Every truncation and every single-byte change of a valid file either parses or fails
// cleanly; a parsed header never points outside the buffer.
TEST_F(SafetensorsTest, CorruptedFilesNeverReadOutOfBounds) {
  std::vector<float> m(6, 1.0f);
  std::vector<uint16_t> h(5, 0x3c00);
  std::string p = path("ok.safetensors");
  ASSERT_TRUE(write_safetensors(p, {{"m", StDType::F32, {2, 3}, m.data()}, {"h", StDType::F16, {5}, h.data()}}).ok());
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_FALSE(parse_safetensors(bytes.data(), len, "t").ok()) << "truncated to " << len;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t flip : {0x01, 0x20, 0x80}) {
      std::vector<uint8_t> copy = bytes;
      copy[i] ^= flip;
      auto header = parse_safetensors(copy.data(), copy.size(), "t");
      if (!header.ok()) continue;
      for (const auto& t : header->tensors) {
        EXPECT_LE(header->data_offset + t.end, copy.size());
        EXPECT_EQ(t.nbytes(), static_cast<uint64_t>(t.numel()) * st_dtype_size(t.dtype));
      }
    }
  }
}

}  // namespace
}  // namespace lv
