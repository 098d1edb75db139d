#include "lightvault/mark/aigc_metadata.h"

#include <gtest/gtest.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "lightvault/mark/image.h"
#include "lightvault/mark/image_testing.h"

namespace lv::mark {
namespace {

AigcFields sample_fields() {
  AigcFields f;
  f.content_producer = "lightvault-test-provider";
  f.produce_id = "0123456789abcdef";
  f.reserved_code1 = "sha256:00ff";
  f.content_propagator = "例子平台";
  f.propagate_id = "p-42";
  return f;
}

// A source image carrying every kind of metadata an editor or camera writes, put there with
// exiv2 directly (not through the code under test).
std::string with_metadata(const std::string& encoded) {
  auto image = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(encoded.data()), static_cast<long>(encoded.size()));
  image->readMetadata();
  Exiv2::ExifData exif;
  exif["Exif.Image.Artist"] = "A. Photographer";
  exif["Exif.Image.Orientation"] = uint16_t(1);
  image->setExifData(exif);
  Exiv2::IptcData iptc;
  iptc["Iptc.Application2.Caption"] = "a caption";
  image->setIptcData(iptc);
  Exiv2::XmpData xmp;
  xmp["Xmp.dc.title"] = "lang=\"x-default\" A title";
  image->setXmpData(xmp);
  image->setComment("a comment");
  // An ICC profile's header as far as readers check it: its size, then "acsp" at 36.
  std::string profile(200, 'p');
  profile.replace(0, 4, std::string("\0\0\0\xc8", 4));
  profile.replace(36, 4, "acsp");
  Exiv2::DataBuf icc(reinterpret_cast<const Exiv2::byte*>(profile.data()), static_cast<long>(profile.size()));
  image->setIccProfile(icc, false);
  image->writeMetadata();
  Exiv2::BasicIo& io = image->io();
  io.seek(0, Exiv2::BasicIo::beg);
  Exiv2::DataBuf buf = io.read(io.size());
  return std::string(reinterpret_cast<const char*>(buf.pData_), buf.size_);
}

TEST(AigcMetadata, JsonUsesTheStandardsKeysInOrderAndRoundTrips) {
  const AigcFields f = sample_fields();
  const std::string json = aigc_json(f);
  EXPECT_EQ(json.rfind("{\"Label\":\"1\",\"ContentProducer\":\"lightvault-test-provider\",\"ProduceID\":", 0), 0u) << json;
  EXPECT_NE(json.find("\"ReservedCode2\":\"\""), std::string::npos);
  EXPECT_EQ(parse_aigc_json(json, "x").value(), f);

  auto numbers = parse_aigc_json(R"({"Label": 1, "ProduceID": 77, "Other": [1]})", "x");
  ASSERT_TRUE(numbers.ok());
  EXPECT_EQ(numbers->label, "1");
  EXPECT_EQ(numbers->produce_id, "77");
  EXPECT_EQ(numbers->content_producer, "");
  EXPECT_FALSE(parse_aigc_json("[1]", "x").ok());
  EXPECT_FALSE(parse_aigc_json("{", "x").ok());
  auto bad = parse_aigc_json(R"({"ContentProducer": {}})", "f.png");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "f.png: AIGC.ContentProducer is neither a string nor a number");
}

TEST(AigcMetadata, AttachedFieldReadsBackAndEveryOtherBlockIsKept) {
  for (ImageFormat format : {ImageFormat::Jpeg, ImageFormat::Png}) {
    const std::string what = format == ImageFormat::Jpeg ? "JPEG" : "PNG";
    const Image image = test_images::synthetic_image(64, 48, 3, format);
    const std::string source = with_metadata(encode_image(image).value());
    const std::string pixels_only = encode_image(image).value();
    auto marked = attach_aigc_metadata(pixels_only, source, sample_fields(), "out");
    ASSERT_TRUE(marked.ok()) << what << ": " << marked.error().message;

    auto read = read_aigc_metadata(*marked, "out");
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(read->has_value()) << what;
    EXPECT_EQ(**read, sample_fields()) << what;
    // The pixels are those encoded, untouched by the metadata step.
    EXPECT_EQ(decode_image(*marked, "out").value().pixels, decode_image(pixels_only, "in").value().pixels) << what;

    auto out = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(marked->data()), static_cast<long>(marked->size()));
    out->readMetadata();
    EXPECT_EQ(out->exifData()["Exif.Image.Artist"].toString(), "A. Photographer") << what;
    EXPECT_EQ(out->iptcData()["Iptc.Application2.Caption"].toString(), "a caption") << what;
    EXPECT_EQ(out->xmpData()["Xmp.dc.title"].toString(), "lang=\"x-default\" A title") << what;
    EXPECT_EQ(out->comment(), "a comment") << what;
    ASSERT_TRUE(out->iccProfileDefined()) << what;
    EXPECT_EQ(out->iccProfile()->size_, 200) << what;

    // Marking a marked file replaces the field rather than adding a second one.
    AigcFields again = sample_fields();
    again.propagate_id = "p-43";
    auto twice = attach_aigc_metadata(pixels_only, *marked, again, "out2");
    ASSERT_TRUE(twice.ok());
    EXPECT_EQ(read_aigc_metadata(*twice, "out2").value()->propagate_id, "p-43");
  }
}

