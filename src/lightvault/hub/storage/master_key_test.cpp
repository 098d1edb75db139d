#include "lightvault/hub/storage/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "lightvault/hub/storage/blob_store_testutil.h"

namespace lv::hub {
namespace {

using testing::TempDir;

mode_t mode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

KeyringOptions opts(const std::string& dir) {
  KeyringOptions o;
  o.data_dir = dir;
  o.allow_env = false;
  return o;
}

// Sets LIGHTVAULT_MASTER_KEY for one scope.
struct EnvKey {
  explicit EnvKey(const std::string& v) { ::setenv(kMasterKeyEnv, v.c_str(), 1); }
  ~EnvKey() { ::unsetenv(kMasterKeyEnv); }
};

TEST(MasterKey, FirstStartGeneratesKeyFile0600AndReopens) {
  TempDir t;
  auto kr = MasterKeyring::open(opts(t.path()));
  ASSERT_TRUE(kr.ok()) << kr.error().message;
  std::string id = (*kr)->active_id();
  EXPECT_EQ(id.size(), 16u);
  std::string file = t.path() + "/keys/master-" + id + ".key";
  EXPECT_EQ(mode_of(file), 0600u);
  EXPECT_EQ(mode_of(t.path() + "/keys"), 0700u);
  EXPECT_EQ(mode_of(t.path() + "/keys/keyring.json"), 0600u);
  auto key = MasterKeyring::read_key_file(file);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(MasterKeyring::key_id_for(*key), id);

  auto again = MasterKeyring::open(opts(t.path()));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->active_id(), id);
  EXPECT_EQ((*again)->naming_secret(), (*kr)->naming_secret());

  // wrap/unwrap across instances
  auto w = (*kr)->wrap(crypto::as_bytes("secret"), crypto::as_bytes("ctx"));
  ASSERT_TRUE(w.ok());
  auto u = (*again)->unwrap(*w, crypto::as_bytes("ctx"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(std::string(u->begin(), u->end()), "secret");
  EXPECT_FALSE((*again)->unwrap(*w, crypto::as_bytes("other")).ok());
}

TEST(MasterKey, NoCreateWithoutKeyFails) {
  TempDir t;
  auto o = opts(t.path());
  o.create_if_missing = false;
  auto kr = MasterKeyring::open(o);
  ASSERT_FALSE(kr.ok());
  EXPECT_NE(kr.error().message.find("no master key"), std::string::npos);
  EXPECT_TRUE(testing::files_under(t.path()).empty());
}

TEST(MasterKey, RefusesKeyFileWithLooseMode) {
  TempDir t;
  auto kr = MasterKeyring::open(opts(t.path()));
  ASSERT_TRUE(kr.ok());
  std::string file = t.path() + "/keys/master-" + (*kr)->active_id() + ".key";
  ::chmod(file.c_str(), 0644);
  auto again = MasterKeyring::open(opts(t.path()));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(file), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("0644"), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("0600"), std::string::npos) << again.error().message;

  // Explicit key file too.
  std::string ext = t.path() + "/external.key";
  testing::write_all_file(ext, std::string(64, 'a') + "\n", 0640);
  auto o = opts(t.path() + "/other");
  o.key_file = ext;
  auto r = MasterKeyring::open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(ext), std::string::npos);
}

TEST(MasterKey, ParsesHexAndBase64) {
  crypto::Key256 k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(i * 7);
  std::string hex = crypto::hex_encode(k), b64 = crypto::base64_encode(k);
  auto a = MasterKeyring::parse_keys(hex);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->front(), k);
  auto b = MasterKeyring::parse_keys(" base64:" + b64 + "\n");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->front(), k);
  auto c = MasterKeyring::parse_keys(b64 + "," + hex);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 2u);
  EXPECT_FALSE(MasterKeyring::parse_keys("too-short").ok());
  EXPECT_FALSE(MasterKeyring::parse_keys(hex + ",").ok());
}

TEST(MasterKey, EnvKeyWrongKeyIsRefusedAndChangesNothing) {
  TempDir t;
  crypto::Key256 a = crypto::random_key().value(), b = crypto::random_key().value();
  KeyringOptions o;
  o.data_dir = t.path();
  {
    EnvKey env(crypto::hex_encode(a));
    auto kr = MasterKeyring::open(o);
    ASSERT_TRUE(kr.ok()) << kr.error().message;
    EXPECT_EQ((*kr)->active_id(), MasterKeyring::key_id_for(a));
    // The env key is not written to disk.
    EXPECT_FALSE(testing::read_all(t.path() + "/keys/keyring.json").empty());
    for (const auto& f : testing::files_under(t.path()))
      EXPECT_EQ(f.find("master-"), std::string::npos) << f;
  }
  auto before = testing::snapshot(t.path());
  {
    EnvKey env(crypto::base64_encode(b));
    auto kr = MasterKeyring::open(o);
    ASSERT_FALSE(kr.ok());
    const std::string& m = kr.error().message;
    EXPECT_NE(m.find("wrong master key"), std::string::npos) << m;
    EXPECT_NE(m.find(MasterKeyring::key_id_for(a)), std::string::npos) << m;
    EXPECT_NE(m.find(MasterKeyring::key_id_for(b)), std::string::npos) << m;
  }
  EXPECT_EQ(testing::snapshot(t.path()), before);
  {
    // Without any key: clear error, no new key generated.
    auto kr = MasterKeyring::open(o);
    ASSERT_FALSE(kr.ok());
    EXPECT_NE(kr.error().message.find("no master key"), std::string::npos) << kr.error().message;
  }
  EXPECT_EQ(testing::snapshot(t.path()), before);
}

