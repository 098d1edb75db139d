#include "lightvault/mark/image_watermark.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "lightvault/mark/image_testing.h"

namespace lv::mark {
namespace {

// A photo-like test image: smooth shading, edges and texture, so both the masking and the
// detector's whitening have something to work against.
Image synthetic_photo(int width, int height, int channels, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(static_cast<size_t>(width) * height * channels);
  std::mt19937 rng(seed);
  std::normal_distribution<double> grain(0, 12);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double shade = 110 + 60 * std::sin(x * 0.013 + seed) * std::cos(y * 0.021);
      const double texture = (x / 40 + y / 40) % 2 ? grain(rng) : 0.2 * grain(rng);
      for (int c = 0; c < channels; ++c) {
        const double v = c == 3 ? 200 : shade + texture + 15 * c;
        image.row(y)[x * channels + c] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return image;
}

Image crop(const Image& in, int x0, int y0, int w, int h) {
  Image out;
  out.width = w;
  out.height = h;
  out.channels = in.channels;
  for (int y = y0; y < y0 + h; ++y) {
    out.pixels.insert(out.pixels.end(), in.row(y) + x0 * in.channels, in.row(y) + (x0 + w) * in.channels);
  }
  return out;
}

Image halve(const Image& in) {  // 2x2 box average, as an area resize does
  Image out;
  out.width = in.width / 2;
  out.height = in.height / 2;
  out.channels = in.channels;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * out.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < in.channels; ++c) {
        const int s = in.row(2 * y)[2 * x * in.channels + c] + in.row(2 * y)[(2 * x + 1) * in.channels + c] +
                      in.row(2 * y + 1)[2 * x * in.channels + c] + in.row(2 * y + 1)[(2 * x + 1) * in.channels + c];
        out.row(y)[x * in.channels + c] = static_cast<uint8_t>((s + 2) / 4);
      }
    }
  }
  return out;
}