TEST(AigcMetadata, UnmarkedImagesHaveNoneAndBadBytesAreErrors) {
  auto plain = read_aigc_metadata(encode_image(test_images::synthetic_image(8, 8, 3)).value(), "plain.png");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_value());
  for (const auto& path : test_images::shared_image_paths()) {
    auto shared = read_aigc_metadata(test_images::read_bytes(path), path);
    ASSERT_TRUE(shared.ok()) << shared.error().message;
    EXPECT_FALSE(shared->has_value()) << path;
  }
  auto text = read_aigc_metadata("hello", "t.txt");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().message, "t.txt: not a PNG or JPEG image");
  // Signatures followed by nonsense: an error or nothing found, never a crash.
  for (std::string junk : {std::string("\xff\xd8\xff\xe1\xff\xff", 6) + std::string(40, 'x'),
                           std::string("\x89PNG\r\n\x1a\n", 8) + std::string(40, '\xff')}) {
    auto r = read_aigc_metadata(junk, "junk");
    if (!r.ok()) {
      EXPECT_EQ(r.error().message.rfind("junk: ", 0), 0u);
    }
  }
  // The field present but not JSON: an error naming the key.
  const std::string png = encode_image(test_images::synthetic_image(8, 8, 3)).value();
  auto image = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(png.data()), static_cast<long>(png.size()));
  image->readMetadata();
  Exiv2::XmpProperties::registerNs(std::string(kAigcNamespace), std::string(kAigcPrefix));
  image->xmpData()[std::string(kAigcXmpKey)] = "not json";
  image->writeMetadata();
  Exiv2::BasicIo& io = image->io();
  io.seek(0, Exiv2::BasicIo::beg);
  Exiv2::DataBuf buf = io.read(io.size());
  auto not_json = read_aigc_metadata(std::string(reinterpret_cast<const char*>(buf.pData_), buf.size_), "nj.png");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().message, "nj.png: Xmp.TC260.AIGC: AIGC is not a JSON object");
}

// Debian's exiv2 tool, an independent reader of what we wrote, when it is installed.
TEST(AigcMetadata, Exiv2ToolShowsTheField) {
  if (!std::filesystem::exists("/usr/bin/exiv2")) GTEST_SKIP() << "exiv2 tool not installed";
  const std::string path = (std::filesystem::path(::testing::TempDir()) / ("aigc-" + std::to_string(getpid()) + ".jpg")).string();
  const std::string jpeg = encode_image(test_images::synthetic_image(32, 32, 3, ImageFormat::Jpeg)).value();
  std::ofstream(path, std::ios::binary) << attach_aigc_metadata(jpeg, jpeg, sample_fields(), "x").value();
  FILE* pipe = popen(("/usr/bin/exiv2 -px " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> chunk;
  while (size_t n = fread(chunk.data(), 1, chunk.size(), pipe)) out.append(chunk.data(), n);
  pclose(pipe);
  std::filesystem::remove(path);
  EXPECT_NE(out.find("Xmp.TC260.AIGC"), std::string::npos) << out;
  EXPECT_NE(out.find("\"ContentProducer\":\"lightvault-test-provider\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"ContentPropagator\":\"例子平台\""), std::string::npos) << out;
}

}  // namespace
}  // namespace lv::mark

#pragma GCC diagnostic pop
