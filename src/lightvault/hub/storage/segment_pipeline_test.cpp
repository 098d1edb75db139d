#include "lightvault/hub/storage/segment_pipeline.h"

#include <gtest/gtest.h>

#include <numeric>

namespace lv::hub {
namespace {

struct Seen {
  std::vector<size_t> lengths;
  std::vector<bool> last;
  std::vector<uint8_t> bytes;
};

SegmentPipeline::Consumer record(Seen& seen) {
  return [&seen](std::span<const uint8_t> segment, bool last) {
    seen.lengths.push_back(segment.size());
    seen.last.push_back(last);
    seen.bytes.insert(seen.bytes.end(), segment.begin(), segment.end());
    return Status::Ok();
  };
}

std::vector<uint8_t> counting(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), uint8_t{0});
  return v;
}

TEST(SegmentPipelineTest, CutsWritesOfAnyLengthIntoSegmentsInOrder) {
  Seen seen;
  std::vector<uint8_t> data = counting(1000);
  {
    SegmentPipeline p(64, 3, record(seen));
    for (size_t pos = 0; pos < data.size(); pos += 7) {
      ASSERT_TRUE(p.write(std::span(data).subspan(pos, std::min<size_t>(7, data.size() - pos))).ok());
    }
    ASSERT_TRUE(p.finish().ok());
  }
  EXPECT_EQ(seen.bytes, data);
  ASSERT_EQ(seen.lengths.size(), 16u);  // 15 full segments, then 40 bytes
  EXPECT_EQ(seen.lengths.back(), 1000u % 64);
  for (size_t i = 0; i < seen.last.size(); ++i) EXPECT_EQ(seen.last[i], i + 1 == seen.last.size()) << i;
}

TEST(SegmentPipelineTest, AnExactMultipleEndsWithAFullLastSegment) {
  Seen seen;
  std::vector<uint8_t> data = counting(128);
  SegmentPipeline p(64, 2, record(seen));
  ASSERT_TRUE(p.write(data).ok());
  ASSERT_TRUE(p.finish().ok());
  EXPECT_EQ(seen.lengths, (std::vector<size_t>{64, 64}));
  EXPECT_EQ(seen.last, (std::vector<bool>{false, true}));
}

TEST(SegmentPipelineTest, NothingWrittenGivesOneEmptyLastSegment) {
  Seen seen;
  SegmentPipeline p(64, 3, record(seen));
  ASSERT_TRUE(p.finish().ok());
  EXPECT_EQ(seen.lengths, (std::vector<size_t>{0}));
  EXPECT_EQ(seen.last, (std::vector<bool>{true}));
}

TEST(SegmentPipelineTest, TheFirstErrorStopsEverything) {
  int consumed = 0;
  SegmentPipeline p(16, 3, [&](std::span<const uint8_t>, bool) -> Status {
    if (++consumed == 2) return Error{"disk full"};
    return Status::Ok();
  });
  std::vector<uint8_t> data = counting(16);
  Status last_write;
  for (int i = 0; i < 100 && last_write.ok(); ++i) last_write = p.write(data);
  Status finished = p.finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.error().message, "disk full");
  EXPECT_EQ(consumed, 2);
}

}  // namespace
}  // namespace lv::hub
