// Checks lightvault's C2PA manifests with an independent reader: runs
// tests/c2pa/c2pa_reader.test.mjs (node:test + the @trustnxt/c2pa-ts npm package) on images
// signed here. Needs `node` and `npm ci` in tests/c2pa; skipped with that message otherwise.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/c2pa_testutil.h"
#include "subprocess.h"

namespace lv::mark {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

TEST(C2paIndependentReader, TrustnxtC2paTsValidatesOurManifests) {
  const fs::path here = fs::path(__FILE__).parent_path();
  if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed (apt-get install nodejs npm)";
  if (!fs::exists(here / "node_modules" / "@trustnxt" / "c2pa-ts")) {
    GTEST_SKIP() << "@trustnxt/c2pa-ts is not installed: run `npm ci` in " << here.string();
  }
  const fs::path dir = fs::temp_directory_path() / ("lv_c2pa_ts_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto credentials = make_c2pa_test_credentials("lightvault test signer");
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  auto signer = c2pa_signer_from_pem(credentials->key_pem, credentials->chain_pem, "test");
  ASSERT_TRUE(signer.ok()) << signer.error().message;

  struct Input {
    std::string name;
    std::string bytes;
    ImageFormat format;
    C2paSignOptions options;
  };
  std::vector<Input> inputs = {
      {"own.jpg", testing::tiny_jpeg(), ImageFormat::Jpeg, {}},
      {"own.png", testing::ramp_png(32, 24), ImageFormat::Png, {}},
  };
  C2paSignOptions big;
  big.title = std::string(100000, 't');  // a manifest over two APP11 segments
  inputs.push_back({"own_big.jpg", testing::tiny_jpeg(), ImageFormat::Jpeg, big});
  for (const char* name : {"china.jpg", "rocket.jpg", "camera.png", "coffee.png"}) {
    if (auto bytes = testing::shared_image(name)) {
      const bool is_jpeg = std::string_view(name).ends_with(".jpg");
      inputs.push_back({std::string("shared_") + name, *bytes, is_jpeg ? ImageFormat::Jpeg : ImageFormat::Png, {}});
    }
  }
  std::string signed_list, tampered_list;
  for (const auto& in : inputs) {
    auto signed_bytes = sign_c2pa(in.bytes, in.format, *signer, in.options);
    ASSERT_TRUE(signed_bytes.ok()) << in.name << ": " << signed_bytes.error().message;
    const fs::path path = dir / in.name;
    write(path, *signed_bytes);
    signed_list += (signed_list.empty() ? "" : ":") + path.string();
    std::string tampered = *signed_bytes;
    tampered[tampered.size() - 20] ^= 0x01;  // image data: before PNG's IDAT CRC and IEND, JPEG's EOI
    const fs::path tampered_path = dir / ("tampered_" + in.name);
    write(tampered_path, tampered);
    tampered_list += (tampered_list.empty() ? "" : ":") + tampered_path.string();
  }

  auto node = testing_support::run_node_test((here / "c2pa_reader.test.mjs").string(),
                                             {"LV_C2PA_SIGNED=" + signed_list, "LV_C2PA_TAMPERED=" + tampered_list});
  EXPECT_EQ(node.exit_code, 0) << node.out << node.err;
  EXPECT_NE(node.out.find("# pass 2"), std::string::npos) << node.out;
  EXPECT_NE(node.out.find("# fail 0"), std::string::npos) << node.out;
  // c2pa-ts has no trust list: it checks the certificate profile only and says so as
  // "signingCredential.trusted"; lightvault's own reader reports trusted=false.
  EXPECT_NE((node.out + node.err).find("claimSignature.validated"), std::string::npos) << node.out << node.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lv::mark
