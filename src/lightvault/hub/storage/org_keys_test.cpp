#include "lightvault/hub/storage/org_keys.h"

#include <gtest/gtest.h>

#include "lightvault/hub/storage/blob_store_testutil.h"

namespace lv::hub {
namespace {

using testing::TempDir;

class OrgKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KeyringOptions o;
    o.data_dir = dir_.path();
    o.allow_env = false;
    keyring_ = MasterKeyring::open(o).value();
    catalog_ = Catalog::open(dir_.path()).value();
    acme_ = catalog_->create_org("acme").value();
    other_ = catalog_->create_org("other").value();
  }
  std::string sealed_of(const Org& org) {
    auto r = catalog_->sql().exec("SELECT sealed FROM org_keys WHERE org_id = ?1", {org.id});
    return r.ok() && !r->rows.empty() ? r->rows[0][0].value_or("") : "";
  }

  TempDir dir_;
  std::shared_ptr<MasterKeyring> keyring_;
  std::unique_ptr<Catalog> catalog_;
  Org acme_, other_;
};

TEST_F(OrgKeysTest, CreatedOnFirstUseSealedAndTheSameAfterwards) {
  OrgKeyStore keys(*catalog_, *keyring_);
  EXPECT_FALSE(keys.find(acme_, OrgKeyKind::kTextWatermark)->has_value());
  bool created = false;
  auto first = keys.text_watermark_key(acme_, &created);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(created);
  EXPECT_EQ(first->size(), 64u);
  auto again = keys.text_watermark_key(acme_, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(*again, *first);
  EXPECT_NE(keys.text_watermark_key(other_).value(), *first);
  EXPECT_FALSE(keys.find(acme_, OrgKeyKind::kImageWatermark)->has_value());  // kinds are apart
  // Only the sealed form is stored.
  const std::string sealed = sealed_of(acme_);
  ASSERT_FALSE(sealed.empty());
  EXPECT_EQ(sealed.find(*first), std::string::npos);
  // A new store over the same catalog and keyring (a restart) opens the same key.
  OrgKeyStore restarted(*catalog_, *keyring_);
  EXPECT_EQ(restarted.text_watermark_key(acme_).value(), *first);
}

TEST_F(OrgKeysTest, ASealedKeyMovedToAnotherOrganizationDoesNotOpen) {
  OrgKeyStore keys(*catalog_, *keyring_);
  ASSERT_TRUE(keys.text_watermark_key(acme_).ok());
  ASSERT_TRUE(catalog_->sql().exec("UPDATE org_keys SET org_id = ?1 WHERE org_id = ?2", {other_.id, acme_.id}).ok());
  auto moved = keys.find(other_, OrgKeyKind::kTextWatermark);
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.error().message.find("org other"), std::string::npos) << moved.error().message;
}

TEST_F(OrgKeysTest, ResealedUnderTheActiveMasterKeySoTheOldOneCanBeRetired) {
  OrgKeyStore keys(*catalog_, *keyring_);
  const std::string key = keys.text_watermark_key(acme_).value();
  const std::string old_id = keyring_->active_id();
  ASSERT_TRUE(keyring_->rotate().ok());
  EXPECT_EQ(keys.text_watermark_key(acme_).value(), key);  // read once: resealed
  auto r = catalog_->sql().exec("SELECT key_id FROM org_keys WHERE org_id = ?1", {acme_.id});
  EXPECT_EQ(r->rows[0][0].value_or(""), keyring_->active_id());
  ASSERT_TRUE(keyring_->retire(old_id).ok());
  EXPECT_EQ(keys.text_watermark_key(acme_).value(), key);
}

}  // namespace
}  // namespace lv::hub
