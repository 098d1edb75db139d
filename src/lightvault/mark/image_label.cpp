#include "lightvault/mark/image_label.h"

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb-ft.h>
#include <hb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "lightvault/mark/text_label.h"
#include "lightvault/util/text.h"

namespace lv::mark {

Result<LabelCorner> parse_label_corner(std::string_view name) {
  if (name == "top-left") return LabelCorner::TopLeft;
  if (name == "top-right") return LabelCorner::TopRight;
  if (name == "bottom-left") return LabelCorner::BottomLeft;
  if (name == "bottom-right") return LabelCorner::BottomRight;
  return make_error("--label-position", "\"" + std::string(name) + "\" is not top-left, top-right, bottom-left or bottom-right");
}

namespace {

double linear_channel(uint8_t v) {
  const double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

// Where fontconfig is missing or misconfigured: the files Debian's CJK font packages install.
// Noto Sans CJK's collections hold JP, KR, SC, TC, HK in that order: 2 is Simplified Chinese.
struct KnownFont {
  const char* path;
  int index;
};
constexpr KnownFont kKnownFonts[] = {
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2},       // fonts-noto-cjk
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2},    // fonts-noto-cjk
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},              // fonts-wqy-zenhei
    {"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0}, // fonts-droid-fallback
};

// The Unicode code points of UTF-8 `text`, as HarfBuzz reads them (bad bytes become U+FFFD).
std::vector<uint32_t> code_points(std::string_view text) {
  hb_buffer_t* buffer = hb_buffer_create();
  hb_buffer_add_utf8(buffer, text.data(), static_cast<int>(text.size()), 0, static_cast<int>(text.size()));
  unsigned n = 0;
  hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer, &n);
  std::vector<uint32_t> points;
  for (unsigned i = 0; i < n; ++i) points.push_back(info[i].codepoint);
  hb_buffer_destroy(buffer);
  return points;
}

// fontconfig's best match for a bold CJK sans that has every one of `points`; its answer
// may still lack some (it returns its nearest font), which the caller checks.
bool fontconfig_choice(const std::vector<uint32_t>& points, std::string* path, int* index) {
  FcConfig* config = FcInitLoadConfigAndFonts();
  if (!config) return false;
  FcPattern* pattern = FcNameParse(reinterpret_cast<const FcChar8*>("Noto Sans CJK SC:lang=zh-cn:weight=bold"));
  FcCharSet* charset = FcCharSetCreate();
  for (uint32_t p : points) FcCharSetAddChar(charset, p);
  FcPatternAddCharSet(pattern, FC_CHARSET, charset);
  FcConfigSubstitute(config, pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  FcPattern* match = FcFontMatch(config, pattern, &result);
  bool found = false;
  FcChar8* file = nullptr;
  if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch) {
    *path = reinterpret_cast<const char*>(file);
    if (FcPatternGetInteger(match, FC_INDEX, 0, index) != FcResultMatch) *index = 0;
    found = true;
  }
  if (match) FcPatternDestroy(match);
  FcCharSetDestroy(charset);
  FcPatternDestroy(pattern);
  FcConfigDestroy(config);
  return found;
}

}  // namespace

double relative_luminance(uint8_t r, uint8_t g, uint8_t b) {
  return 0.2126 * linear_channel(r) + 0.7152 * linear_channel(g) + 0.0722 * linear_channel(b);
}

