#include "lightvault/mark/c2pa_container.h"

#include <gtest/gtest.h>

#include "lightvault/mark/c2pa_testutil.h"
#include "lightvault/mark/jumbf.h"

namespace lv::mark {
namespace {

std::string store_of(size_t payload_bytes) {
  return jumbf_superbox(c2pa_jumbf_uuid("c2pa"), "c2pa", jumbf_box("cbor", std::string(payload_bytes, 'p')));
}

TEST(C2paContainer, PngCrcIsIso3309) {
  EXPECT_EQ(png_crc32("IEND"), 0xAE426082u);  // every PNG's last four bytes
}

TEST(C2paContainer, JpegStoreRoundTripsAcrossApp11Segments) {
  const std::string store = store_of(200000);
  auto framed = frame_c2pa_store(store, ImageFormat::Jpeg);
  ASSERT_TRUE(framed.ok());
  std::string jpeg = testing::tiny_jpeg();
  auto offset = c2pa_insert_offset(jpeg, ImageFormat::Jpeg, "t");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 2u + 18u);  // after SOI and the JFIF APP0
  jpeg.insert(*offset, *framed);
  auto found = find_c2pa_store(jpeg, ImageFormat::Jpeg, "t");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->store, store);
  ASSERT_EQ((*found)->ranges.size(), 4u);  // 200 KB over segments of at most 65517 payload bytes
  EXPECT_EQ((*found)->ranges.front().first, *offset);
  size_t total = 0;
  for (const auto& [start, length] : (*found)->ranges) {
    EXPECT_LE(length, 65537u);  // marker + the largest Lp
    total += length;
  }
  EXPECT_EQ(total, framed->size());
  auto removed = remove_c2pa_stores(jpeg, ImageFormat::Jpeg, "t");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, testing::tiny_jpeg());
}

TEST(C2paContainer, PngStoreRoundTripsInACaBXChunk) {
  const std::string store = store_of(100);
  auto framed = frame_c2pa_store(store, ImageFormat::Png);
  ASSERT_TRUE(framed.ok());
  std::string png = testing::ramp_png(5, 5);
  auto offset = c2pa_insert_offset(png, ImageFormat::Png, "t");
  ASSERT_TRUE(offset.ok());
  png.insert(*offset, *framed);
  auto found = find_c2pa_store(png, ImageFormat::Png, "t");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->store, store);
  EXPECT_EQ((*found)->ranges.front(), std::make_pair(*offset, framed->size()));
  auto removed = remove_c2pa_stores(png, ImageFormat::Png, "t");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, testing::ramp_png(5, 5));
}

TEST(C2paContainer, BrokenStructureIsAnErrorWithItsOffset) {
  std::string jpeg = testing::tiny_jpeg();
  auto framed = frame_c2pa_store(store_of(100000), ImageFormat::Jpeg);
  ASSERT_TRUE(framed.ok());
  // Only the first of two packets: the store is incomplete.
  const size_t first_segment = 2 + ((static_cast<uint8_t>((*framed)[2]) << 8) | static_cast<uint8_t>((*framed)[3]));
  std::string partial = jpeg;
  partial.insert(2, framed->substr(0, first_segment));
  auto incomplete = find_c2pa_store(partial, ImageFormat::Jpeg, "in.jpg");
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.error().message.find("incomplete"), std::string::npos);

  std::string long_segment = jpeg.substr(0, 4) + "\xff\xff" + jpeg.substr(6);
  auto r = find_c2pa_store(long_segment, ImageFormat::Jpeg, "in.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset 2"), std::string::npos) << r.error().message;

  std::string png = testing::ramp_png(2, 2);
  png[8] = '\x7f';  // IHDR length far past the end
  EXPECT_FALSE(find_c2pa_store(png, ImageFormat::Png, "in.png").ok());
  EXPECT_FALSE(sniff_image_format("GIF89a", "x").ok());
}

}  // namespace
}  // namespace lv::mark
