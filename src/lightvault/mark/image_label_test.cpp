#include "lightvault/mark/image_label.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "lightvault/mark/image_testing.h"

namespace lv::mark {
namespace {

TEST(ImageLabel, CornersParseAndOthersNameTheFlag) {
  EXPECT_EQ(parse_label_corner("bottom-right").value(), LabelCorner::BottomRight);
  EXPECT_EQ(parse_label_corner("top-left").value(), LabelCorner::TopLeft);
  auto bad = parse_label_corner("middle");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("--label-position:", 0), 0u);
}

TEST(ImageLabel, ContrastFollowsTheWcagFormula) {
  const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, grey[3] = {0x77, 0x77, 0x77};
  EXPECT_NEAR(contrast_ratio(black, white), 21.0, 1e-9);
  EXPECT_NEAR(contrast_ratio(white, black), 21.0, 1e-9);
  // WCAG's own example: #777 on white is just under 4.5:1.
  EXPECT_NEAR(contrast_ratio(grey, white), 4.48, 0.01);
}

// What a person sees, measured from the pixels alone: the rectangle that changed, its
// commonest colour (the plate), the colour furthest from it in luminance (the text), and the
// rows holding pixels nearer the text colour than the plate's.
struct Measured {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  int text_height = 0;
  double contrast = 0;
  bool alpha_opaque = true;
};

Measured measure(const Image& before, const Image& after) {
  Measured m;
  const int ch = after.channels;
  auto rgb = [&](const Image& im, int x, int y) {
    const uint8_t* p = im.row(y) + static_cast<size_t>(x) * ch;
    return ch >= 3 ? std::array<uint8_t, 3>{p[0], p[1], p[2]} : std::array<uint8_t, 3>{p[0], p[0], p[0]};
  };
  for (int y = 0; y < after.height; ++y) {
    for (int x = 0; x < after.width; ++x) {
      if (std::memcmp(before.row(y) + x * ch, after.row(y) + x * ch, ch) == 0) continue;
      m.x0 = std::min(m.x0, x), m.x1 = std::max(m.x1, x), m.y0 = std::min(m.y0, y), m.y1 = std::max(m.y1, y);
    }
  }
  if (m.x1 < 0) return m;
  std::map<std::array<uint8_t, 3>, int> counts;
  for (int y = m.y0; y <= m.y1; ++y)
    for (int x = m.x0; x <= m.x1; ++x) counts[rgb(after, x, y)]++;
  auto plate = std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  auto lum = [](const std::array<uint8_t, 3>& c) { return relative_luminance(c[0], c[1], c[2]); };
  std::array<uint8_t, 3> text = plate;
  for (auto& [color, n] : counts)
    if (std::abs(lum(color) - lum(plate)) > std::abs(lum(text) - lum(plate))) text = color;
  m.contrast = contrast_ratio(text.data(), plate.data());
  int first = -1, last = -1;
  for (int y = m.y0; y <= m.y1; ++y) {
    for (int x = m.x0; x <= m.x1; ++x) {
      if (std::abs(lum(rgb(after, x, y)) - lum(text)) < std::abs(lum(rgb(after, x, y)) - lum(plate))) {
        if (first < 0) first = y;
        last = y;
        break;
      }
    }
    if (ch == 4) {
      for (int x = m.x0; x <= m.x1; ++x) m.alpha_opaque &= after.row(y)[x * 4 + 3] == 255;
    }
  }
  m.text_height = first < 0 ? 0 : last - first + 1;
  return m;
}

void expect_legible(const Image& before, const Image& after, const DrawnLabel& drawn, const std::string& what) {
  const Measured m = measure(before, after);
  const int shorter = std::min(before.width, before.height);
  ASSERT_GE(m.x1, 0) << what << ": nothing drawn";
  EXPECT_GE(m.text_height, kMinLabelHeightFraction * shorter) << what;
  EXPECT_GE(m.contrast, kMinLabelContrast) << what;
  EXPECT_TRUE(m.alpha_opaque) << what;
  // Nothing changed outside the plate.
  EXPECT_GE(m.x0, drawn.plate_x) << what;
  EXPECT_GE(m.y0, drawn.plate_y) << what;
  EXPECT_LT(m.x1, drawn.plate_x + drawn.plate_width) << what;
  EXPECT_LT(m.y1, drawn.plate_y + drawn.plate_height) << what;
}

class ImageLabelDrawTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = LabelRenderer::for_text(kDefaultImageLabel);
    ASSERT_TRUE(r.ok()) << r.error().message;
    renderer_ = std::move(r).value().release();
  }
  static void TearDownTestSuite() { delete renderer_; }
  static LabelRenderer* renderer_;
};
LabelRenderer* ImageLabelDrawTest::renderer_ = nullptr;