// `in` turned `degrees` counter-clockwise about its centre, same size, bilinear, the border
// reflected: what OpenCV's warpAffine(getRotationMatrix2D(centre, degrees, 1), BORDER_REFLECT)
// gives, so the test sees the benchmark's attack.
Image rotate(const Image& in, double degrees) {
  Image out = in;
  const double c = std::cos(degrees * M_PI / 180), s = std::sin(degrees * M_PI / 180);
  const double cx = in.width / 2.0, cy = in.height / 2.0;
  auto reflect = [](int i, int n) {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < in.width; ++x) {
      const double sx = cx + c * (x - cx) - s * (y - cy), sy = cy + s * (x - cx) + c * (y - cy);
      const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
      const double fx = sx - x0, fy = sy - y0;
      for (int ch = 0; ch < in.channels; ++ch) {
        auto at = [&](int xx, int yy) {
          return static_cast<double>(in.row(reflect(yy, in.height))[reflect(xx, in.width) * in.channels + ch]);
        };
        const double v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
        out.row(y)[x * in.channels + ch] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

// A shared photograph when ../shared/images is there, else a synthetic one of a similar size.
Image photo_for_rotation() {
  for (const std::string& path : test_images::shared_image_paths()) {
    if (path.ends_with("china.jpg")) {
      auto image = decode_image(test_images::read_bytes(path), path);
      if (image.ok()) return *image;
    }
  }
  return synthetic_photo(640, 427, 3, 10);
}

double psnr(const Image& a, const Image& b) {
  double se = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) se += std::pow(static_cast<double>(a.pixels[i]) - b.pixels[i], 2);
  return 10 * std::log10(255.0 * 255.0 / (se / a.pixels.size()));
}

constexpr uint64_t kPayload = 0x0123456789abcdefULL;

TEST(ImageWatermarkTest, RecoversThePayloadAndStaysInvisible) {
  const Image original = synthetic_photo(400, 300, 3, 1);
  Image marked = original;
  ASSERT_TRUE(embed_image_watermark(marked, kPayload, default_image_watermark_key()).ok());
  EXPECT_GE(psnr(original, marked), 40.0);
  // The mark is a luminance change: R, G and B move together, so chroma stays.
  int chroma_changed = 0;
  for (size_t i = 0; i < marked.pixels.size(); i += 3) {
    const int before = original.pixels[i] - original.pixels[i + 1], after = marked.pixels[i] - marked.pixels[i + 1];
    chroma_changed += std::abs(before - after) > 1;
  }
  EXPECT_LT(chroma_changed, static_cast<int>(marked.pixels.size() / 3 / 100));  // only where clipping
  auto d = detect_image_watermark(marked, default_image_watermark_key());
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->found);
  EXPECT_EQ(*d->payload, kPayload);
  EXPECT_EQ(d->scale_percent, 100);
  EXPECT_GT(d->bit_agreement, 0.9);
  EXPECT_LE(d->false_positive_bound, 1e-6);
  EXPECT_EQ(d->hypotheses, image_watermark_hypotheses());
}

TEST(ImageWatermarkTest, SurvivesACropAtAnOddOffsetAndAHalving) {
  Image marked = synthetic_photo(480, 360, 3, 2);
  ASSERT_TRUE(embed_image_watermark(marked, kPayload, default_image_watermark_key()).ok());
  auto cropped = detect_image_watermark(crop(marked, 37, 53, 300, 250), default_image_watermark_key());
  ASSERT_TRUE(cropped.ok());
  ASSERT_TRUE(cropped->found);
  EXPECT_EQ(*cropped->payload, kPayload);
  auto halved = detect_image_watermark(halve(marked), default_image_watermark_key());
  ASSERT_TRUE(halved.ok());
  ASSERT_TRUE(halved->found);
  EXPECT_EQ(*halved->payload, kPayload);
  EXPECT_EQ(halved->scale_percent, 50);
}

TEST(ImageWatermarkTest, FindsTheMarkInARotatedImageAndReportsTheAngle) {
  const Image original = photo_for_rotation();
  Image marked = original;
  ASSERT_TRUE(embed_image_watermark(marked, kPayload, default_image_watermark_key()).ok());
  for (double degrees : {1.0, 2.0, -1.5}) {
    auto d = detect_image_watermark(rotate(marked, degrees), default_image_watermark_key());
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(d->found) << degrees << " degrees";
    EXPECT_EQ(*d->payload, kPayload);
    EXPECT_NEAR(d->angle_degrees, degrees, 0.25);
    EXPECT_EQ(d->scale_percent, 100);
  }
  // The rotated unmarked photo goes through every hypothesis of both passes and is not claimed.
  auto unmarked = detect_image_watermark(rotate(original, 1.0), default_image_watermark_key());
  ASSERT_TRUE(unmarked.ok());
  EXPECT_FALSE(unmarked->found);
  EXPECT_FALSE(unmarked->payload.has_value());
  EXPECT_EQ(unmarked->hypotheses, 64);
  EXPECT_NEAR(unmarked->false_positive_bound, 64 * std::ldexp(1.0, -28), 1e-12);
}

TEST(ImageWatermarkTest, AnUprightMarkIsFoundWithoutTheAngleSearch) {
  Image marked = photo_for_rotation();
  ASSERT_TRUE(embed_image_watermark(marked, kPayload, default_image_watermark_key()).ok());
  auto d = detect_image_watermark(marked, default_image_watermark_key());
  ASSERT_TRUE(d.ok() && d->found);
  EXPECT_EQ(d->angle_degrees, 0.0);  // exactly: pass 1 found it, pass 2 never ran
}

TEST(ImageWatermarkTest, GreyAndRgbaImagesLeaveAlphaAlone) {
  Image grey = synthetic_photo(256, 256, 1, 3);
  ASSERT_TRUE(embed_image_watermark(grey, 42, default_image_watermark_key()).ok());
  auto g = detect_image_watermark(grey, default_image_watermark_key());
  ASSERT_TRUE(g.ok() && g->found);
  EXPECT_EQ(*g->payload, 42u);

  const Image rgba_original = synthetic_photo(256, 256, 4, 4);
  Image rgba = rgba_original;
  ASSERT_TRUE(embed_image_watermark(rgba, 7, default_image_watermark_key()).ok());
  for (size_t i = 3; i < rgba.pixels.size(); i += 4) ASSERT_EQ(rgba.pixels[i], rgba_original.pixels[i]);
  auto a = detect_image_watermark(rgba, default_image_watermark_key());
  ASSERT_TRUE(a.ok() && a->found);
  EXPECT_EQ(*a->payload, 7u);
}

TEST(ImageWatermarkTest, AnotherKeyFindsNothing) {
  Image marked = synthetic_photo(320, 240, 3, 5);
  ASSERT_TRUE(embed_image_watermark(marked, kPayload, default_image_watermark_key()).ok());
  ImageWatermarkKey other = default_image_watermark_key();
  other[0] ^= 1;
  auto d = detect_image_watermark(marked, other);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->found);
  EXPECT_FALSE(d->payload.has_value());
}

