#include "lightvault/mark/image_marker.h"

#include <gtest/gtest.h>

#include "lightvault/mark/image_testing.h"

namespace lv::mark {
namespace {

TEST(ImageMarker, PayloadsAreSixteenHexDigits) {
  EXPECT_EQ(payload_hex(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(payload_hex(1), "0000000000000001");
  EXPECT_EQ(parse_payload_hex("0123456789ABCDEF").value(), 0x0123456789abcdefULL);
  EXPECT_EQ(parse_payload_hex(payload_hex(~0ULL)).value(), ~0ULL);
  for (const char* bad : {"", "123", "0123456789abcdef0", "0123456789abcdeg", "-123456789abcdef"}) {
    auto r = parse_payload_hex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.rfind("--payload:", 0), 0u);
  }
  EXPECT_NE(random_image_payload(), random_image_payload());
}

TEST(ImageMarker, LabelAndMetadataWithoutWatermarkInTheInputsFormat) {
  for (ImageFormat format : {ImageFormat::Png, ImageFormat::Jpeg}) {
    const std::string input = encode_image(test_images::synthetic_image(320, 240, 3, format)).value();
    ImageMarkOptions options;
    options.watermark = false;
    options.corner = LabelCorner::TopRight;
    options.aigc.content_producer = "provider";
    options.aigc.produce_id = "id-1";
    auto marked = mark_image(input, "in", options);
    ASSERT_TRUE(marked.ok()) << marked.error().message;
    ASSERT_TRUE(marked->label.has_value());
    EXPECT_GT(marked->label->plate_x, 160);
    EXPECT_LT(marked->label->plate_y, 120);
    EXPECT_GE(marked->label->contrast, kMinLabelContrast);

    auto marks = inspect_image(marked->bytes, "out", default_image_watermark_key());
    ASSERT_TRUE(marks.ok()) << marks.error().message;
    EXPECT_EQ(marks->format, format);
    EXPECT_EQ(marks->width, 320);
    ASSERT_TRUE(marks->aigc.has_value());
    EXPECT_EQ(*marks->aigc, options.aigc);
    EXPECT_TRUE(marks->aigc_error.empty());
    // Without a mark the detector either ran and found nothing or says why it could not.
    EXPECT_TRUE(marks->watermark ? !marks->watermark->found : !marks->watermark_error.empty());
  }
}

TEST(ImageMarker, ReportJsonHasTheDocumentedShape) {
  ImageMarks marks;
  marks.watermark = ImageWatermarkDetection{.found = true, .payload = 0xfeedULL, .bit_agreement = 0.97, .score = 9.5,
                                            .false_positive_bound = 1e-9, .scale_percent = 75, .angle_degrees = -1.5};
  marks.aigc = AigcFields{};
  marks.aigc->produce_id = "x";
  nlohmann::ordered_json j = image_marks_json(marks);
  EXPECT_EQ(j["watermark"]["found"], true);
  EXPECT_EQ(j["watermark"]["payload"], "000000000000feed");
  EXPECT_EQ(j["watermark"]["scale_percent"], 75);
  EXPECT_EQ(j["watermark"]["angle_degrees"], -1.5);
  EXPECT_EQ(j["metadata"]["aigc"]["ProduceID"], "x");
  EXPECT_EQ(j["metadata"]["aigc"]["Label"], "1");
  EXPECT_EQ(j["c2pa"], (nlohmann::ordered_json{{"present", false}, {"valid", false}}));
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"watermark", "metadata", "c2pa"}));

  ImageMarks failed;
  failed.watermark_error = "too small";
  failed.aigc_error = "bad xmp";
  j = image_marks_json(failed);
  EXPECT_EQ(j["watermark"]["found"], false);
  EXPECT_TRUE(j["watermark"]["payload"].is_null());
  EXPECT_EQ(j["watermark"]["error"], "too small");
  EXPECT_TRUE(j["metadata"]["aigc"].is_null());
  EXPECT_EQ(j["metadata"]["error"], "bad xmp");

  ImageMarks signed_marks;
  signed_marks.c2pa = C2paReport{};
  signed_marks.c2pa->present = true;
  signed_marks.c2pa->valid = true;
  j = image_marks_json(signed_marks);
  EXPECT_EQ(j["c2pa"]["present"], true);
  EXPECT_EQ(j["c2pa"]["valid"], true);
}

TEST(ImageMarker, UndecodableInputIsAnErrorNamingTheFile) {
  ImageMarkOptions options;
  auto marked = mark_image("\xff\xd8\xff\xe0", "in.jpg", options);
  ASSERT_FALSE(marked.ok());
  EXPECT_EQ(marked.error().message.rfind("in.jpg: JPEG:", 0), 0u) << marked.error().message;
  EXPECT_FALSE(inspect_image("plain text", "t.txt", default_image_watermark_key()).ok());
}

}  // namespace
}  // namespace lv::mark