TEST_F(ImageLabelDrawTest, ChineseLabelIsTallAndContrastingAtEveryCorner) {
  const Image original = test_images::synthetic_image(400, 300, 3);
  for (LabelCorner corner : {LabelCorner::TopLeft, LabelCorner::TopRight, LabelCorner::BottomLeft, LabelCorner::BottomRight}) {
    Image image = original;
    auto drawn = draw_image_label(image, kDefaultImageLabel, corner, *renderer_);
    ASSERT_TRUE(drawn.ok()) << drawn.error().message;
    expect_legible(original, image, *drawn, "corner " + std::to_string(int(corner)));
    EXPECT_GE(drawn->contrast, kMinLabelContrast);
    const bool right = corner == LabelCorner::TopRight || corner == LabelCorner::BottomRight;
    const bool bottom = corner == LabelCorner::BottomLeft || corner == LabelCorner::BottomRight;
    EXPECT_EQ(drawn->plate_x + drawn->plate_width / 2 > image.width / 2, right);
    EXPECT_EQ(drawn->plate_y + drawn->plate_height / 2 > image.height / 2, bottom);
  }
}

TEST_F(ImageLabelDrawTest, LatinGreyAndRgbaImagesAndTheSharedPhotographs) {
  std::vector<std::pair<std::string, Image>> images = {{"grey", test_images::synthetic_image(640, 480, 1)},
                                                       {"rgba", test_images::synthetic_image(300, 500, 4)},
                                                       {"small", test_images::synthetic_image(120, 90, 3)}};
  for (const auto& path : test_images::shared_image_paths()) {
    images.emplace_back(path, decode_image(test_images::read_bytes(path), path).value());
  }
  const std::string_view latin_text = "AI generated";
  auto latin = LabelRenderer::for_text(latin_text);
  ASSERT_TRUE(latin.ok()) << latin.error().message;
  for (const auto& [name, original] : images) {
    for (std::string_view text : {kDefaultImageLabel, latin_text}) {
      Image image = original;
      auto drawn = draw_image_label(image, text, LabelCorner::BottomRight, text == latin_text ? **latin : *renderer_);
      ASSERT_TRUE(drawn.ok()) << name << ": " << drawn.error().message;
      expect_legible(original, image, *drawn, name + " / " + std::string(text));
    }
  }
}

TEST_F(ImageLabelDrawTest, LightAndDarkSurroundingsGetOppositePlates) {
  Image light{200, 200, 3, ImageFormat::Png, std::vector<uint8_t>(200 * 200 * 3, 250)};
  Image dark{200, 200, 3, ImageFormat::Png, std::vector<uint8_t>(200 * 200 * 3, 5)};
  auto on_light = draw_image_label(light, kDefaultImageLabel, LabelCorner::TopLeft, *renderer_);
  auto on_dark = draw_image_label(dark, kDefaultImageLabel, LabelCorner::TopLeft, *renderer_);
  ASSERT_TRUE(on_light.ok() && on_dark.ok());
  EXPECT_LT(on_light->plate_rgb[0], 128);
  EXPECT_GT(on_dark->plate_rgb[0], 128);
}

TEST_F(ImageLabelDrawTest, ImpossibleLabelsAreErrorsNamingTheFlag) {
  Image tiny = test_images::synthetic_image(16, 16, 3);
  auto small = draw_image_label(tiny, kDefaultImageLabel, LabelCorner::BottomRight, *renderer_);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().message.rfind("--label:", 0), 0u) << small.error().message;
  EXPECT_EQ(tiny.pixels, test_images::synthetic_image(16, 16, 3).pixels);  // untouched

  Image image = test_images::synthetic_image(100, 100, 3);
  EXPECT_FALSE(draw_image_label(image, "", LabelCorner::BottomRight, *renderer_).ok());
  EXPECT_FALSE(draw_image_label(image, "two\nlines", LabelCorner::BottomRight, *renderer_).ok());
  // A character no font on the system has (a private-use code point).
  auto missing = LabelRenderer::for_text("AI\xee\x80\x80");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("fonts-noto-cjk"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace lv::mark