// The small version of bench/image_watermark's false-positive run: unmarked crops, rescales
// and synthetic images never yield a mark.
TEST(ImageWatermarkTest, UnmarkedImagesAreNeverClaimed) {
  const Image photo = synthetic_photo(360, 280, 3, 6);
  std::mt19937 rng(7);
  int checked = 0;
  for (int i = 0; i < 12; ++i) {
    const int w = 64 + static_cast<int>(rng() % 200), h = 64 + static_cast<int>(rng() % 150);
    const int x = static_cast<int>(rng() % (photo.width - w + 1)), y = static_cast<int>(rng() % (photo.height - h + 1));
    Image sample = crop(photo, x, y, w, h);
    if (i % 3 == 1) sample = halve(sample);
    if (i % 3 == 2) {  // uniform noise
      for (auto& p : sample.pixels) p = static_cast<uint8_t>(rng());
    }
    auto d = detect_image_watermark(sample, default_image_watermark_key());
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->found) << "sample " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(ImageWatermarkTest, RefusesBadBuffersAndStrengths) {
  Image bad = synthetic_photo(64, 64, 3, 8);
  bad.pixels.pop_back();
  EXPECT_FALSE(embed_image_watermark(bad, 1, default_image_watermark_key()).ok());
  EXPECT_FALSE(detect_image_watermark(bad, default_image_watermark_key()).ok());
  Image two = synthetic_photo(64, 64, 2, 8);
  EXPECT_FALSE(detect_image_watermark(two, default_image_watermark_key()).ok());
  Image ok = synthetic_photo(64, 64, 3, 8);
  ImageWatermarkOptions options;
  options.strength = 0;
  EXPECT_FALSE(embed_image_watermark(ok, 1, default_image_watermark_key(), options).ok());
  Image tiny = synthetic_photo(7, 5, 3, 8);  // smaller than a block: unchanged, nothing found
  const Image tiny_before = tiny;
  ASSERT_TRUE(embed_image_watermark(tiny, 1, default_image_watermark_key()).ok());
  EXPECT_EQ(tiny.pixels, tiny_before.pixels);
  auto d = detect_image_watermark(tiny, default_image_watermark_key());
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->found);
}

// Sizes that are not multiples of the block or the tile, and strips thinner than a block or
// a tile, exercise every edge of the embedder's block loop and the detector's regions (the
// sanitizer build runs this).
TEST(ImageWatermarkTest, OddSizesAreMarkedAndReadSafely) {
  for (auto [w, h] : {std::pair{17, 300}, {300, 17}, {130, 9}, {129, 131}, {8, 8}, {1, 1}}) {
    Image image = synthetic_photo(w, h, 3, 9);
    ASSERT_TRUE(embed_image_watermark(image, kPayload, default_image_watermark_key()).ok()) << w << "x" << h;
    auto d = detect_image_watermark(image, default_image_watermark_key());
    ASSERT_TRUE(d.ok()) << w << "x" << h;
    if (d->found) {
      EXPECT_EQ(*d->payload, kPayload) << w << "x" << h;  // a claim is never a wrong payload
    }
  }
}

TEST(ImageWatermarkTest, ReadsRawAndHexKeysAndNamesTheFileOnError) {
  const auto dir = std::filesystem::temp_directory_path() / ("lv_imgkey_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ImageWatermarkKey expected{};
  for (int i = 0; i < 32; ++i) expected[i] = static_cast<uint8_t>(i * 7 + 1);
  const auto raw = (dir / "raw.key").string(), hex = (dir / "hex.key").string(), bad = (dir / "bad.key").string();
  std::ofstream(raw, std::ios::binary).write(reinterpret_cast<const char*>(expected.data()), 32);
  {
    std::ofstream h(hex);
    for (uint8_t b : expected) {
      char buf[3];
      std::snprintf(buf, sizeof buf, "%02X", b);
      h << buf;
    }
    h << "\n";
  }
  std::ofstream(bad) << "not a key";
  auto r = read_image_watermark_key(raw);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, expected);
  auto x = read_image_watermark_key(hex);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(*x, expected);
  auto b = read_image_watermark_key(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find(bad), std::string::npos);
  EXPECT_FALSE(read_image_watermark_key((dir / "missing.key").string()).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lv::mark
