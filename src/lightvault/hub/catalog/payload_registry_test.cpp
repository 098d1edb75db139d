#include "lightvault/hub/catalog/payload_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "lightvault/hub/catalog/test_postgres.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;

class PayloadRegistryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = fs::temp_directory_path() / ("lv_payloads_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    std::string url;
    if (GetParam() == "postgres") {
      auto& pg = testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL catalog tests skipped: " << pg.reason();
      url = pg.new_database_url();
      ASSERT_FALSE(url.empty());
    }
    auto c = Catalog::open(dir_.string(), url);
    ASSERT_TRUE(c.ok()) << c.error().message;
    catalog_ = std::move(*c);
  }
  void TearDown() override {
    catalog_.reset();
    fs::remove_all(dir_);
  }
  static IssuedPayload issue(const std::string& payload, const std::string& repo) {
    return IssuedPayload{payload, 1767225600, "alice", "tok_1", repo, std::string(64, 'a'), std::string(64, 'b')};
  }

  fs::path dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_P(PayloadRegistryTest, RecordsOncePerPayloadAndFindsItInEitherCase) {
  PayloadRegistry registry(*catalog_);
  ASSERT_TRUE(registry.record(issue("0123456789ABCDEF", "acme/gen")).ok());
  auto found = registry.find("0123456789abcdef");
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->payload, "0123456789abcdef");
  EXPECT_EQ((*found)->issued_at, 1767225600);
  EXPECT_EQ((*found)->actor, "alice");
  EXPECT_EQ((*found)->token_id, "tok_1");
  EXPECT_EQ((*found)->repo, "acme/gen");
  EXPECT_EQ((*found)->input_sha256, std::string(64, 'a'));
  EXPECT_EQ((*found)->output_sha256, std::string(64, 'b'));

  bool duplicate = false;
  Status again = registry.record(issue("0123456789abcdef", ""), &duplicate);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(duplicate);
  EXPECT_NE(again.error().message.find("0123456789abcdef"), std::string::npos) << again.error().message;
  EXPECT_EQ(registry.find("0123456789abcdef").value()->repo, "acme/gen");  // the first issue stands

  Status malformed = registry.record(issue("xyz", ""), &duplicate);
  ASSERT_FALSE(malformed.ok());
  EXPECT_FALSE(duplicate);
  EXPECT_FALSE(registry.find("fedcba9876543210")->has_value());
  EXPECT_FALSE(registry.find("not hex")->has_value());
}

TEST_P(PayloadRegistryTest, ARolledBackTransactionLeavesNoPayload) {
  PayloadRegistry registry(*catalog_);
  Status st = catalog_->transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(registry.record(issue("00000000000000ff", "")));
    return make_error("test", "the audit append failed");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(registry.find("00000000000000ff")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, PayloadRegistryTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lv::hub
