#include "lightvault/mark/c2pa.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "lightvault/mark/c2pa_container.h"
#include "lightvault/mark/c2pa_testutil.h"

namespace lv::mark {
namespace {

const C2paSigner& signer() {
  static const C2paSigner s = [] {
    auto credentials = make_c2pa_test_credentials("lightvault c2pa test");
    auto loaded = c2pa_signer_from_pem(credentials->key_pem, credentials->chain_pem, "test");
    return *loaded;
  }();
  return s;
}

std::string jpeg() { return testing::shared_image("china.jpg").value_or(testing::tiny_jpeg()); }
std::string png() { return testing::shared_image("camera.png").value_or(testing::ramp_png(64, 48)); }

void expect_valid(const std::string& signed_bytes, const char* mime) {
  auto report = read_c2pa(signed_bytes, "signed");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->present);
  EXPECT_TRUE(report->valid) << (report->reasons.empty() ? "" : report->reasons.front());
  EXPECT_TRUE(report->assertion_hashes_valid);
  EXPECT_TRUE(report->hash_binding_valid);
  EXPECT_TRUE(report->signature_valid);
  EXPECT_FALSE(report->trusted);
  EXPECT_EQ(report->format, mime);
  EXPECT_EQ(report->claim_generator, "lightvault");
  EXPECT_EQ(report->manifest_label.rfind("urn:uuid:", 0), 0u);
  EXPECT_NE(report->signer_subject.find("CN=lightvault c2pa test"), std::string::npos) << report->signer_subject;
  ASSERT_EQ(report->actions.size(), 1u);
  EXPECT_EQ(report->actions[0].action, "c2pa.created");
  EXPECT_EQ(report->actions[0].digital_source_type, kTrainedAlgorithmicMedia);
}

// Flips one bit of the first occurrence of `needle` (after `from`) in `bytes`.
std::string flip_in(std::string bytes, std::string_view needle, size_t at_in_needle = 0) {
  const size_t pos = bytes.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  if (pos != std::string::npos) bytes[pos + at_in_needle] ^= 0x01;
  return bytes;
}

TEST(C2paManifest, SignsAndReadsAJpeg) {
  const std::string original = jpeg();
  auto signed_bytes = sign_c2pa(original, ImageFormat::Jpeg, signer());
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.error().message;
  expect_valid(*signed_bytes, "image/jpeg");
  // Only the APP11 segments were added: the rest of the file is the original, byte for byte.
  auto embedding = find_c2pa_store(*signed_bytes, ImageFormat::Jpeg, "t");
  ASSERT_TRUE(embedding.ok() && embedding->has_value());
  const auto [start, length] = (*embedding)->ranges.front();
  EXPECT_EQ(signed_bytes->substr(0, start) + signed_bytes->substr(start + length), original);
  EXPECT_EQ(static_cast<uint8_t>((*signed_bytes)[start + 1]), 0xEB);
}

TEST(C2paManifest, SignsAndReadsAPngWithCaBXBeforeIdat) {
  auto signed_bytes = sign_c2pa(png(), ImageFormat::Png, signer());
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.error().message;
  expect_valid(*signed_bytes, "image/png");
  const size_t cabx = signed_bytes->find("caBX");
  ASSERT_NE(cabx, std::string::npos);
  EXPECT_LT(cabx, signed_bytes->find("IDAT"));
  EXPECT_EQ(cabx, 8u + 25u + 4u);  // right after the signature and IHDR
}

TEST(C2paManifest, WorksOnImagesOfOurOwn) {
  auto j = sign_c2pa(testing::tiny_jpeg(), ImageFormat::Jpeg, signer());
  auto p = sign_c2pa(testing::ramp_png(3, 2), ImageFormat::Png, signer());
  ASSERT_TRUE(j.ok() && p.ok());
  expect_valid(*j, "image/jpeg");
  expect_valid(*p, "image/png");
}

TEST(C2paManifest, ChangedPixelByteBreaksTheHardBinding) {
  for (const auto& [image, format] : {std::pair{jpeg(), ImageFormat::Jpeg}, std::pair{png(), ImageFormat::Png}}) {
    auto signed_bytes = sign_c2pa(image, format, signer());
    ASSERT_TRUE(signed_bytes.ok());
    std::string tampered = *signed_bytes;
    // A byte of compressed pixel data: JPEG entropy-coded data before EOI, PNG inside IDAT.
    const size_t at = format == ImageFormat::Jpeg ? tampered.size() - 10 : tampered.find("IDAT") + 20;
    tampered[at] ^= 0x01;
    auto report = read_c2pa(tampered, "tampered");
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->present);
    EXPECT_FALSE(report->valid);
    EXPECT_FALSE(report->hash_binding_valid);
    EXPECT_TRUE(report->signature_valid);  // the manifest itself is intact
    ASSERT_FALSE(report->reasons.empty());
    EXPECT_NE(report->reasons.front().find("hard binding"), std::string::npos) << report->reasons.front();
  }
}

TEST(C2paManifest, ChangedClaimBreaksTheSignature) {
  auto signed_bytes = sign_c2pa(jpeg(), ImageFormat::Jpeg, signer());
  ASSERT_TRUE(signed_bytes.ok());
  // The instance id is in the claim only; one changed character keeps it well-formed CBOR.
  auto report = read_c2pa(flip_in(*signed_bytes, "xmp:iid:", 9), "tampered");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->present);
  EXPECT_FALSE(report->valid);
  EXPECT_FALSE(report->signature_valid);
  EXPECT_TRUE(report->hash_binding_valid);
  EXPECT_TRUE(report->assertion_hashes_valid);
}