double contrast_ratio(const uint8_t a[3], const uint8_t b[3]) {
  const double la = relative_luminance(a[0], a[1], a[2]), lb = relative_luminance(b[0], b[1], b[2]);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

struct LabelRenderer::Fonts {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  hb_font_t* font = nullptr;
  hb_buffer_t* buffer = nullptr;
  ~Fonts() {
    if (buffer) hb_buffer_destroy(buffer);
    if (font) hb_font_destroy(font);  // holds a reference to face
    if (face) FT_Done_Face(face);
    if (library) FT_Done_FreeType(library);
  }
};

LabelRenderer::LabelRenderer(std::unique_ptr<Fonts> fonts, std::string path) : fonts_(std::move(fonts)), path_(std::move(path)) {}
LabelRenderer::~LabelRenderer() = default;

Result<std::unique_ptr<LabelRenderer>> LabelRenderer::open(const std::string& path, int index) {
  auto fonts = std::make_unique<Fonts>();
  if (FT_Init_FreeType(&fonts->library) != 0) return make_error(path, "FreeType failed to start");
  if (FT_New_Face(fonts->library, path.c_str(), index, &fonts->face) != 0) {
    return make_error(path, "not a font FreeType can open (face " + std::to_string(index) + ")");
  }
  if (!FT_IS_SCALABLE(fonts->face)) return make_error(path, "not a scalable font");
  fonts->font = hb_ft_font_create_referenced(fonts->face);
  fonts->buffer = hb_buffer_create();
  return std::unique_ptr<LabelRenderer>(new LabelRenderer(std::move(fonts), path));
}

Result<std::unique_ptr<LabelRenderer>> LabelRenderer::for_text(std::string_view text) {
  const std::vector<uint32_t> points = code_points(text);
  std::vector<KnownFont> candidates;
  std::string fc_path;
  int fc_index = 0;
  if (fontconfig_choice(points, &fc_path, &fc_index)) candidates.push_back({fc_path.c_str(), fc_index});
  candidates.insert(candidates.end(), std::begin(kKnownFonts), std::end(kKnownFonts));
  for (const KnownFont& candidate : candidates) {
    auto renderer = open(candidate.path, candidate.index);
    if (!renderer.ok()) continue;
    FT_Face face = (*renderer)->fonts_->face;
    if (std::all_of(points.begin(), points.end(), [&](uint32_t p) { return FT_Get_Char_Index(face, p) != 0; })) {
      return renderer;
    }
  }
  return make_error("--label", "no installed font has every character of " + quote_for_message(text) +
                                   " (install Debian's fonts-noto-cjk)");
}

Result<LabelRenderer::Mask> LabelRenderer::render(std::string_view text, int pixel_size) {
  FT_Face face = fonts_->face;
  if (FT_Set_Pixel_Sizes(face, 0, static_cast<FT_UInt>(pixel_size)) != 0) {
    return make_error(path_, "cannot size the font to " + std::to_string(pixel_size) + " px");
  }
  hb_ft_font_changed(fonts_->font);
  hb_buffer_t* buffer = fonts_->buffer;
  hb_buffer_reset(buffer);
  hb_buffer_add_utf8(buffer, text.data(), static_cast<int>(text.size()), 0, static_cast<int>(text.size()));
  hb_buffer_guess_segment_properties(buffer);
  hb_shape(fonts_->font, buffer, nullptr, 0);
  unsigned n = 0;
  const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer, &n);
  const hb_glyph_position_t* pos = hb_buffer_get_glyph_positions(buffer, &n);

  // A canvas generous enough for any bearing or mark, then cropped to the ink.
  int advance = 0;
  for (unsigned i = 0; i < n; ++i) advance += pos[i].x_advance / 64;
  const int margin = pixel_size;
  const int width = std::abs(advance) + 2 * margin, height = 3 * pixel_size;
  const int baseline = 2 * pixel_size;
  std::vector<uint8_t> canvas(static_cast<size_t>(width) * height, 0);
  int pen_x = margin * 64, pen_y = 0;  // 26.6 fixed point, as HarfBuzz gives with hb-ft
  for (unsigned i = 0; i < n; ++i) {
    if (info[i].codepoint == 0) {
      return make_error("--label", "the font " + path_ + " has no glyph for the character at byte " + std::to_string(info[i].cluster));
    }
    if (FT_Load_Glyph(face, info[i].codepoint, FT_LOAD_RENDER) != 0) {
      return make_error(path_, "cannot render glyph " + std::to_string(info[i].codepoint));
    }
    const FT_GlyphSlot slot = face->glyph;
    const FT_Bitmap& bitmap = slot->bitmap;
    const int left = (pen_x + pos[i].x_offset) / 64 + slot->bitmap_left;
    const int top = baseline - (pen_y + pos[i].y_offset) / 64 - slot->bitmap_top;
    for (unsigned r = 0; r < bitmap.rows; ++r) {
      const int y = top + static_cast<int>(r);
      if (y < 0 || y >= height) continue;
      const int row_index = bitmap.pitch >= 0 ? static_cast<int>(r) : static_cast<int>(bitmap.rows - 1 - r);
      const uint8_t* src = bitmap.buffer + static_cast<ptrdiff_t>(row_index) * std::abs(bitmap.pitch);
      for (unsigned c = 0; c < bitmap.width; ++c) {
        const int x = left + static_cast<int>(c);
        if (x < 0 || x >= width) continue;
        uint8_t& dst = canvas[static_cast<size_t>(y) * width + x];
        dst = std::max(dst, src[c]);
      }
    }
    pen_x += pos[i].x_advance;
    pen_y += pos[i].y_advance;
  }

  int x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      if (canvas[static_cast<size_t>(y) * width + x] == 0) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (x1 < 0) return make_error("--label", quote_for_message(text) + " has no visible characters");
  Mask mask;
  mask.width = x1 - x0 + 1;
  mask.height = y1 - y0 + 1;
  mask.coverage.resize(static_cast<size_t>(mask.width) * mask.height);
  for (int y = 0; y < mask.height; ++y) {
    std::copy_n(&canvas[static_cast<size_t>(y + y0) * width + x0], mask.width, &mask.coverage[static_cast<size_t>(y) * mask.width]);
  }
  return mask;
}

namespace {

// Rows from the first to the last that hold a pixel at least half covered: the height a
// reader (and our test, from the pixels) sees as text, without anti-aliasing's faint fringe.
int solid_height(const LabelRenderer::Mask& mask) {
  int first = -1, last = -1;
  for (int y = 0; y < mask.height; ++y) {
    const uint8_t* row = &mask.coverage[static_cast<size_t>(y) * mask.width];
    if (std::any_of(row, row + mask.width, [](uint8_t c) { return c >= 128; })) {
      if (first < 0) first = y;
      last = y;
    }
  }
  return first < 0 ? 0 : last - first + 1;
}

// Mean WCAG luminance of a rectangle, to choose a plate that stands out from it.
double mean_luminance(const Image& image, int x0, int y0, int w, int h) {
  double sum = 0;
  for (int y = y0; y < y0 + h; ++y) {
    const uint8_t* row = image.row(y);
    for (int x = x0; x < x0 + w; ++x) {
      const uint8_t* p = row + static_cast<size_t>(x) * image.channels;
      sum += image.channels >= 3 ? relative_luminance(p[0], p[1], p[2]) : relative_luminance(p[0], p[0], p[0]);
    }
  }
  return sum / (static_cast<double>(w) * h);
}

}  // namespace

