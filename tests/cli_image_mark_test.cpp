// End-to-end tests of `lightvault mark` and `lightvault detect` on images: the visible label,
// the AIGC metadata, the watermark (once built), and bad input. On the shared photographs
// when present, otherwise on synthetic images.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "lightvault/mark/image.h"
#include "lightvault/mark/image_testing.h"
#include "subprocess.h"

namespace lv {
namespace {

using testing_support::Completed;
using testing_support::read_all;
using testing_support::run_lightvault;
namespace fs = std::filesystem;
namespace ti = mark::test_images;

class CliImageMarkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) / ("img-" + std::to_string(getpid()))).string();
    fs::create_directories(dir_);
    const std::string shared = ti::shared_images_dir();
    if (fs::exists(shared + "/chelsea.png") && fs::exists(shared + "/china.jpg")) {
      png_ = shared + "/chelsea.png";
      jpeg_ = shared + "/china.jpg";
    } else {
      png_ = write("synthetic.png", mark::encode_image(ti::synthetic_image(451, 300, 3)).value());
      jpeg_ = write("synthetic.jpg", mark::encode_image(ti::synthetic_image(640, 427, 3, mark::ImageFormat::Jpeg)).value());
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(file(name), std::ios::binary) << bytes;
    return file(name);
  }
  static mark::Image decode(const std::string& path) { return mark::decode_image(read_all(path), path).value(); }

  nlohmann::json detect_json(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"detect", path, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Completed c = run_lightvault(args);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return nlohmann::json::parse(c.out, nullptr, false);
  }

  // The bounding box of the pixels that differ between two same-sized images.
  struct Box {
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
  };
  static Box changed(const mark::Image& a, const mark::Image& b) {
    Box box;
    for (int y = 0; y < a.height; ++y)
      for (int x = 0; x < a.width; ++x)
        if (std::memcmp(a.row(y) + x * a.channels, b.row(y) + x * b.channels, a.channels) != 0) {
          box.x0 = std::min(box.x0, x), box.x1 = std::max(box.x1, x), box.y0 = std::min(box.y0, y), box.y1 = std::max(box.y1, y);
        }
    return box;
  }

  std::string dir_, png_, jpeg_;
};

void expect_bad_input(const Completed& c, const std::string& names) {
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_EQ(c.last_err_line().rfind("error: ", 0), 0u) << c.err;
  EXPECT_NE(c.last_err_line().find(names), std::string::npos) << c.err;
}