TEST(C2paManifest, ChangedAssertionNoLongerMatchesTheClaim) {
  auto signed_bytes = sign_c2pa(png(), ImageFormat::Png, signer());
  ASSERT_TRUE(signed_bytes.ok());
  auto report = read_c2pa(flip_in(*signed_bytes, "c2pa.created", 7), "tampered");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->valid);
  EXPECT_FALSE(report->assertion_hashes_valid);
  EXPECT_TRUE(report->actions.empty());  // an assertion that fails its hash is not believed
  EXPECT_TRUE(report->signature_valid);
}

TEST(C2paManifest, ResigningReplacesTheManifest) {
  auto once = sign_c2pa(jpeg(), ImageFormat::Jpeg, signer());
  ASSERT_TRUE(once.ok());
  auto twice = sign_c2pa(*once, ImageFormat::Jpeg, signer());
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->size(), once->size());
  size_t stores = 0;
  for (size_t pos = 0; (pos = twice->find("c2pa.signature", pos)) != std::string::npos; ++pos) ++stores;
  EXPECT_EQ(stores, 2u);  // the claim's reference and the signature box's label, of one manifest
  expect_valid(*twice, "image/jpeg");
}

TEST(C2paManifest, ALargeManifestSpansSeveralApp11Segments) {
  C2paSignOptions options;
  options.title = std::string(150000, 't');  // a claim too big for one 64 KiB segment
  auto signed_bytes = sign_c2pa(jpeg(), ImageFormat::Jpeg, signer(), options);
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.error().message;
  auto embedding = find_c2pa_store(*signed_bytes, ImageFormat::Jpeg, "t");
  ASSERT_TRUE(embedding.ok() && embedding->has_value());
  EXPECT_EQ((*embedding)->ranges.size(), 3u);
  expect_valid(*signed_bytes, "image/jpeg");
}

TEST(C2paManifest, UnsignedImagesHaveNone) {
  for (const std::string& image : {jpeg(), png(), testing::tiny_jpeg()}) {
    auto report = read_c2pa(image, "plain");
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_FALSE(report->present);
    EXPECT_FALSE(report->valid);
    EXPECT_EQ(c2pa_report_json(*report), (nlohmann::json{{"present", false}, {"valid", false}}));
  }
}

TEST(C2paManifest, BadInputIsAnErrorNamingTheFile) {
  const std::string jpeg_bytes = testing::tiny_jpeg();
  const std::string png_bytes = testing::ramp_png(4, 4);
  const std::string cases[] = {"", "hello", jpeg_bytes.substr(0, 30), png_bytes.substr(0, 40), std::string("\xff\xd8\xff\xe0\xff\xff", 6)};
  for (const auto& bytes : cases) {
    auto report = read_c2pa(bytes, "in.jpg");
    ASSERT_FALSE(report.ok()) << bytes.size();
    EXPECT_EQ(report.error().message.rfind("in.jpg: ", 0), 0u) << report.error().message;
    EXPECT_FALSE(sign_c2pa(bytes, ImageFormat::Jpeg, signer()).ok());
  }
  EXPECT_FALSE(sign_c2pa(png_bytes, ImageFormat::Jpeg, signer()).ok());  // format mismatch
}

TEST(C2paManifest, AGarbledManifestIsPresentButNotValid) {
  auto signed_bytes = sign_c2pa(png(), ImageFormat::Png, signer());
  ASSERT_TRUE(signed_bytes.ok());
  // Rename the claim superbox inside an intact caBX chunk: the manifest then has no claim.
  auto report = read_c2pa(flip_in(*signed_bytes, "c2pa.claim", 0), "garbled");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->present);
  EXPECT_FALSE(report->valid);
  EXPECT_FALSE(report->reasons.empty());
}

TEST(C2paManifest, AttachLoadsPemFilesAndKeygenWritesThem) {
  const auto dir = std::filesystem::temp_directory_path() / ("lv_c2pa_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string key = (dir / "key.pem").string();
  const std::string cert = (dir / "cert.pem").string();
  ASSERT_TRUE(write_c2pa_test_credentials(key, cert, "lightvault c2pa test").ok());
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto signed_bytes = attach_c2pa(jpeg(), ImageFormat::Jpeg, key, cert);
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.error().message;
  expect_valid(*signed_bytes, "image/jpeg");
  auto missing = attach_c2pa(jpeg(), ImageFormat::Jpeg, (dir / "absent.pem").string(), cert);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("absent.pem"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(C2paManifest, ReportJsonDumpsWhateverBytesTheManifestHeld) {
  C2paReport report;
  report.present = true;
  report.manifest_label = "urn:uuid:\xff\xfe";
  report.actions.push_back({"c2pa.created\xc3", "", ""});
  report.reasons.push_back("C2PA box \x80: no CBOR content box");
  const std::string dumped = c2pa_report_json(report).dump();  // throws on invalid UTF-8 unless repaired
  EXPECT_NE(dumped.find("urn:uuid:\ufffd\ufffd"), std::string::npos) << dumped;
}

}  // namespace
}  // namespace lv::mark
