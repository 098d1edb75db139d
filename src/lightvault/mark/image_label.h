#pragma once
// The visible label GB 45438-2025 asks of AI-generated images: a short text ("AI生成") drawn
// on an opaque plate in a corner, big and contrasting enough that a person sees it.
// Contract of draw_image_label: the text's ink is at least 5% of the image's shorter side
// tall, text and plate colours have a WCAG contrast ratio of at least 4.5:1 (both are fixed
// per label, so the ratio holds whatever the image shows), the plate lies wholly inside the
// image, and only pixels inside the plate change (alpha there becomes opaque).
#include <memory>
#include <string>
#include <string_view>

#include "lightvault/mark/image.h"
#include "lightvault/util/status.h"

namespace lv::mark {

inline constexpr std::string_view kDefaultImageLabel = "AI生成";

enum class LabelCorner { TopLeft, TopRight, BottomLeft, BottomRight };

// "top-left", "top-right", "bottom-left", "bottom-right"; the error names --label-position.
Result<LabelCorner> parse_label_corner(std::string_view name);

// The minimum text height as a fraction of the shorter side, and what we aim for (a margin
// so that rounding never takes a label below the minimum).
inline constexpr double kMinLabelHeightFraction = 0.05;
inline constexpr double kLabelHeightFraction = 0.06;
inline constexpr double kMinLabelContrast = 4.5;

// WCAG 2 relative luminance of an sRGB colour (0 black .. 1 white) and the contrast ratio
// (L1 + 0.05) / (L2 + 0.05) of the lighter to the darker.
double relative_luminance(uint8_t r, uint8_t g, uint8_t b);
double contrast_ratio(const uint8_t a[3], const uint8_t b[3]);

// Where a label went and what it looks like, for tests and messages.
struct DrawnLabel {
  int plate_x = 0, plate_y = 0, plate_width = 0, plate_height = 0;
  int text_height = 0;  // rows of ink, top of the tallest glyph to bottom of the lowest
  uint8_t text_rgb[3] = {0, 0, 0};
  uint8_t plate_rgb[3] = {0, 0, 0};
  double contrast = 0;
};

// Shapes (HarfBuzz) and rasterises (FreeType) one line of text in one font. Holds the font
// open, so one renderer serves many images; not safe to share across threads.
class LabelRenderer {
 public:
  // Opens the font fontconfig picks for `text` (a CJK sans, preferring Noto Sans CJK), or a
  // known path of Debian's fonts-noto-cjk; an error saying to install it when none has every
  // character of `text`.
  static Result<std::unique_ptr<LabelRenderer>> for_text(std::string_view text);
  // Opens face `index` of the font file at `path`.
  static Result<std::unique_ptr<LabelRenderer>> open(const std::string& path, int index);
  ~LabelRenderer();
  LabelRenderer(const LabelRenderer&) = delete;
  LabelRenderer& operator=(const LabelRenderer&) = delete;

  const std::string& font_path() const { return path_; }

  // Coverage (0..255) of `text` at `pixel_size` pixels per em, cropped to its ink: width,
  // height and width*height bytes, row-major. An error names a character the font lacks.
  struct Mask {
    int width = 0, height = 0;
    std::vector<uint8_t> coverage;
  };
  Result<Mask> render(std::string_view text, int pixel_size);

 private:
  struct Fonts;
  explicit LabelRenderer(std::unique_ptr<Fonts> fonts, std::string path);
  std::unique_ptr<Fonts> fonts_;
  std::string path_;
};

// Draws `text` on a plate at `corner` of `image`. The plate is dark with white text on light
// surroundings and light with black text on dark ones, so the plate itself stands out too.
// Fails (naming --label) when the text cannot fit the image at the minimum height.
Result<DrawnLabel> draw_image_label(Image& image, std::string_view text, LabelCorner corner, LabelRenderer& renderer);

}  // namespace lv::mark
