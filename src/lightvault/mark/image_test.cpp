#include "lightvault/mark/image.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lightvault/mark/image_testing.h"

namespace lv::mark {
namespace {

using test_images::grey_png;
using test_images::png_chunk;
using test_images::synthetic_image;

double psnr(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    double d = double(a.pixels[i]) - double(b.pixels[i]);
    sum += d * d;
  }
  double mse = sum / a.pixels.size();
  return mse == 0 ? 99 : 10 * std::log10(255.0 * 255.0 / mse);
}

// The first component's sampling byte in the JPEG's start-of-frame segment: 0x11 for 4:4:4,
// 0x22 for 4:2:0.
int luma_sampling(const std::string& jpeg) {
  for (size_t i = 2; i + 11 < jpeg.size(); ++i) {
    if (uint8_t(jpeg[i]) == 0xff && (uint8_t(jpeg[i + 1]) == 0xc0 || uint8_t(jpeg[i + 1]) == 0xc2)) return uint8_t(jpeg[i + 11]);
  }
  return -1;
}

TEST(ImageIo, PngRoundTripIsExactForGreyRgbAndRgba) {
  for (int channels : {1, 3, 4}) {
    Image image = synthetic_image(37, 23, channels);
    auto bytes = encode_image(image);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto back = decode_image(*bytes, "x.png");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->format, ImageFormat::Png);
    EXPECT_EQ(back->width, 37);
    EXPECT_EQ(back->height, 23);
    EXPECT_EQ(back->channels, channels);
    EXPECT_EQ(back->pixels, image.pixels);
  }
}

TEST(ImageIo, JpegIsWrittenAtQuality95With444ChromaUnlessAsked) {
  Image image = synthetic_image(64, 48, 3, ImageFormat::Jpeg);
  auto bytes = encode_image(image);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(luma_sampling(*bytes), 0x11);
  auto back = decode_image(*bytes, "x.jpg");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->format, ImageFormat::Jpeg);
  EXPECT_EQ(back->channels, 3);
  const double q95 = psnr(image, *back);
  EXPECT_GT(q95, 35.0);

  auto subsampled = encode_image(image, {.jpeg_quality = 50, .jpeg_chroma_444 = false});
  ASSERT_TRUE(subsampled.ok());
  EXPECT_EQ(luma_sampling(*subsampled), 0x22);
  EXPECT_LT(subsampled->size(), bytes->size());
  EXPECT_LT(psnr(image, decode_image(*subsampled, "y.jpg").value()), q95);
  EXPECT_FALSE(encode_image(image, {.jpeg_quality = 0}).ok());
}

TEST(ImageIo, GreyJpegStaysGreyAndRgbaJpegDropsAlpha) {
  auto grey = decode_image(encode_image(synthetic_image(16, 16, 1, ImageFormat::Jpeg)).value(), "g.jpg");
  ASSERT_TRUE(grey.ok());
  EXPECT_EQ(grey->channels, 1);
  auto rgba = decode_image(encode_image(synthetic_image(16, 16, 4, ImageFormat::Jpeg)).value(), "a.jpg");
  ASSERT_TRUE(rgba.ok());
  EXPECT_EQ(rgba->channels, 3);
}

TEST(ImageIo, SharedPhotographsDecode) {
  auto paths = test_images::shared_image_paths();
  if (paths.empty()) GTEST_SKIP() << "no shared images in " << test_images::shared_images_dir();
  for (const auto& path : paths) {
    auto image = decode_image(test_images::read_bytes(path), path);
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(image->format, path.ends_with(".jpg") ? ImageFormat::Jpeg : ImageFormat::Png) << path;
    EXPECT_EQ(image->pixels.size(), size_t(image->width) * image->height * image->channels) << path;
    if (path.ends_with("camera.png")) {
      EXPECT_EQ(image->channels, 1);
      EXPECT_EQ(image->width, 512);
    }
    if (path.ends_with("hubble_deep_field.jpg")) {
      EXPECT_EQ(image->width, 1000);
      EXPECT_EQ(image->height, 872);
    }
  }
}