TEST(MasterKey, LoneWrongEnvKeyNeverRotatesByAccident) {
  TempDir t;
  KeyringOptions o;
  o.data_dir = t.path();
  ::unsetenv(kMasterKeyEnv);
  auto first = MasterKeyring::open(o);  // generates DIR/keys/master-<id>.key
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string id = (*first)->active_id();
  auto before = testing::snapshot(t.path());
  {
    EnvKey env(crypto::hex_encode(crypto::random_key().value()));
    auto kr = MasterKeyring::open(o);
    ASSERT_FALSE(kr.ok());
    EXPECT_NE(kr.error().message.find("wrong master key"), std::string::npos) << kr.error().message;
    EXPECT_NE(kr.error().message.find(id), std::string::npos) << kr.error().message;
  }
  EXPECT_EQ(testing::snapshot(t.path()), before);
}

TEST(MasterKey, EnvRotationNewThenOld) {
  TempDir t;
  crypto::Key256 a = crypto::random_key().value(), b = crypto::random_key().value();
  KeyringOptions o;
  o.data_dir = t.path();
  WrappedSecret w;
  {
    EnvKey env(crypto::hex_encode(a));
    auto kr = MasterKeyring::open(o);
    ASSERT_TRUE(kr.ok());
    w = (*kr)->wrap(crypto::as_bytes("dk"), {}).value();
  }
  {
    EnvKey env(crypto::hex_encode(b) + "," + crypto::hex_encode(a));
    auto kr = MasterKeyring::open(o);
    ASSERT_TRUE(kr.ok()) << kr.error().message;
    EXPECT_EQ((*kr)->active_id(), MasterKeyring::key_id_for(b));
    EXPECT_TRUE((*kr)->unwrap(w, {}).ok());
    EXPECT_EQ((*kr)->keys().size(), 2u);
    ASSERT_TRUE((*kr)->retire(MasterKeyring::key_id_for(a)).ok());
    EXPECT_FALSE((*kr)->retire(MasterKeyring::key_id_for(b)).ok());  // active
  }
  {
    EnvKey env(crypto::hex_encode(b));
    auto kr = MasterKeyring::open(o);
    ASSERT_TRUE(kr.ok()) << kr.error().message;
    EXPECT_EQ((*kr)->active_id(), MasterKeyring::key_id_for(b));
  }
  {
    // The retired key alone is no longer accepted.
    EnvKey env(crypto::hex_encode(a));
    EXPECT_FALSE(MasterKeyring::open(o).ok());
  }
}

TEST(MasterKey, RotateWritesNewKeyFileAndKeepsOld) {
  TempDir t;
  auto kr = MasterKeyring::open(opts(t.path())).value();
  std::string old_id = kr->active_id();
  auto naming = kr->naming_secret();
  auto w = kr->wrap(crypto::as_bytes("dk"), {}).value();
  auto new_id = kr->rotate();
  ASSERT_TRUE(new_id.ok()) << new_id.error().message;
  EXPECT_NE(*new_id, old_id);
  EXPECT_EQ(kr->active_id(), *new_id);
  EXPECT_EQ(mode_of(t.path() + "/keys/master-" + *new_id + ".key"), 0600u);
  EXPECT_TRUE(kr->unwrap(w, {}).ok());
  auto again = MasterKeyring::open(opts(t.path())).value();
  EXPECT_EQ(again->active_id(), *new_id);
  EXPECT_EQ(again->naming_secret(), naming);
  ASSERT_TRUE(again->retire(old_id).ok());
  EXPECT_FALSE(testing::files_under(t.path()).empty());
  EXPECT_FALSE(std::filesystem::exists(t.path() + "/keys/master-" + old_id + ".key"));
  auto third = MasterKeyring::open(opts(t.path())).value();
  EXPECT_EQ(third->active_id(), *new_id);
  EXPECT_FALSE(third->unwrap(w, {}).ok());
}

TEST(MasterKey, KeyFileContentMustMatchItsName) {
  TempDir t;
  auto kr = MasterKeyring::open(opts(t.path())).value();
  std::string file = t.path() + "/keys/master-" + kr->active_id() + ".key";
  testing::write_all_file(file, crypto::hex_encode(crypto::random_key().value()) + "\n", 0600);
  auto before = testing::snapshot(t.path());
  auto again = MasterKeyring::open(opts(t.path()));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(file), std::string::npos) << again.error().message;
  EXPECT_EQ(testing::snapshot(t.path()), before);
}

}  // namespace
}  // namespace lv::hub