TEST_F(CliImageMarkTest, MetadataOnlyMarkKeepsPngPixelsAndDetectReportsTheFields) {
  Completed c = run_lightvault({"mark", png_, "-o", file("meta.png"), "--no-label", "--no-watermark", "--producer", "example-provider",
                                "--produce-id", "gen-0001"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(decode(file("meta.png")).pixels, decode(png_).pixels);
  nlohmann::json report = detect_json(file("meta.png"));
  ASSERT_FALSE(report.is_discarded());
  const auto& aigc = report["metadata"]["aigc"];
  EXPECT_EQ(aigc["Label"], "1");
  EXPECT_EQ(aigc["ContentProducer"], "example-provider");
  EXPECT_EQ(aigc["ProduceID"], "gen-0001");
  EXPECT_EQ(report["c2pa"]["present"], false);
  EXPECT_EQ(report["watermark"]["found"], false);
  EXPECT_TRUE(report["watermark"]["payload"].is_null());

  Completed human = run_lightvault({"detect", file("meta.png")});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("metadata: AIGC Label=1 ContentProducer=example-provider ProduceID=gen-0001"), std::string::npos) << human.out;

  if (fs::exists("/usr/bin/exiv2")) {
    Completed tool = testing_support::run_program({"/usr/bin/exiv2", "-px", file("meta.png")});
    EXPECT_NE(tool.out.find("Xmp.TC260.AIGC"), std::string::npos) << tool.out << tool.err;
    EXPECT_NE(tool.out.find("\"ContentProducer\":\"example-provider\""), std::string::npos) << tool.out;
  }
}

TEST_F(CliImageMarkTest, LabelGoesToTheCornerAskedAndTheFormatIsKept) {
  for (const std::string& input : {png_, jpeg_}) {
    const bool is_jpeg = input == jpeg_;
    const std::string out = file(is_jpeg ? "labelled.jpg" : "labelled.png");
    Completed c = run_lightvault({"mark", input, "-o", out, "--no-watermark", "--label-position", "top-left"});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_NE(c.out.find("label 'AI生成' at top-left"), std::string::npos) << c.out;
    const std::string bytes = read_all(out);
    EXPECT_EQ(bytes.rfind(is_jpeg ? "\xff\xd8\xff" : "\x89PNG", 0), 0u) << "format kept";
    const mark::Image before = decode(input), after = decode(out);
    ASSERT_EQ(after.width, before.width);
    ASSERT_EQ(after.height, before.height);
    if (!is_jpeg) {  // PNG is lossless: exactly the plate changed, in the top-left corner
      Box box = changed(before, after);
      ASSERT_GE(box.x1, 0);
      EXPECT_LT(box.x1, before.width / 2);
      EXPECT_LT(box.y1, before.height / 2);
      EXPECT_GE(box.y1 - box.y0 + 1, 0.05 * std::min(before.width, before.height));
    }
  }
  Completed custom = run_lightvault({"mark", png_, "-o", file("custom.png"), "--no-watermark", "--label", "本内容由AI生成"});
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  Box box = changed(decode(png_), decode(file("custom.png")));
  const mark::Image image = decode(png_);
  EXPECT_GT(box.x0, image.width / 2) << "bottom-right by default";
  EXPECT_GT(box.y0, image.height / 2);
}

TEST_F(CliImageMarkTest, UnmarkedImagesAreReportedCleanly) {
  for (const std::string& input : {png_, jpeg_}) {
    nlohmann::json report = detect_json(input);
    ASSERT_FALSE(report.is_discarded());
    EXPECT_EQ(report["watermark"]["found"], false);
    EXPECT_TRUE(report["watermark"]["payload"].is_null());
    EXPECT_TRUE(report["metadata"]["aigc"].is_null());
    EXPECT_EQ(report["c2pa"]["present"], false);
    EXPECT_EQ(report["c2pa"]["valid"], false);
  }
}

TEST_F(CliImageMarkTest, WatermarkPayloadIsPrintedAndFoundAgain) {
  Completed c = run_lightvault({"mark", jpeg_, "-o", file("wm.jpg"), "--payload", "0123456789ABCDEF"});
  if (c.exit_code != 0 && c.err.find("watermark not built yet") != std::string::npos) {
    GTEST_SKIP() << "the image watermark is on branch img-watermark";
  }
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("watermark payload 0123456789abcdef"), std::string::npos) << c.out;
  nlohmann::json report = detect_json(file("wm.jpg"));
  EXPECT_EQ(report["watermark"]["found"], true) << report.dump();
  EXPECT_EQ(report["watermark"]["payload"], "0123456789abcdef");
  EXPECT_EQ(report["metadata"]["aigc"]["ProduceID"], "0123456789abcdef") << "the payload names the content in both layers";

  Completed random = run_lightvault({"mark", png_, "-o", file("wm.png")});
  ASSERT_EQ(random.exit_code, 0) << random.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(random.out, m, std::regex("watermark payload ([0-9a-f]{16})"))) << random.out;
  EXPECT_EQ(detect_json(file("wm.png"))["watermark"]["payload"], m[1].str());
}

TEST_F(CliImageMarkTest, BadInputIsAClearErrorAndWritesNothing) {
  const std::string jpeg = mark::encode_image(ti::synthetic_image(64, 64, 3, mark::ImageFormat::Jpeg)).value();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {write("cut.jpg", jpeg.substr(0, jpeg.size() / 2)), "cut.jpg: JPEG: truncated JPEG data"},
      {write("huge.png", ti::grey_png(100000, 100000, 1)), "huge.png: PNG width 100000 x 100000 over the limit"},
      // 20000 x 20000 grey (400 MB of pixels) in a file of a few hundred bytes.
      {write("bomb.png", ti::grey_png(20000, 20000, 1)), "bomb.png: PNG width 20000 x 20000 over the limit"},
      {write("sig.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, '\x01')), "sig.png: PNG:"},
      {write("gif.gif", std::string("GIF89a\x01\0\x01\0\0\0\0", 13)), "gif.gif: binary data"},
  };
  for (const auto& [path, message] : bad) {
    expect_bad_input(run_lightvault({"detect", path, "--json"}), message);
    expect_bad_input(run_lightvault({"mark", path, "-o", file("out.png")}), message);
    EXPECT_FALSE(fs::exists(file("out.png"))) << path;
  }
  expect_bad_input(run_lightvault({"mark", png_, "-o", file("out.png"), "--payload", "12345"}), "--payload");
  expect_bad_input(run_lightvault({"mark", png_, "-o", file("out.png"), "--payload", "0123456789abcdeg"}), "--payload");
  expect_bad_input(run_lightvault({"mark", png_, "-o", file("out.png"), "--label-position", "centre"}), "--label-position");
  expect_bad_input(run_lightvault({"mark", png_, "-o", file("out.png"), "--label", "two\nlines"}), "--label");
  expect_bad_input(run_lightvault({"mark", write("tiny.png", mark::encode_image(ti::synthetic_image(12, 12, 3)).value()), "-o",
                                   file("out.png"), "--no-watermark"}),
                   "--label: 'AI生成' does not fit a 12x12 image");
  EXPECT_FALSE(fs::exists(file("out.png")));
  EXPECT_NE(run_lightvault({"mark", png_, "-o", file("out.png"), "--label", "x", "--no-label"}).exit_code, 0);
}

}  // namespace
}  // namespace lv
