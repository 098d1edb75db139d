// Garbage collection on a real blob store and catalog, on SQLite and on PostgreSQL.
#include "lightvault/hub/storage/blob_gc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "lightvault/hub/storage/blob_store_testutil.h"
#include "lightvault/hub/catalog/test_postgres.h"

namespace lv::hub {
namespace {

constexpr int64_t kHour = 3600;

class BlobGcTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "postgres") {
      auto& pg = testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL tests skipped: " << pg.reason();
      url = pg.new_database_url();
    }
    auto c = Catalog::open(dir_.path(), url);
    ASSERT_TRUE(c.ok()) << c.error().message;
    catalog_ = std::move(*c);
    KeyringOptions ko;
    ko.data_dir = dir_.path();
    ko.allow_env = false;
    auto kr = MasterKeyring::open(ko);
    ASSERT_TRUE(kr.ok()) << kr.error().message;
    BlobStoreOptions o;
    o.data_dir = dir_.path();
    o.fsync = false;
    auto s = BlobStore::open(o, *kr);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }

  // Stores and registers a blob, as an upload by the owner to its repository "pushes" does.
  std::string upload(const std::string& owner, const std::string& data) {
    auto info = store_->put(owner, crypto::as_bytes(data));
    EXPECT_TRUE(info.ok()) << info.error().message;
    auto ref = register_upload(*catalog_, *store_, *info, pushes(owner).id, user(owner).id);
    EXPECT_TRUE(ref.ok()) << ref.error().message;
    return info->sha256;
  }

  User user(const std::string& name) {
    if (auto u = catalog_->find_user(name).value()) return *u;
    return catalog_->create_user(name).value();
  }
  Repo repo(const std::string& owner, const std::string& name) {
    user(owner);
    auto r = catalog_->create_repo(owner, name, Visibility::kPrivate);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
  }
  Repo pushes(const std::string& owner) {
    user(owner);
    if (auto r = catalog_->find_repo(owner, "pushes").value()) return *r;
    return repo(owner, "pushes");
  }

  // A commit by the owner of files it uploaded to this repository too.
  void commit(const Repo& r, std::vector<FileEntry> files) {
    User author = user(r.owner);
    for (auto& f : files) ASSERT_TRUE(catalog_->record_upload(r.id, author.id, f.sha256).ok());
    auto c = catalog_->create_commit(r, "main", std::nullopt, "files", author, std::move(files));
    ASSERT_TRUE(c.ok()) << c.error().message;
  }

  bool stored(const std::string& owner, const std::string& sha) { return store_->stat(owner, sha).value().has_value(); }
  bool registered(const std::string& owner, const std::string& sha) { return catalog_->find_blob(owner, sha).value().has_value(); }

  GcStats gc(int64_t later, bool dry_run = false) {
    auto stats = collect_garbage(*catalog_, *store_, GcOptions{kHour, dry_run, now_unix() + later});
    EXPECT_TRUE(stats.ok()) << stats.error().message;
    return stats.ok() ? *stats : GcStats{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<BlobStore> store_;
};

TEST_P(BlobGcTest, RemovesWhatNoRevisionReferencesOnceTheGraceIsOver) {
  Repo kept = repo("alice", "kept"), gone = repo("alice", "gone");
  std::string old_weights = upload("alice", "old weights"), weights = upload("alice", "weights");
  std::string shared = upload("alice", "tokenizer"), deleted = upload("alice", "deleted repo's file");
  std::string pushed_but_not_committed = upload("alice", "interrupted push");
  commit(kept, {{"model.bin", old_weights, 11}});
  commit(kept, {{"model.bin", weights, 7}, {"tok.json", shared, 9}});  // history keeps old_weights
  commit(gone, {{"tok.json", shared, 9}, {"x.bin", deleted, 19}});
  ASSERT_TRUE(catalog_->delete_repo(gone.id).ok());

  GcStats within_grace = gc(0);
  EXPECT_EQ(within_grace.blobs, 0u);
  GcStats dry = gc(2 * kHour, true);
  EXPECT_EQ(dry.blobs, 2u);
  EXPECT_EQ(dry.bytes, 19u + 16u);
  EXPECT_TRUE(stored("alice", deleted));

  GcStats done = gc(2 * kHour);
  EXPECT_EQ(done.blobs, 2u);
  EXPECT_EQ(done.bytes, 19u + 16u);
  EXPECT_EQ(done.unregistered, 0u);
  for (const std::string& sha : {deleted, pushed_but_not_committed}) {
    EXPECT_FALSE(stored("alice", sha));
    EXPECT_FALSE(registered("alice", sha));
  }
  for (const std::string& sha : {old_weights, weights, shared}) {
    EXPECT_TRUE(stored("alice", sha));
    EXPECT_TRUE(registered("alice", sha));
  }
  EXPECT_EQ(gc(2 * kHour).blobs, 0u);
}

TEST_P(BlobGcTest, AnotherOwnersReferenceDoesNotKeepABlob) {
  Repo alices = repo("alice", "m");
  repo("bob", "m");
  std::string a = upload("alice", "same bytes"), b = upload("bob", "same bytes");
  ASSERT_EQ(a, b);
  commit(alices, {{"w.bin", a, 10}});
  EXPECT_EQ(gc(2 * kHour).blobs, 1u);
  EXPECT_TRUE(stored("alice", a));
  EXPECT_FALSE(stored("bob", b));
}

TEST_P(BlobGcTest, RemovesStoredCopiesTheCatalogNeverRegistered) {
  // The server stopped between storing an upload and registering it.
  auto info = store_->put("alice", crypto::as_bytes(std::string("orphan")));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(gc(0).blobs, 0u);  // stored just now: it may be an upload in progress
  GcStats stats = gc(2 * kHour);
  EXPECT_EQ(stats.blobs, 1u);
  EXPECT_EQ(stats.unregistered, 1u);
  EXPECT_EQ(stats.bytes, 6u);
  EXPECT_FALSE(stored("alice", info->sha256));
}

TEST_P(BlobGcTest, CollectsMoreThanOneTransactionTakes) {
  for (int i = 0; i < 150; ++i) upload("alice", "unreferenced " + std::to_string(i));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->put("bob", crypto::as_bytes("unregistered " + std::to_string(i))).ok());
  GcStats stats = gc(2 * kHour);
  EXPECT_EQ(stats.blobs, 160u);
  EXPECT_EQ(stats.unregistered, 10u);
  EXPECT_TRUE(catalog_->list_blobs().value().empty());
  EXPECT_TRUE(store_->list_owner("alice").value().empty());
  EXPECT_TRUE(store_->list_owner("bob").value().empty());
}