TEST(ImageIo, PaletteSixteenBitAndGreyAlphaPngsBecomeEightBitGreyRgbOrRgba) {
  // 2x1 palette image: entries red and blue, the second half transparent (tRNS).
  std::string ihdr;
  test_images::put_be32(ihdr, 2);
  test_images::put_be32(ihdr, 1);
  ihdr += std::string("\x08\x03\x00\x00\x00", 5);
  std::string png = "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("PLTE", std::string("\xff\x00\x00\x00\x00\xff", 6)) +
                    png_chunk("tRNS", std::string("\xff\x80", 2)) + png_chunk("IDAT", test_images::zlib_compress(std::string("\x00\x00\x01", 3))) +
                    png_chunk("IEND", "");
  auto palette = decode_image(png, "p.png");
  ASSERT_TRUE(palette.ok()) << palette.error().message;
  EXPECT_EQ(palette->channels, 4);
  EXPECT_EQ(palette->pixels, (std::vector<uint8_t>{255, 0, 0, 255, 0, 0, 255, 128}));

  // 1x1 grey+alpha, 16 bits: grey 0x1234, alpha 0xff00.
  ihdr.clear();
  test_images::put_be32(ihdr, 1);
  test_images::put_be32(ihdr, 1);
  ihdr += std::string("\x10\x04\x00\x00\x00", 5);
  png = "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr) + png_chunk("IDAT", test_images::zlib_compress(std::string("\x00\x12\x34\xff\x00", 5))) +
        png_chunk("IEND", "");
  auto grey_alpha = decode_image(png, "ga.png");
  ASSERT_TRUE(grey_alpha.ok()) << grey_alpha.error().message;
  EXPECT_EQ(grey_alpha->channels, 4);
  EXPECT_EQ(grey_alpha->pixels, (std::vector<uint8_t>{0x12, 0x12, 0x12, 0xff}));
}

TEST(ImageIo, HugeHeadersAreRefusedBeforeAllocating) {
  auto png = decode_image(grey_png(100000, 100000, 1), "huge.png");
  ASSERT_FALSE(png.ok());
  EXPECT_EQ(png.error().message.rfind("huge.png: PNG width 100000 x 100000 over the limit", 0), 0u) << png.error().message;

  // JPEG sides are 16-bit (libjpeg stops at 65500), so 60000 x 60000 stands for a huge one.
  std::string jpeg = encode_image(synthetic_image(16, 16, 3, ImageFormat::Jpeg)).value();
  size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg.replace(sof + 5, 4, "\xea\x60\xea\x60");  // 60000 x 60000
  auto big = decode_image(jpeg, "huge.jpg");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("huge.jpg: JPEG width 60000 x 60000 over the limit"), std::string::npos) << big.error().message;
}

TEST(ImageIo, TruncatedAndCorruptFilesAreErrorsNamingTheFile) {
  std::string jpeg = encode_image(synthetic_image(64, 64, 3, ImageFormat::Jpeg)).value();
  auto cut = decode_image(jpeg.substr(0, jpeg.size() / 2), "cut.jpg");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("cut.jpg: JPEG: truncated JPEG data"), std::string::npos) << cut.error().message;

  std::string png = encode_image(synthetic_image(64, 64, 3)).value();
  auto cut_png = decode_image(png.substr(0, png.size() / 2), "cut.png");
  ASSERT_FALSE(cut_png.ok());
  EXPECT_NE(cut_png.error().message.find("cut.png: PNG:"), std::string::npos) << cut_png.error().message;

  // Too few rows of pixel data for the header.
  auto short_idat = decode_image(grey_png(64, 64, 10), "short.png");
  ASSERT_FALSE(short_idat.ok());
  EXPECT_EQ(short_idat.error().message.rfind("short.png: PNG:", 0), 0u);

  EXPECT_FALSE(decode_image("GIF89a", "x.gif").ok());
  EXPECT_FALSE(decode_image("\xff\xd8\xff", "tiny.jpg").ok());
  EXPECT_FALSE(decode_image("\x89PNG\r\n\x1a\n", "tiny.png").ok());
}

TEST(ImageIo, PixelBombIsRefusedAndTextBombIsNotInflated) {
  // 20000 x 20000 zero pixels compress to a few hundred KB: over the pixel limit.
  auto lotta = decode_image(grey_png(20000, 20000, 1), "bomb.png");
  ASSERT_FALSE(lotta.ok());
  EXPECT_NE(lotta.error().message.find("over the limit"), std::string::npos);

  // A zTXt chunk that inflates to 20 MiB, past libpng's chunk limit: libpng stops inflating
  // at the limit and drops the chunk (a warning), and the image itself is read.
  std::string ztxt = std::string("Comment\0\0", 9) + test_images::zlib_compress(std::string(20u << 20, 'a'));
  auto text_bomb = decode_image(grey_png(8, 8, 8, png_chunk("zTXt", ztxt)), "text-bomb.png");
  ASSERT_TRUE(text_bomb.ok()) << text_bomb.error().message;
  EXPECT_EQ(text_bomb->width, 8);
}

}  // namespace
}  // namespace lv::mark