Result<DrawnLabel> draw_image_label(Image& image, std::string_view text, LabelCorner corner, LabelRenderer& renderer) {
  LV_RETURN_IF_ERROR(validate_label(text));
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    return make_error("image", std::to_string(image.channels) + " channels; a label needs grey, RGB or RGBA");
  }
  const int shorter = std::min(image.width, image.height);
  // Below 8 px no script reads; small images get that rather than 5% of almost nothing.
  constexpr int kSmallestLegible = 8;
  const int minimum = std::max(kSmallestLegible, static_cast<int>(std::ceil(kMinLabelHeightFraction * shorter)));
  const int wanted = std::max(minimum, static_cast<int>(std::ceil(kLabelHeightFraction * shorter)));

  // The text is sized by its ink, which is a different fraction of the em for every script
  // and string; two proportional steps and a few single ones settle it.
  auto render_at_height = [&](int target) -> Result<LabelRenderer::Mask> {
    int size = target;
    LV_ASSIGN_OR_RETURN(LabelRenderer::Mask mask, renderer.render(text, size));
    if (int h = solid_height(mask); h > 0 && h != target) {
      size = std::max(1, static_cast<int>(std::lround(size * static_cast<double>(target) / h)));
      LV_ASSIGN_OR_RETURN(mask, renderer.render(text, size));
    }
    for (int step = 0; step < 8 && solid_height(mask) < target; ++step) {
      LV_ASSIGN_OR_RETURN(mask, renderer.render(text, ++size));
    }
    return mask;
  };

  LabelRenderer::Mask mask;
  int pad = 0, margin = 0;
  bool fits = false;
  for (int target : {wanted, minimum}) {
    LV_ASSIGN_OR_RETURN(mask, render_at_height(target));
    pad = std::max(2, target / 3);
    for (int m : {std::max(1, shorter / 50), 0}) {
      if (mask.width + 2 * pad + 2 * m <= image.width && mask.height + 2 * pad + 2 * m <= image.height) {
        margin = m;
        fits = true;
        break;
      }
    }
    if (fits) break;
  }
  if (!fits) {
    return make_error("--label", quote_for_message(text) + " does not fit a " + std::to_string(image.width) + "x" +
                                     std::to_string(image.height) + " image at " + std::to_string(minimum) + " px high");
  }

  DrawnLabel drawn;
  drawn.plate_width = mask.width + 2 * pad;
  drawn.plate_height = mask.height + 2 * pad;
  const bool left = corner == LabelCorner::TopLeft || corner == LabelCorner::BottomLeft;
  const bool top = corner == LabelCorner::TopLeft || corner == LabelCorner::TopRight;
  drawn.plate_x = left ? margin : image.width - margin - drawn.plate_width;
  drawn.plate_y = top ? margin : image.height - margin - drawn.plate_height;
  drawn.text_height = solid_height(mask);

  // Black and white against each other are 21:1; the plate is off-black or off-white so it
  // reads as a plate, still far above 4.5:1. 0.179 is the luminance at which black and white
  // contrast equally with the surroundings.
  const bool light_surroundings = mean_luminance(image, drawn.plate_x, drawn.plate_y, drawn.plate_width, drawn.plate_height) > 0.179;
  const uint8_t plate = light_surroundings ? 24 : 240, ink = light_surroundings ? 255 : 0;
  std::fill_n(drawn.plate_rgb, 3, plate);
  std::fill_n(drawn.text_rgb, 3, ink);
  drawn.contrast = contrast_ratio(drawn.text_rgb, drawn.plate_rgb);

  const int color_channels = image.channels == 4 ? 3 : image.channels;
  for (int y = 0; y < drawn.plate_height; ++y) {
    uint8_t* row = image.row(drawn.plate_y + y) + static_cast<size_t>(drawn.plate_x) * image.channels;
    const int my = y - pad;
    for (int x = 0; x < drawn.plate_width; ++x) {
      const int mx = x - pad;
      const int coverage = (my >= 0 && my < mask.height && mx >= 0 && mx < mask.width)
                               ? mask.coverage[static_cast<size_t>(my) * mask.width + mx]
                               : 0;
      const uint8_t value = static_cast<uint8_t>((plate * (255 - coverage) + ink * coverage + 127) / 255);
      uint8_t* p = row + static_cast<size_t>(x) * image.channels;
      for (int c = 0; c < color_channels; ++c) p[c] = value;
      if (image.channels == 4) p[3] = 255;
    }
  }
  return drawn;
}

}  // namespace lv::mark
