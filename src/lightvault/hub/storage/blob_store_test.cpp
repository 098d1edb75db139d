#include "lightvault/hub/storage/blob_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "lightvault/hub/storage/blob_store_testutil.h"

namespace lv::hub {
namespace {

using testing::TempDir;

constexpr uint32_t kSeg = 4096;  // smallest segment: many segments with little data

std::string random_data(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string sha_hex(const std::string& s) { return crypto::hex_encode(crypto::sha256(crypto::as_bytes(s))); }

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(); }

  void open_store(uint32_t segment = kSeg) {
    store_.reset();
    KeyringOptions ko;
    ko.data_dir = dir_.path();
    ko.allow_env = false;
    auto kr = MasterKeyring::open(ko);
    ASSERT_TRUE(kr.ok()) << kr.error().message;
    keyring_ = *kr;
    BlobStoreOptions o;
    o.data_dir = dir_.path();
    o.segment_size = segment;
    o.fsync = false;  // speed; the fsync path is exercised by FsyncPathWorks
    auto s = BlobStore::open(o, keyring_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }

  BlobInfo put(const std::string& owner, const std::string& data) {
    auto r = store_->put(owner, crypto::as_bytes(data));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : BlobInfo{};
  }

  std::string read(const std::string& owner, const std::string& sha, uint64_t off, uint64_t len) {
    auto r = store_->open_reader(owner, sha);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok() || !*r) return "<missing>";
    std::string out;
    Status st = (*r)->read(off, len, [&](std::span<const uint8_t> b) {
      out.append(reinterpret_cast<const char*>(b.data()), b.size());
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }

  std::string body_path(const BlobInfo& info) {
    for (const auto& f : testing::files_under(dir_.path() + "/blobs"))
      if (f.ends_with(info.storage_id + ".blob")) return f;
    ADD_FAILURE() << "no body for " << info.storage_id;
    return "";
  }

  TempDir dir_;
  std::shared_ptr<MasterKeyring> keyring_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, RoundTripSizes) {
  for (size_t n : {size_t(0), size_t(1), size_t(kSeg - 1), size_t(kSeg), size_t(kSeg + 1), size_t(3 * kSeg + 7),
                   size_t(3 * 1024 * 1024 + 5)}) {
    std::string data = random_data(n, static_cast<uint32_t>(n));
    BlobInfo info = put("alice", data);
    EXPECT_EQ(info.size, n);
    EXPECT_EQ(info.sha256, sha_hex(data));
    EXPECT_EQ(info.storage_id.size(), 64u);
    EXPECT_EQ(read("alice", info.sha256, 0, n), data) << n;
    auto st = store_->stat("alice", info.sha256);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(st->has_value());
    EXPECT_EQ((*st)->size, n);
    auto r = store_->open_reader("alice", info.sha256).value();
    EXPECT_TRUE(r->verify().ok());
    // Body size = header + data + one tag per segment.
    uint64_t segs = n == 0 ? 1 : (n + kSeg - 1) / kSeg;
    EXPECT_EQ(std::filesystem::file_size(body_path(info)), 40 + n + 16 * segs);
  }
}

TEST_F(BlobStoreTest, LargeBlobWithDefaultSegmentsStreamsInChunks) {
  open_store(64 * 1024);
  std::string data = random_data(5 * 1024 * 1024 + 3, 7);
  auto w = store_->create_writer("org:acme").value();
  // odd chunk sizes
  size_t pos = 0, step = 1;
  while (pos < data.size()) {
    size_t k = std::min(step, data.size() - pos);
    ASSERT_TRUE(w->write(data.data() + pos, k).ok());
    pos += k;
    step = step * 3 + 1;
    if (step > 200000) step = 777;
  }
  EXPECT_EQ(w->bytes_written(), data.size());
  auto info = w->commit();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->sha256, sha_hex(data));
  EXPECT_EQ(read("org:acme", info->sha256, 0, data.size()), data);
  EXPECT_EQ(read("org:acme", info->sha256, 1000000, 70000), data.substr(1000000, 70000));
}

TEST_F(BlobStoreTest, RangeReadsAtEveryBoundary) {
  const size_t n = 3 * kSeg + 5;
  std::string data = random_data(n, 42);
  BlobInfo info = put("alice", data);
  auto reader = store_->open_reader("alice", info.sha256).value();
  std::vector<uint64_t> points;
  for (uint64_t b : {uint64_t(0), uint64_t(kSeg), uint64_t(2 * kSeg), uint64_t(3 * kSeg), uint64_t(n)})
    for (int64_t d : {-2, -1, 0, 1, 2})
      if (int64_t(b) + d >= 0 && uint64_t(int64_t(b) + d) <= n) points.push_back(uint64_t(int64_t(b) + d));
  int checked = 0;
  for (uint64_t a : points) {
    for (uint64_t b : points) {
      if (b < a) continue;
      std::string out(b - a, '\0');
      Status st = reader->read_into(a, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
      ASSERT_TRUE(st.ok()) << a << "+" << b - a << ": " << st.error().message;
      ASSERT_EQ(out, data.substr(a, b - a)) << a << ".." << b;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  // Pieces handed to the sink never exceed one segment, and a one-byte range decrypts one segment.
  int calls = 0;
  ASSERT_TRUE(reader->read(kSeg - 1, 2, [&](std::span<const uint8_t> b) {
    ++calls;
    EXPECT_EQ(b.size(), 1u);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(calls, 2);
  // Past the end.
  auto past = reader->read(n - 1, 2, [](std::span<const uint8_t>) { return Status::Ok(); });
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().message.find("past the end"), std::string::npos);
  EXPECT_FALSE(reader->read(n + 1, 0, [](std::span<const uint8_t>) { return Status::Ok(); }).ok());
  EXPECT_TRUE(reader->read(n, 0, [](std::span<const uint8_t>) { return Status::Ok(); }).ok());
  // A sink error stops the read and is passed through.
  auto stop = reader->read(0, n, [](std::span<const uint8_t>) { return Status(Error{"client went away"}); });
  ASSERT_FALSE(stop.ok());
  EXPECT_EQ(stop.error().message, "client went away");
}

TEST_F(BlobStoreTest, TamperingIsDetected) {
  const size_t n = 3 * kSeg + 100;
  std::string data = random_data(n, 9);
  BlobInfo info = put("alice", data);
  const std::string path = body_path(info);
  const std::string original = testing::read_all(path);
  const size_t seg_bytes = kSeg + 16;
  auto seg_off = [&](size_t i) { return 40 + i * seg_bytes; };
  auto expect_read_fails = [&](const std::string& what, const std::string& needle) {
    auto r = store_->open_reader("alice", info.sha256);
    std::string msg;
    if (!r.ok()) {
      msg = r.error().message;
    } else {
      Status st = (*r)->verify();
      ASSERT_FALSE(st.ok()) << what;
      msg = st.error().message;
    }
    EXPECT_NE(msg.find(needle), std::string::npos) << what << ": " << msg;
    EXPECT_NE(msg.find(info.sha256), std::string::npos) << what << ": " << msg;
  };

  {  // flip one byte in segment 1
    std::string t = original;
    t[seg_off(1) + 10] ^= 0x01;
    testing::write_all_file(path, t);
    expect_read_fails("flip", "segment 1 failed authentication");
    // Segment 0 is still readable (random access), segment 1 is not.
    auto r = store_->open_reader("alice", info.sha256).value();
    std::string out(100, '\0');
    EXPECT_TRUE(r->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())).ok());
    EXPECT_FALSE(r->read_into(kSeg, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())).ok());
  }
  {  // flip a tag byte of the last segment
    std::string t = original;
    t[t.size() - 1] ^= 0x80;
    testing::write_all_file(path, t);
    expect_read_fails("tag", "segment 3 failed authentication");
  }
  {  // swap segments 0 and 1
    std::string t = original;
    std::string s0 = t.substr(seg_off(0), seg_bytes), s1 = t.substr(seg_off(1), seg_bytes);
    t.replace(seg_off(0), seg_bytes, s1);
    t.replace(seg_off(1), seg_bytes, s0);
    testing::write_all_file(path, t);
    expect_read_fails("swap", "segment 0 failed authentication");
  }
  {  // truncate the last segment
    testing::write_all_file(path, original.substr(0, original.size() - 50));
    expect_read_fails("truncate", "truncated");
  }
  {  // drop the last segment entirely
    testing::write_all_file(path, original.substr(0, seg_off(3)));
    expect_read_fails("drop", "truncated");
  }
  {  // append a segment (a copy of segment 1)
    testing::write_all_file(path, original + original.substr(seg_off(1), seg_bytes));
    expect_read_fails("append", "extended");
  }
  {  // header changed
    std::string t = original;
    t[20] ^= 1;  // blob id
    testing::write_all_file(path, t);
    expect_read_fails("header", "header");
  }
  // Metadata tampering: change the size in the .meta → the wrapped key no longer opens.
  testing::write_all_file(path, original);
  std::string meta_path = path.substr(0, path.size() - 5) + ".meta";
  std::string meta = testing::read_all(meta_path);
  auto j = nlohmann::json::parse(meta);
  j["size"] = n - 100;
  testing::write_all_file(meta_path, j.dump());
  auto r = store_->open_reader("alice", info.sha256);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not authenticate"), std::string::npos) << r.error().message;
  // Restored: works again.
  testing::write_all_file(meta_path, meta);
  EXPECT_EQ(read("alice", info.sha256, 0, n), data);
}

TEST_F(BlobStoreTest, SegmentsCannotMoveBetweenBlobs) {
  std::string a = random_data(2 * kSeg, 1), b = random_data(2 * kSeg, 2);
  BlobInfo ia = put("alice", a), ib = put("alice", b);
  std::string pa = body_path(ia), pb = body_path(ib);
  std::string ta = testing::read_all(pa), tb = testing::read_all(pb);
  // Replace a's body with b's body entirely.
  testing::write_all_file(pa, tb);
  auto r = store_->open_reader("alice", ia.sha256);
  EXPECT_FALSE(r.ok() && (*r)->verify().ok());
  // And also b's meta with the body: moving the pair to a's name fails too.
  std::string ma = pa.substr(0, pa.size() - 5) + ".meta", mb = pb.substr(0, pb.size() - 5) + ".meta";
  testing::write_all_file(ma, testing::read_all(mb));
  r = store_->open_reader("alice", ia.sha256);
  ASSERT_FALSE(r.ok());
}

TEST_F(BlobStoreTest, NoPlaintextOnDisk) {
  std::string marker = "LIGHTVAULT-PLAINTEXT-MARKER-0123456789-abcdefghijklmnopqrstuvwxy";
  ASSERT_EQ(marker.size(), 64u);
  std::string data;
  while (data.size() < 1024 * 1024) data += marker;
  auto w = store_->create_writer("alice").value();
  ASSERT_TRUE(w->write(crypto::as_bytes(data.substr(0, 300000))).ok());
  // While the upload is in progress, the temp file has no plaintext either.
  for (const auto& f : testing::files_under(dir_.path()))
    EXPECT_EQ(testing::read_all(f).find(marker.substr(0, 32)), std::string::npos) << f;
  ASSERT_TRUE(w->write(crypto::as_bytes(data.substr(300000))).ok());
  BlobInfo info = w->commit().value();
  BlobInfo small = put("bob", marker);
  auto sha_raw = crypto::sha256(crypto::as_bytes(data));
  std::string raw(reinterpret_cast<const char*>(sha_raw.data()), sha_raw.size());
  for (const auto& f : testing::files_under(dir_.path())) {
    std::string content = testing::read_all(f);
    EXPECT_EQ(content.find(marker.substr(0, 16)), std::string::npos) << f;
    EXPECT_EQ(content.find(info.sha256), std::string::npos) << f;
    EXPECT_EQ(content.find(small.sha256), std::string::npos) << f;
    EXPECT_EQ(content.find(raw), std::string::npos) << f;
    EXPECT_EQ(f.find(info.sha256), std::string::npos) << f;
    EXPECT_EQ(f.find("alice"), std::string::npos) << f;
  }
  EXPECT_EQ(read("alice", info.sha256, 0, data.size()), data);
}

TEST_F(BlobStoreTest, DedupWithinOwnerOnlyNeverAcrossOwners) {
  std::string data = random_data(10000, 5);
  BlobInfo a1 = put("alice", data);
  BlobInfo a2 = put("alice", data);
  BlobInfo b1 = put("bob", data);
  EXPECT_FALSE(a1.deduplicated);
  EXPECT_TRUE(a2.deduplicated);
  EXPECT_FALSE(b1.deduplicated);
  EXPECT_EQ(a1.storage_id, a2.storage_id);
  EXPECT_NE(a1.storage_id, b1.storage_id);
  EXPECT_EQ(a1.sha256, b1.sha256);
  int bodies = 0;
  for (const auto& f : testing::files_under(dir_.path() + "/blobs")) bodies += f.ends_with(".blob");
  EXPECT_EQ(bodies, 2);
  EXPECT_NE(testing::read_all(body_path(a1)), testing::read_all(body_path(b1)));
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  // Independent lifetimes.
  EXPECT_TRUE(store_->remove("alice", a1.sha256).value());
  EXPECT_FALSE(store_->remove("alice", a1.sha256).value());
  EXPECT_FALSE(store_->stat("alice", a1.sha256).value().has_value());
  EXPECT_EQ(store_->open_reader("alice", a1.sha256).value(), nullptr);
  EXPECT_EQ(read("bob", b1.sha256, 0, data.size()), data);
  // Another owner cannot see alice's blob by hash.
  BlobInfo a3 = put("alice", data);
  EXPECT_FALSE(store_->stat("carol", a3.sha256).value().has_value());
}

TEST_F(BlobStoreTest, ListAndListOwner) {
  BlobInfo a = put("alice", "one"), b = put("alice", "two"), c = put("org/x", "one");
  std::vector<BlobInfo> all;
  ASSERT_TRUE(store_->list([&](const BlobInfo& i) {
    all.push_back(i);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(all.size(), 3u);
  auto alice = store_->list_owner("alice").value();
  ASSERT_EQ(alice.size(), 2u);
  for (const auto& i : alice) {
    EXPECT_EQ(i.owner, "alice");
    EXPECT_TRUE(i.sha256 == a.sha256 || i.sha256 == b.sha256);
  }
  auto x = store_->list_owner("org/x").value();
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[0].sha256, c.sha256);
  EXPECT_EQ(x[0].size, 3u);
  EXPECT_TRUE(store_->list_owner("nobody").value().empty());
}

TEST_F(BlobStoreTest, ReaderSurvivesRemove) {
  std::string data = random_data(3 * kSeg, 3);
  BlobInfo info = put("alice", data);
  auto r = store_->open_reader("alice", info.sha256).value();
  ASSERT_TRUE(store_->remove("alice", info.sha256).value());
  std::string out(data.size(), '\0');
  ASSERT_TRUE(r->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())).ok());
  EXPECT_EQ(out, data);
}

TEST_F(BlobStoreTest, WriterDestroyedWithoutCommitLeavesNothing) {
  {
    auto w = store_->create_writer("alice").value();
    ASSERT_TRUE(w->write(crypto::as_bytes(random_data(3 * kSeg + 1, 1))).ok());
    EXPECT_EQ(testing::files_under(dir_.path() + "/tmp").size(), 1u);
  }
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  {
    auto w = store_->create_writer("alice").value();
    ASSERT_TRUE(w->write(crypto::as_bytes("abc")).ok());
    w->abort();
    EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
    EXPECT_FALSE(w->write(crypto::as_bytes("x")).ok());
    EXPECT_FALSE(w->commit().ok());
  }
  EXPECT_TRUE(testing::files_under(dir_.path() + "/blobs").empty());
}

TEST_F(BlobStoreTest, ExpectationsAndLimits) {
  std::string data = "hello world";
  BlobWriteOptions o;
  o.expected_sha256 = sha_hex("something else");
  auto r = store_->put("alice", crypto::as_bytes(data), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("sha256 mismatch"), std::string::npos);
  o = {};
  o.expected_size = 3;
  EXPECT_FALSE(store_->put("alice", crypto::as_bytes(data), o).ok());
  o = {};
  o.max_size = 5;
  auto w = store_->create_writer("alice", o).value();
  EXPECT_TRUE(w->write(crypto::as_bytes("12345")).ok());
  EXPECT_FALSE(w->write(crypto::as_bytes("6")).ok());
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  EXPECT_TRUE(testing::files_under(dir_.path() + "/blobs").empty());
  o = {};
  o.expected_sha256 = sha_hex(data);
  o.expected_size = data.size();
  EXPECT_TRUE(store_->put("alice", crypto::as_bytes(data), o).ok());
  // Bad arguments.
  EXPECT_FALSE(store_->create_writer("").ok());
  EXPECT_FALSE(store_->stat("alice", "not-a-sha").ok());
  EXPECT_FALSE(store_->stat("alice", std::string(64, 'A')).ok());
}

TEST_F(BlobStoreTest, LeftoverTempFilesAndOrphansAreSweptAtOpen) {
  BlobInfo keep = put("alice", "keep me");
  // Leftovers of a crash: temp body, temp meta, and a body renamed without its .meta.
  testing::write_all_file(dir_.path() + "/tmp/deadbeef.part", "garbage");
  testing::write_all_file(dir_.path() + "/tmp/deadbeef.meta", "garbage");
  std::string orphan_dir = std::filesystem::path(body_path(keep)).parent_path().string();
  testing::write_all_file(orphan_dir + "/" + std::string(64, 'e') + ".blob", "orphan");
  testing::write_all_file(orphan_dir + "/" + std::string(64, 'f') + ".meta.tmp-1234", "x");
  open_store();
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  int n = 0;
  ASSERT_TRUE(store_->list([&](const BlobInfo&) {
    ++n;
    return Status::Ok();
  }).ok());
  EXPECT_EQ(n, 1);
  EXPECT_EQ(testing::files_under(dir_.path() + "/blobs").size(), 2u);  // keep's .blob + .meta
  EXPECT_EQ(read("alice", keep.sha256, 0, 7), "keep me");
}

TEST_F(BlobStoreTest, KillDashNineMidUploadLeavesNothingVisible) {
  BlobInfo keep = put("alice", "already here");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: a fresh store on the same folder, half an upload, then SIGKILL.
    KeyringOptions ko;
    ko.data_dir = dir_.path();
    ko.allow_env = false;
    auto kr = MasterKeyring::open(ko);
    if (!kr.ok()) ::_exit(3);
    BlobStoreOptions o;
    o.data_dir = dir_.path();
    o.segment_size = kSeg;
    auto s = BlobStore::open(o, *kr);
    if (!s.ok()) ::_exit(4);
    auto w = (*s)->create_writer("alice");
    if (!w.ok()) ::_exit(5);
    std::string chunk = random_data(64 * 1024, 77);
    for (int i = 0; i < 8; ++i) (void)(*w)->write(crypto::as_bytes(chunk));
    ::kill(::getpid(), SIGKILL);
    ::_exit(6);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(testing::files_under(dir_.path() + "/tmp").size(), 1u);  // the partial upload
  open_store();
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  std::vector<BlobInfo> all;
  ASSERT_TRUE(store_->list([&](const BlobInfo& i) {
    all.push_back(i);
    return Status::Ok();
  }).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].sha256, keep.sha256);
}

TEST_F(BlobStoreTest, WrongMasterKeyGivesClearErrorAndChangesNothing) {
  // A data folder set up with an external key file (nothing in DIR/keys holds the key).
  TempDir keys;
  std::string ka = keys.path() + "/a.key", kb = keys.path() + "/b.key";
  testing::write_all_file(ka, crypto::hex_encode(crypto::random_key().value()) + "\n", 0600);
  testing::write_all_file(kb, crypto::hex_encode(crypto::random_key().value()) + "\n", 0600);
  TempDir data;
  std::string sha;
  {
    KeyringOptions ko;
    ko.data_dir = data.path();
    ko.key_file = ka;
    ko.allow_env = false;
    auto kr = MasterKeyring::open(ko).value();
    BlobStoreOptions o;
    o.data_dir = data.path();
    auto s = BlobStore::open(o, kr).value();
    sha = s->put("alice", crypto::as_bytes("secret model")).value().sha256;
  }
  auto before = testing::snapshot(data.path());
  KeyringOptions ko;
  ko.data_dir = data.path();
  ko.key_file = kb;
  ko.allow_env = false;
  auto kr = MasterKeyring::open(ko);
  ASSERT_FALSE(kr.ok());
  EXPECT_NE(kr.error().message.find("wrong master key"), std::string::npos) << kr.error().message;
  EXPECT_EQ(testing::snapshot(data.path()), before);
  // The right key still works.
  ko.key_file = ka;
  auto good = MasterKeyring::open(ko).value();
  BlobStoreOptions o;
  o.data_dir = data.path();
  auto s = BlobStore::open(o, good).value();
  auto r = s->open_reader("alice", sha).value();
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->verify().ok());
  // Even if someone bypasses the keyring with an in-memory keyring of the wrong key, reads fail
  // clearly instead of returning garbage.
  auto wrong = MasterKeyring::in_memory({MasterKeyring::read_key_file(kb).value()});
  auto s2 = BlobStore::open(BlobStoreOptions{data.path(), kSeg, false, false, false}, wrong).value();
  EXPECT_EQ(s2->open_reader("alice", sha).value(), nullptr);  // naming differs: not found
}

TEST_F(BlobStoreTest, RotateRewrapsWithoutTouchingBodiesAndRetiresOldKey) {
  std::vector<std::pair<std::string, std::string>> blobs;
  for (int i = 0; i < 5; ++i) {
    std::string d = random_data(1000 * i + 1, 100 + i);
    blobs.push_back({put(i % 2 ? "alice" : "bob", d).sha256, d});
  }
  std::map<std::string, std::string> bodies_before;
  for (const auto& f : testing::files_under(dir_.path() + "/blobs"))
    if (f.ends_with(".blob")) bodies_before[f] = testing::read_all(f);
  std::string old_id = keyring_->active_id();
  auto new_id = keyring_->rotate();
  ASSERT_TRUE(new_id.ok()) << new_id.error().message;
  // A blob written after rotation uses the new key.
  std::string late = random_data(5000, 999);
  BlobInfo late_info = put("alice", late);
  EXPECT_EQ(late_info.key_id, *new_id);
  // Old key cannot be retired while in use.
  Status early = store_->retire_master_key(old_id);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.error().message.find("still wraps 5"), std::string::npos) << early.error().message;
  auto stats = store_->rewrap_all();
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->total, 6u);
  EXPECT_EQ(stats->rewrapped, 5u);
  EXPECT_EQ(stats->already_active, 1u);
  EXPECT_EQ(store_->rewrap_all()->rewrapped, 0u);  // idempotent
  for (const auto& [f, content] : bodies_before) EXPECT_EQ(testing::read_all(f), content) << f;
  EXPECT_FALSE(store_->retire_master_key(*new_id).ok());  // active
  ASSERT_TRUE(store_->retire_master_key(old_id).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/keys/master-" + old_id + ".key"));
  // Reopen from disk: everything decrypts with only the new key.
  open_store();
  EXPECT_EQ(keyring_->keys().size(), 1u);
  for (int i = 0; i < 5; ++i) {
    const auto& [sha, d] = blobs[i];
    std::string owner = i % 2 ? "alice" : "bob";
    EXPECT_EQ(read(owner, sha, 0, d.size()), d);
    EXPECT_EQ(store_->stat(owner, sha).value()->key_id, *new_id);
  }
  EXPECT_EQ(read("alice", late_info.sha256, 0, late.size()), late);
}

TEST_F(BlobStoreTest, ConcurrentWritersOfSameContentDeduplicate) {
  std::string data = random_data(3 * kSeg + 11, 31);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, dedup{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto r = store_->put("alice", crypto::as_bytes(data));
      if (r.ok()) {
        ++ok;
        if (r->deduplicated) ++dedup;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(dedup.load(), 3);
  EXPECT_EQ(testing::files_under(dir_.path() + "/blobs").size(), 2u);
  EXPECT_TRUE(testing::files_under(dir_.path() + "/tmp").empty());
  EXPECT_EQ(read("alice", sha_hex(data), 0, data.size()), data);
}

TEST_F(BlobStoreTest, FsyncPathAndVerifyAfterWriteWork) {
  BlobStoreOptions o;
  o.data_dir = dir_.path();
  o.fsync = true;
  o.verify_after_write = true;
  auto s = BlobStore::open(o, keyring_).value();
  std::string data = random_data(200000, 8);
  auto info = s->put("alice", crypto::as_bytes(data));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(read("alice", info->sha256, 0, data.size()), data);  // segment size from the meta
}

}  // namespace
}  // namespace lv::hub
