// End-to-end test of `lightvault mark keygen`: the pair it writes signs images whose C2PA
// manifest verifies, `mark --c2pa-key` signs after every other layer so that `detect` finds
// them all, and bad input gets the CLI's one-line error and exit 2.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/c2pa_testutil.h"
#include "subprocess.h"

namespace lv {
namespace {

using testing_support::run_lightvault;
using testing_support::temp_path;

TEST(CliC2pa, KeygenWritesAPairThatSigns) {
  const std::string key = temp_path("c2pa_key.pem");
  const std::string cert = temp_path("c2pa_cert.pem");
  auto c = run_lightvault({"mark", "keygen", "--c2pa-key", key, "--c2pa-cert", cert, "--subject", "cli test signer"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find(key), std::string::npos) << c.out;
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto signed_bytes = mark::attach_c2pa(mark::testing::tiny_jpeg(), mark::ImageFormat::Jpeg, key, cert);
  ASSERT_TRUE(signed_bytes.ok()) << signed_bytes.error().message;
  auto report = mark::read_c2pa(*signed_bytes, "signed");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->valid);
  EXPECT_NE(report->signer_subject.find("CN=cli test signer"), std::string::npos) << report->signer_subject;
}

TEST(CliC2pa, MarkSignsLastSoDetectFindsEveryLayer) {
  const std::string key = temp_path("mark_key.pem"), cert = temp_path("mark_cert.pem");
  ASSERT_EQ(run_lightvault({"mark", "keygen", "--c2pa-key", key, "--c2pa-cert", cert}).exit_code, 0);
  const std::string in = temp_path("ramp.png"), out = temp_path("ramp_marked.png");
  std::ofstream(in, std::ios::binary) << mark::testing::ramp_png(320, 240);
  auto marked = run_lightvault({"mark", in, "-o", out, "--payload", "00000000c2a5c2a5", "--producer", "acme",
                                "--c2pa-key", key, "--c2pa-cert", cert});
  ASSERT_EQ(marked.exit_code, 0) << marked.err;
  auto detected = run_lightvault({"detect", out, "--json"});
  ASSERT_EQ(detected.exit_code, 0) << detected.err;
  auto report = nlohmann::json::parse(detected.out);
  EXPECT_EQ(report["watermark"]["payload"], "00000000c2a5c2a5");
  EXPECT_EQ(report["metadata"]["aigc"]["ContentProducer"], "acme");
  EXPECT_EQ(report["c2pa"]["present"], true);
  EXPECT_EQ(report["c2pa"]["valid"], true) << report["c2pa"].dump();

  auto half = run_lightvault({"mark", in, "-o", out, "--c2pa-key", key});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_EQ(half.last_err_line(), "error: --c2pa-key/--c2pa-cert: C2PA signing needs both the key and the certificate chain");
}

TEST(CliC2pa, KeygenBadInputIsOneErrorLine) {
  auto missing = run_lightvault({"mark", "keygen", "--c2pa-key", temp_path("only_key.pem")});
  EXPECT_NE(missing.exit_code, 0);
  auto unwritable = run_lightvault({"mark", "keygen", "--c2pa-key", "/nonexistent/dir/k.pem", "--c2pa-cert", temp_path("c.pem")});
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_EQ(unwritable.last_err_line(), "error: /nonexistent/dir/k.pem: cannot create");
  auto no_input = run_lightvault({"mark"});
  EXPECT_EQ(no_input.exit_code, 2);
  EXPECT_EQ(no_input.last_err_line(), "error: mark: IN and -o OUT are required");
}

}  // namespace
}  // namespace lv