TEST_P(BlobGcTest, UploadingAnOldBlobAgainRestartsItsGrace) {
  std::string sha = upload("alice", "re-pushed");
  ASSERT_TRUE(catalog_->sql().exec("UPDATE blobs SET uploaded_at = 0").ok());
  upload("alice", "re-pushed");  // deduplicated: the stored copy is the old one
  EXPECT_EQ(gc(0).blobs, 0u);
  EXPECT_TRUE(stored("alice", sha));
}

TEST_P(BlobGcTest, RegistrationFailsWhenTheStoredCopyWasCollectedMeanwhile) {
  auto info = store_->put("alice", crypto::as_bytes(std::string("raced")));
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(store_->remove("alice", info->sha256).value());  // collected before the upload registered it
  auto ref = register_upload(*catalog_, *store_, *info, pushes("alice").id, user("alice").id);
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.error().message.find("was garbage-collected while its upload finished; upload it again"), std::string::npos);
  EXPECT_FALSE(registered("alice", info->sha256));
}

TEST_P(BlobGcTest, EveryRegisteredBlobKeepsItsStoredCopyWhileUploadsRaceCollection) {
  // Collection with a clock far ahead takes every upload as soon as it is registered, as hard
  // as a real one could race them.
  std::atomic<bool> done = false;
  std::thread collector([&] {
    while (!done) {
      auto stats = collect_garbage(*catalog_, *store_, GcOptions{0, false, now_unix() + 10});
      ASSERT_TRUE(stats.ok()) << stats.error().message;
    }
  });
  int refused = 0;
  const int64_t repo_id = pushes("alice").id, user_id = user("alice").id;
  for (int i = 0; i < 200; ++i) {
    auto info = store_->put("alice", crypto::as_bytes("blob " + std::to_string(i % 4)));
    ASSERT_TRUE(info.ok()) << info.error().message;
    refused += !register_upload(*catalog_, *store_, *info, repo_id, user_id).ok();
  }
  done = true;
  collector.join();
  auto registered = catalog_->list_blobs();
  ASSERT_TRUE(registered.ok()) << registered.error().message;
  for (const BlobRef& ref : *registered) EXPECT_TRUE(stored(ref.owner, ref.sha256)) << ref.sha256;
  std::cerr << "uploads refused because collection removed their stored copy: " << refused << " of 200\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobGcTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace lv::hub
