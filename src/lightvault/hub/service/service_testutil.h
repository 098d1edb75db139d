#pragma once
// Test helpers for the service layer: a fixture whose tests run on every catalog backend
// (SQLite always; PostgreSQL when Debian's server is installed) against a HubService over a
// temporary data folder, with a site administrator and callers made from user names. Tests only.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/service/hub_service.h"
#include "lightvault/hub/storage/blob_store_testutil.h"

namespace lv::hub::testing {

// Instantiate with ::testing::Values("sqlite", "postgres"). A fixture that derives from it and
// has its own SetUp calls ServiceBackendTest::SetUp() first and returns if IsSkipped() or
// HasFatalFailure().
class ServiceBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "postgres") {
      auto& pg = TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL service tests skipped: " << pg.reason();
      url = pg.new_database_url();
      ASSERT_FALSE(url.empty());
    }
    auto c = Catalog::open(dir_.path(), url);
    ASSERT_TRUE(c.ok()) << c.error().message;
    catalog_ = std::move(*c);
    keyring_ = MasterKeyring::in_memory({crypto::random_key().value()});
    BlobStoreOptions bopt;
    bopt.data_dir = dir_.path();
    bopt.fsync = false;
    auto b = BlobStore::open(bopt, keyring_);
    ASSERT_TRUE(b.ok()) << b.error().message;
    blobs_ = std::move(*b);
    audit_ = std::make_unique<AuditWriter>(*catalog_, crypto::random_key().value());
    service_ = std::make_unique<HubService>(*catalog_, *blobs_, *keyring_, *audit_);
    auto admin = catalog_->create_user("admin", true);
    ASSERT_TRUE(admin.ok());
    admin_ = local_caller(*admin, "test");
  }

  // A caller acting as the existing user `name` through a token with `scopes`.
  Caller user(const std::string& name, unsigned scopes = kScopeRead | kScopeWrite | kScopeAdmin) {
    auto found = catalog_->find_user(name);
    EXPECT_TRUE(found.ok() && found->has_value()) << name;
    Caller c;
    if (found.ok() && found->has_value()) c.who.user = **found;
    c.who.scopes = scopes;
    c.client = "127.0.0.1:1";
    c.request_id = "req-" + name;
    return c;
  }

  // The audit entries, oldest first, parsed.
  std::vector<nlohmann::json> trail() {
    std::vector<nlohmann::json> out;
    auto rows = catalog_->audit_rows(1, 100000);
    EXPECT_TRUE(rows.ok());
    if (rows.ok()) {
      for (auto& r : *rows) out.push_back(nlohmann::json::parse(r.json));
    }
    return out;
  }
  // The audit entries of one action, oldest first.
  std::vector<nlohmann::json> trail(const std::string& action) {
    std::vector<nlohmann::json> out;
    for (nlohmann::json& e : trail()) {
      if (e["action"] == action) out.push_back(std::move(e));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  std::shared_ptr<MasterKeyring> keyring_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<AuditWriter> audit_;
  std::unique_ptr<HubService> service_;
  Caller admin_;
};

}  // namespace lv::hub::testing
