#include "lightvault/hub/storage/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "lightvault/hub/storage/blob_store_io.h"
#include "lightvault/hub/storage/segment_pipeline.h"

namespace lv::hub {
namespace {

using crypto::Bytes;
using crypto::ByteView;
using crypto::Key256;
using nlohmann::json;

constexpr uint8_t kMagic[8] = {'L', 'V', 'B', 'L', 'O', 'B', 0, 1};
constexpr size_t kHeaderSize = 40;
constexpr size_t kBlobIdSize = 16;
constexpr size_t kNoncePrefixSize = 8;
constexpr uint32_t kMinSegment = 4 * 1024;
constexpr uint32_t kMaxSegment = 16 * 1024 * 1024;
constexpr size_t kMaxOwner = 255;

void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

// Per-blob cryptographic layout (everything the body decryption needs).
struct Layout {
  std::array<uint8_t, kBlobIdSize> blob_id{};
  std::array<uint8_t, kNoncePrefixSize> nonce_prefix{};
  uint32_t segment_size = 0;
  uint64_t size = 0;

  uint64_t segments() const { return size == 0 ? 1 : (size + segment_size - 1) / segment_size; }
  uint64_t file_size() const { return kHeaderSize + size + segments() * crypto::kGcmTagSize; }
  uint64_t segment_plain_len(uint64_t i) const {
    uint64_t n = segments();
    return i + 1 < n ? segment_size : size - (n - 1) * segment_size;
  }
  uint64_t segment_offset(uint64_t i) const {
    return kHeaderSize + i * (uint64_t(segment_size) + crypto::kGcmTagSize);
  }
  crypto::Nonce nonce(uint64_t i) const {
    crypto::Nonce n{};
    std::memcpy(n.data(), nonce_prefix.data(), kNoncePrefixSize);
    put_be32(n.data() + kNoncePrefixSize, static_cast<uint32_t>(i));
    return n;
  }
  // AAD = "LVSEG1" || blob_id || u64 BE index || u8 last
  std::array<uint8_t, 6 + kBlobIdSize + 8 + 1> aad(uint64_t i, bool last) const {
    std::array<uint8_t, 6 + kBlobIdSize + 8 + 1> a{};
    std::memcpy(a.data(), "LVSEG1", 6);
    std::memcpy(a.data() + 6, blob_id.data(), kBlobIdSize);
    put_be64(a.data() + 6 + kBlobIdSize, i);
    a[6 + kBlobIdSize + 8] = last ? 1 : 0;
    return a;
  }
  std::array<uint8_t, kHeaderSize> header() const {
    std::array<uint8_t, kHeaderSize> h{};
    std::memcpy(h.data(), kMagic, 8);
    put_be32(h.data() + 8, segment_size);
    std::memcpy(h.data() + 16, blob_id.data(), kBlobIdSize);
    std::memcpy(h.data() + 32, nonce_prefix.data(), kNoncePrefixSize);
    return h;
  }
};

// AAD of the wrapped data key: binds it to its location and layout.
std::string wrap_aad(const std::string& owner_dir, const std::string& id, const Layout& l, const std::string& key_id) {
  std::string a = "lightvault blob key v1";
  a.push_back('\0');
  a += owner_dir + "/" + id;
  a.push_back('\0');
  a.append(reinterpret_cast<const char*>(l.blob_id.data()), kBlobIdSize);
  a.append(reinterpret_cast<const char*>(l.nonce_prefix.data()), kNoncePrefixSize);
  uint8_t b[12];
  put_be32(b, l.segment_size);
  put_be64(b + 4, l.size);
  a.append(reinterpret_cast<const char*>(b), sizeof b);
  a += key_id;
  return a;
}

struct Meta {
  Layout layout;
  WrappedSecret wrapped;
};

std::string meta_to_json(const Meta& m) {
  json j;
  j["v"] = 1;
  j["blob_id"] = crypto::hex_encode(m.layout.blob_id);
  j["nonce_prefix"] = crypto::hex_encode(m.layout.nonce_prefix);
  j["segment_size"] = m.layout.segment_size;
  j["size"] = m.layout.size;
  j["key_id"] = m.wrapped.key_id;
  j["wrap_nonce"] = crypto::hex_encode(m.wrapped.nonce);
  j["wrapped"] = crypto::hex_encode(m.wrapped.sealed);
  return j.dump() + "\n";
}

template <size_t N>
bool hex_into(const json& j, const char* field, std::array<uint8_t, N>& out) {
  if (!j.contains(field) || !j[field].is_string()) return false;
  auto b = crypto::hex_decode(j[field].get<std::string>());
  if (!b.ok() || b->size() != N) return false;
  std::copy(b->begin(), b->end(), out.begin());
  return true;
}

Result<Meta> parse_meta(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& what) { return Error{path + ": invalid blob metadata (" + what + ")"}; };
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (!j.contains("v") || j["v"] != 1) return bad("version");
  Meta m;
  if (!hex_into(j, "blob_id", m.layout.blob_id)) return bad("blob_id");
  if (!hex_into(j, "nonce_prefix", m.layout.nonce_prefix)) return bad("nonce_prefix");
  if (!j.contains("segment_size") || !j["segment_size"].is_number_unsigned()) return bad("segment_size");
  uint64_t seg = j["segment_size"].get<uint64_t>();
  if (seg < kMinSegment || seg > kMaxSegment) return bad("segment_size out of range");
  m.layout.segment_size = static_cast<uint32_t>(seg);
  if (!j.contains("size") || !j["size"].is_number_unsigned()) return bad("size");
  m.layout.size = j["size"].get<uint64_t>();
  if (m.layout.segments() > (uint64_t(1) << 32)) return bad("size too large");
  if (!j.contains("key_id") || !j["key_id"].is_string()) return bad("key_id");
  m.wrapped.key_id = j["key_id"].get<std::string>();
  if (!hex_into(j, "wrap_nonce", m.wrapped.nonce)) return bad("wrap_nonce");
  if (!j.contains("wrapped") || !j["wrapped"].is_string()) return bad("wrapped");
  auto w = crypto::hex_decode(j["wrapped"].get<std::string>());
  if (!w.ok() || w->size() < 64 + crypto::kGcmTagSize) return bad("wrapped");
  m.wrapped.sealed = std::move(*w);
  return m;
}

Status check_owner(std::string_view owner) {
  if (owner.empty()) return Error{"blob owner must not be empty"};
  if (owner.size() > kMaxOwner) return Error{"blob owner is longer than 255 bytes"};
  return Status::Ok();
}

Status check_sha(std::string_view sha) {
  if (!crypto::is_sha256_hex(sha))
    return Error{"invalid sha256 \"" + std::string(sha.substr(0, 80)) + "\" (expected 64 lowercase hex digits)"};
  return Status::Ok();
}

// Decrypts [offset, offset+length) of a body file; shared by readers and verify_after_write.
Status decrypt_range(int fd, const std::string& ctx, const Key256& key, const Layout& l, uint64_t offset,
                     uint64_t length, const ByteSink& sink) {
  if (offset > l.size || length > l.size - offset)
    return Error{ctx + ": range " + std::to_string(offset) + "+" + std::to_string(length) +
                 " is past the end (size " + std::to_string(l.size) + ")"};
  if (length == 0) return Status::Ok();
  crypto::Aes256Gcm gcm(key);
  const uint64_t first = offset / l.segment_size;
  const uint64_t last = (offset + length - 1) / l.segment_size;
  const uint64_t nseg = l.segments();
  // Buffers for the largest segment of this blob, not of the layout: a model card of 2 KiB in
  // a 1 MiB-segment layout would otherwise cost 2 MiB of fresh, zeroed pages per read.
  const size_t capacity = size_t(std::min<uint64_t>(l.segment_size, l.size));
  std::vector<uint8_t> sealed(capacity + crypto::kGcmTagSize);
  std::vector<uint8_t> plain(capacity);
  Status result = Status::Ok();
  for (uint64_t i = first; i <= last; ++i) {
    const uint64_t plen = l.segment_plain_len(i);
    const size_t slen = size_t(plen) + crypto::kGcmTagSize;
    Status st = io::pread_exact(fd, sealed.data(), slen, l.segment_offset(i), ctx);
    if (!st.ok()) {
      result = Error{ctx + ": segment " + std::to_string(i) + " is missing (truncated body): " + st.error().message};
      break;
    }
    auto aad = l.aad(i, i + 1 == nseg);
    st = gcm.open(l.nonce(i), aad, ByteView(sealed.data(), slen), plain.data());
    if (!st.ok()) {
      result = Error{ctx + ": segment " + std::to_string(i) + " failed authentication (corrupted or tampered)"};
      break;
    }
    const uint64_t seg_start = i * l.segment_size;
    const uint64_t from = std::max(offset, seg_start) - seg_start;
    const uint64_t to = std::min(offset + length, seg_start + plen) - seg_start;
    st = sink(std::span<const uint8_t>(plain.data() + from, size_t(to - from)));
    if (!st.ok()) {
      result = st;
      break;
    }
  }
  crypto::secure_zero(plain.data(), plain.size());
  return result;
}

Status check_body_file(int fd, const std::string& ctx, const Layout& l) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Error{ctx + ": fstat: " + io::errno_text()};
  if (uint64_t(st.st_size) != l.file_size())
    return Error{ctx + ": body file has " + std::to_string(st.st_size) + " bytes, expected " +
                 std::to_string(l.file_size()) + " (truncated, extended or corrupted)"};
  uint8_t h[kHeaderSize];
  LV_RETURN_IF_ERROR(io::pread_exact(fd, h, kHeaderSize, 0, ctx));
  auto want = l.header();
  if (std::memcmp(h, want.data(), kHeaderSize) != 0)
    return Error{ctx + ": body header does not match its metadata (corrupted or tampered)"};
  return Status::Ok();
}

struct Unwrapped {
  Key256 data_key{};
  crypto::Digest sha{};
  std::string owner;
};

Result<Unwrapped> unwrap_meta(const MasterKeyring& kr, const Meta& m, const std::string& owner_dir,
                              const std::string& id, const std::string& ctx) {
  std::string aad = wrap_aad(owner_dir, id, m.layout, m.wrapped.key_id);
  auto plain = kr.unwrap(m.wrapped, crypto::as_bytes(aad));
  if (!plain.ok()) return Error{ctx + ": " + plain.error().message};
  Bytes& p = *plain;
  if (p.size() < 64) return Error{ctx + ": wrapped key too short"};
  Unwrapped u;
  std::memcpy(u.data_key.data(), p.data(), 32);
  std::memcpy(u.sha.data(), p.data() + 32, 32);
  u.owner.assign(reinterpret_cast<const char*>(p.data()) + 64, p.size() - 64);
  crypto::secure_zero(p.data(), p.size());
  return u;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct BlobStore::Location {
  std::string owner_dir;
  std::string id;
  std::string dir;
  std::string blob_path;
  std::string meta_path;
};

static std::string owner_dir_for(const Key256& naming, std::string_view owner) {
  std::string msg = "owner";
  msg.push_back('\0');
  msg += owner;
  crypto::Digest d = crypto::hmac_sha256(naming, crypto::as_bytes(msg));
  return crypto::hex_encode(ByteView(d.data(), 16));
}

static std::string storage_id_for(const Key256& naming, std::string_view owner, const crypto::Digest& sha) {
  Key256 owner_key = crypto::hkdf_key(naming, crypto::as_bytes("lightvault-blob-names-v1"), crypto::as_bytes(owner));
  crypto::Digest d = crypto::hmac_sha256(owner_key, sha);
  crypto::secure_zero(owner_key.data(), owner_key.size());
  return crypto::hex_encode(d);
}

BlobStore::BlobStore(BlobStoreOptions options, std::shared_ptr<MasterKeyring> keyring)
    : options_(std::move(options)), keyring_(std::move(keyring)) {}

BlobStore::~BlobStore() = default;

Result<BlobStore::Location> BlobStore::locate(std::string_view owner, std::string_view sha256) const {
  LV_RETURN_IF_ERROR(check_owner(owner));
  LV_RETURN_IF_ERROR(check_sha(sha256));
  auto sha = crypto::hex_decode(sha256);
  crypto::Digest d{};
  std::copy(sha->begin(), sha->end(), d.begin());
  Key256 naming = keyring_->naming_secret();
  Location loc;
  loc.owner_dir = owner_dir_for(naming, owner);
  loc.id = storage_id_for(naming, owner, d);
  crypto::secure_zero(naming.data(), naming.size());
  loc.dir = options_.data_dir + "/blobs/" + loc.owner_dir + "/" + loc.id.substr(0, 2);
  loc.blob_path = loc.dir + "/" + loc.id + ".blob";
  loc.meta_path = loc.dir + "/" + loc.id + ".meta";
  return loc;
}

Result<std::string> BlobStore::storage_id(std::string_view owner, std::string_view sha256) const {
  LV_ASSIGN_OR_RETURN(Location loc, locate(owner, sha256));
  return loc.id;
}

static void sweep_dir_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
}

// Lists subdirectory / file names of `dir` (no . and ..).
static std::vector<std::string> list_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::unique_ptr<BlobStore>> BlobStore::open(const BlobStoreOptions& options,
                                                   std::shared_ptr<MasterKeyring> keyring) {
  if (options.data_dir.empty()) return Error{"blob store: no data folder given"};
  if (!keyring) return Error{"blob store: no master keyring"};
  if (options.segment_size < kMinSegment || options.segment_size > kMaxSegment)
    return Error{"blob store: segment_size must be between 4 KiB and 16 MiB"};
  LV_RETURN_IF_ERROR(io::make_dirs(options.data_dir + "/blobs", 0700));
  LV_RETURN_IF_ERROR(io::make_dirs(options.data_dir + "/tmp", 0700));
  std::unique_ptr<BlobStore> store(new BlobStore(options, std::move(keyring)));
  if (options.sweep_on_open) {
    // Interrupted uploads: temp bodies and metas, and bodies renamed without their .meta.
    sweep_dir_files(options.data_dir + "/tmp");
    const std::string root = options.data_dir + "/blobs";
    for (const auto& od : list_names(root)) {
      for (const auto& sub : list_names(root + "/" + od)) {
        const std::string dir = root + "/" + od + "/" + sub;
        auto names = list_names(dir);
        for (const auto& n : names) {
          bool orphan = false;
          if (n.find(".tmp-") != std::string::npos) orphan = true;
          if (n.ends_with(".blob")) {
            std::string meta = n.substr(0, n.size() - 5) + ".meta";
            orphan = !std::binary_search(names.begin(), names.end(), meta);
          }
          if (orphan) ::unlink((dir + "/" + n).c_str());
        }
      }
    }
  }
  return store;
}

// ---------------------------------------------------------------------------------------------
// Writer

struct BlobWriter::Impl {
  BlobStore* store = nullptr;
  std::string owner;
  BlobWriteOptions options;
  Key256 data_key{};
  std::unique_ptr<crypto::Aes256Gcm> gcm;
  Layout layout;
  std::string tmp_path;
  int fd = -1;
  std::unique_ptr<SegmentPipeline> pipeline;  // hashes, seals and writes on its own thread
  std::vector<uint8_t> out;  // sealed segment (the pipeline's worker's)
  uint64_t index = 0;
  uint64_t size = 0;
  static constexpr uint64_t kWritebackStep = 8 << 20;
  uint64_t unwritten_back = 0;  // bytes written since writeback was last started
  crypto::Sha256 hasher;
  std::optional<Error> failed;
  bool finished = false;

  ~Impl() {
    discard();
    crypto::secure_zero(data_key.data(), data_key.size());
  }

  void discard() {
    pipeline.reset();  // the worker stops before its file goes
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
    if (!tmp_path.empty()) {
      ::unlink(tmp_path.c_str());
      tmp_path.clear();
    }
  }

  Status fail(Error e) {
    discard();
    failed = e;
    return e;
  }

  // On the pipeline's worker, one segment at a time, in order.
  Status seal_segment(std::span<const uint8_t> plain, bool last) {
    if (index >= (uint64_t(1) << 32)) return Error{"blob too large (more than 2^32 segments)"};
    hasher.update(plain);
    auto aad = layout.aad(index, last);
    LV_RETURN_IF_ERROR(gcm->seal(layout.nonce(index), aad, ByteView(plain.data(), plain.size()), out.data()));
    LV_RETURN_IF_ERROR(io::write_all(fd, out.data(), plain.size() + crypto::kGcmTagSize, tmp_path));
    ++index;
    unwritten_back += plain.size() + crypto::kGcmTagSize;
    if (store->options_.fsync && unwritten_back >= kWritebackStep) {
      // Start writing back the file's dirty pages now, so that the fsync at commit finds
      // little left to do and the disk works while the upload goes on.
      (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      unwritten_back = 0;
    }
    return Status::Ok();
  }
};

BlobWriter::BlobWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobWriter::~BlobWriter() = default;

void BlobWriter::abort() {
  if (!impl_->finished) {
    impl_->discard();
    impl_->finished = true;
    impl_->failed = Error{"blob upload was aborted"};
  }
}

Status BlobWriter::write(std::span<const uint8_t> data) {
  Impl& w = *impl_;
  if (w.failed) return *w.failed;
  if (w.finished) return Error{"blob writer already committed"};
  if (w.options.max_size && data.size() > w.options.max_size - std::min(w.size, w.options.max_size))
    return w.fail(Error{"upload exceeds the maximum size of " + std::to_string(w.options.max_size) + " bytes"});
  if (Status st = w.pipeline->write(data); !st.ok()) return w.fail(st.error());
  w.size += data.size();
  size_ = w.size;
  return Status::Ok();
}

Result<BlobInfo> BlobWriter::commit() {
  Impl& w = *impl_;
  if (w.failed) return *w.failed;
  if (w.finished) return Error{"blob writer already committed"};
  w.finished = true;
  auto fail = [&](Error e) -> Result<BlobInfo> {
    w.discard();
    w.failed = e;
    return e;
  };
  Status st = w.pipeline->finish();
  if (!st.ok()) return fail(st.error());
  w.pipeline.reset();
  crypto::Digest sha = w.hasher.finish();
  std::string sha_hex = crypto::hex_encode(sha);
  w.layout.size = w.size;
  if (!w.options.expected_sha256.empty() && w.options.expected_sha256 != sha_hex)
    return fail(Error{"upload sha256 mismatch: expected " + w.options.expected_sha256 + ", got " + sha_hex});
  if (w.options.expected_size && *w.options.expected_size != w.size)
    return fail(Error{"upload size mismatch: expected " + std::to_string(*w.options.expected_size) + " bytes, got " +
                      std::to_string(w.size)});
  BlobStore& s = *w.store;
  if (s.options_.fsync && ::fsync(w.fd) != 0) return fail(Error{w.tmp_path + ": fsync: " + io::errno_text()});
  if (s.options_.verify_after_write) {
    std::string ctx = "upload " + w.tmp_path;
    st = check_body_file(w.fd, ctx, w.layout);
    if (st.ok()) {
      crypto::Sha256 h;
      st = decrypt_range(w.fd, ctx, w.data_key, w.layout, 0, w.size, [&](std::span<const uint8_t> b) {
        h.update(b);
        return Status::Ok();
      });
      if (st.ok() && h.finish() != sha) st = Error{ctx + ": read-back sha256 differs"};
    }
    if (!st.ok()) return fail(st.error());
  }
  ::close(w.fd);
  w.fd = -1;

  auto loc_r = s.locate(w.owner, sha_hex);
  if (!loc_r.ok()) return fail(loc_r.error());
  const BlobStore::Location& loc = *loc_r;

  // Seal the data key (plus sha and owner) under the active master key.
  Bytes secret(64 + w.owner.size());
  std::memcpy(secret.data(), w.data_key.data(), 32);
  std::memcpy(secret.data() + 32, sha.data(), 32);
  std::memcpy(secret.data() + 64, w.owner.data(), w.owner.size());
  Meta meta;
  meta.layout = w.layout;
  std::string active = s.keyring_->active_id();
  std::string aad = wrap_aad(loc.owner_dir, loc.id, meta.layout, active);
  auto wrapped = s.keyring_->wrap(secret, crypto::as_bytes(aad));
  crypto::secure_zero(secret.data(), secret.size());
  if (!wrapped.ok()) return fail(wrapped.error());
  if (wrapped->key_id != active) return fail(Error{"master key rotated during upload; retry"});
  meta.wrapped = std::move(*wrapped);

  std::lock_guard lock(s.meta_mu_);
  BlobInfo info;
  info.owner = w.owner;
  info.sha256 = sha_hex;
  info.size = w.size;
  info.storage_id = loc.id;
  if (io::exists(loc.meta_path)) {
    // Dedup within this owner: keep the existing blob.
    w.discard();
    auto text = io::read_file(loc.meta_path);
    if (!text.ok()) return text.error();
    auto existing = parse_meta(loc.meta_path, *text);
    if (!existing.ok()) return existing.error();
    info.key_id = existing->wrapped.key_id;
    info.deduplicated = true;
    return info;
  }
  st = io::make_dirs(loc.dir, 0700);
  if (!st.ok()) return fail(st.error());
  if (::rename(w.tmp_path.c_str(), loc.blob_path.c_str()) != 0)
    return fail(Error{loc.blob_path + ": rename: " + io::errno_text()});
  w.tmp_path.clear();
  // The .meta is written under DIR/tmp and renamed into place last: that makes it visible.
  auto tmp_name = io::random_name(16);
  if (!tmp_name.ok()) {
    ::unlink(loc.blob_path.c_str());
    return fail(tmp_name.error());
  }
  std::string meta_tmp = s.options_.data_dir + "/tmp/" + *tmp_name + ".meta";
  st = io::write_file_atomic(meta_tmp, meta_to_json(meta), 0600, s.options_.fsync);
  if (st.ok() && ::rename(meta_tmp.c_str(), loc.meta_path.c_str()) != 0)
    st = Error{loc.meta_path + ": rename: " + io::errno_text()};
  if (st.ok() && s.options_.fsync) st = io::fsync_dir(loc.dir);
  if (!st.ok()) {
    ::unlink(meta_tmp.c_str());
    ::unlink(loc.meta_path.c_str());
    ::unlink(loc.blob_path.c_str());
    return fail(st.error());
  }
  if (s.options_.fsync) {
    // Make the new directories durable too (cheap; usually already synced).
    (void)io::fsync_dir(io::parent_dir(loc.dir));
  }
  info.key_id = meta.wrapped.key_id;
  return info;
}

Result<std::unique_ptr<BlobWriter>> BlobStore::create_writer(std::string_view owner, const BlobWriteOptions& options) {
  LV_RETURN_IF_ERROR(check_owner(owner));
  if (!options.expected_sha256.empty()) LV_RETURN_IF_ERROR(check_sha(options.expected_sha256));
  auto impl = std::make_unique<BlobWriter::Impl>();
  impl->store = this;
  impl->owner = std::string(owner);
  impl->options = options;
  LV_ASSIGN_OR_RETURN(impl->data_key, crypto::random_key());
  impl->gcm = std::make_unique<crypto::Aes256Gcm>(impl->data_key);
  LV_RETURN_IF_ERROR(crypto::random_bytes(impl->layout.blob_id.data(), kBlobIdSize));
  LV_RETURN_IF_ERROR(crypto::random_bytes(impl->layout.nonce_prefix.data(), kNoncePrefixSize));
  impl->layout.segment_size = options_.segment_size;
  impl->out.resize(size_t(options_.segment_size) + crypto::kGcmTagSize);
  LV_ASSIGN_OR_RETURN(std::string name, io::random_name(16));
  impl->tmp_path = options_.data_dir + "/tmp/" + name + ".part";
  impl->fd = ::open(impl->tmp_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (impl->fd < 0) {
    std::string path = impl->tmp_path;
    impl->tmp_path.clear();
    return Error{path + ": create: " + io::errno_text()};
  }
  auto header = impl->layout.header();
  LV_RETURN_IF_ERROR(io::write_all(impl->fd, header.data(), header.size(), impl->tmp_path));
  // Two segments in flight and one being filled: receiving and sealing overlap.
  BlobWriter::Impl* w = impl.get();
  impl->pipeline = std::make_unique<SegmentPipeline>(
      options_.segment_size, 3, [w](std::span<const uint8_t> plain, bool last) { return w->seal_segment(plain, last); });
  return std::unique_ptr<BlobWriter>(new BlobWriter(std::move(impl)));
}

Result<BlobInfo> BlobStore::put(std::string_view owner, std::span<const uint8_t> data, const BlobWriteOptions& options) {
  LV_ASSIGN_OR_RETURN(auto writer, create_writer(owner, options));
  LV_RETURN_IF_ERROR(writer->write(data));
  return writer->commit();
}

// ---------------------------------------------------------------------------------------------
// Reader

struct BlobReader::Impl {
  BlobInfo info;
  Layout layout;
  Key256 data_key{};
  crypto::Digest sha{};
  int fd = -1;
  std::string ctx;
  ~Impl() {
    if (fd >= 0) ::close(fd);
    crypto::secure_zero(data_key.data(), data_key.size());
  }
};

BlobReader::BlobReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobReader::~BlobReader() = default;
const BlobInfo& BlobReader::info() const { return impl_->info; }

Status BlobReader::read(uint64_t offset, uint64_t length, const ByteSink& sink) const {
  return decrypt_range(impl_->fd, impl_->ctx, impl_->data_key, impl_->layout, offset, length, sink);
}

Status BlobReader::read_into(uint64_t offset, std::span<uint8_t> out) const {
  size_t pos = 0;
  return read(offset, out.size(), [&](std::span<const uint8_t> b) {
    std::memcpy(out.data() + pos, b.data(), b.size());
    pos += b.size();
    return Status::Ok();
  });
}

Status BlobReader::verify() const {
  crypto::Sha256 h;
  LV_RETURN_IF_ERROR(read(0, impl_->layout.size, [&](std::span<const uint8_t> b) {
    h.update(b);
    return Status::Ok();
  }));
  if (h.finish() != impl_->sha) return Error{impl_->ctx + ": sha256 of the decrypted content does not match"};
  return Status::Ok();
}

Result<std::unique_ptr<BlobReader>> BlobStore::open_reader(std::string_view owner, std::string_view sha256) const {
  LV_ASSIGN_OR_RETURN(Location loc, locate(owner, sha256));
  std::string ctx = "blob " + std::string(owner) + "/" + std::string(sha256) + " (" + loc.blob_path + ")";
  // No lock: .meta files are only ever replaced by rename, so a read sees one whole version.
  if (!io::exists(loc.meta_path)) return std::unique_ptr<BlobReader>();
  auto text_r = io::read_file(loc.meta_path);
  if (!text_r.ok()) {
    if (!io::exists(loc.meta_path)) return std::unique_ptr<BlobReader>();  // removed meanwhile
    return text_r.error();
  }
  std::string text = std::move(*text_r);
  auto impl = std::make_unique<BlobReader::Impl>();
  impl->ctx = ctx;
  impl->fd = ::open(loc.blob_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0) {
    std::string why = io::errno_text();
    if (!io::exists(loc.meta_path)) return std::unique_ptr<BlobReader>();  // removed meanwhile
    return Error{ctx + ": body file missing: " + why};
  }
  LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(loc.meta_path, text));
  LV_ASSIGN_OR_RETURN(Unwrapped u, unwrap_meta(*keyring_, meta, loc.owner_dir, loc.id, ctx));
  if (u.owner != owner || crypto::hex_encode(u.sha) != sha256)
    return Error{ctx + ": metadata belongs to another blob (tampered)"};
  LV_RETURN_IF_ERROR(check_body_file(impl->fd, ctx, meta.layout));
  impl->layout = meta.layout;
  impl->data_key = u.data_key;
  crypto::secure_zero(u.data_key.data(), u.data_key.size());
  impl->sha = u.sha;
  impl->info = BlobInfo{std::string(owner), std::string(sha256), meta.layout.size, loc.id, meta.wrapped.key_id, false};
  return std::unique_ptr<BlobReader>(new BlobReader(std::move(impl)));
}

Result<std::optional<BlobInfo>> BlobStore::stat(std::string_view owner, std::string_view sha256) const {
  LV_ASSIGN_OR_RETURN(Location loc, locate(owner, sha256));
  std::string ctx = "blob " + std::string(owner) + "/" + std::string(sha256) + " (" + loc.meta_path + ")";
  if (!io::exists(loc.meta_path)) return std::optional<BlobInfo>();
  auto text_r = io::read_file(loc.meta_path);
  if (!text_r.ok()) {
    if (!io::exists(loc.meta_path)) return std::optional<BlobInfo>();  // removed meanwhile
    return text_r.error();
  }
  std::string text = std::move(*text_r);
  LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(loc.meta_path, text));
  LV_ASSIGN_OR_RETURN(Unwrapped u, unwrap_meta(*keyring_, meta, loc.owner_dir, loc.id, ctx));
  crypto::secure_zero(u.data_key.data(), u.data_key.size());
  if (u.owner != owner || crypto::hex_encode(u.sha) != sha256)
    return Error{ctx + ": metadata belongs to another blob (tampered)"};
  return std::optional<BlobInfo>(
      BlobInfo{std::string(owner), std::string(sha256), meta.layout.size, loc.id, meta.wrapped.key_id, false});
}

Result<bool> BlobStore::remove(std::string_view owner, std::string_view sha256) {
  LV_ASSIGN_OR_RETURN(Location loc, locate(owner, sha256));
  std::lock_guard lock(meta_mu_);
  if (!io::exists(loc.meta_path)) return false;
  if (::unlink(loc.meta_path.c_str()) != 0) return Error{loc.meta_path + ": unlink: " + io::errno_text()};
  ::unlink(loc.blob_path.c_str());
  if (options_.fsync) LV_RETURN_IF_ERROR(io::fsync_dir(loc.dir));
  return true;
}

// Walks every .meta: visit(meta path, owner_dir, id).
static Status walk_metas(const std::string& data_dir,
                         const std::function<Status(const std::string&, const std::string&, const std::string&)>& fn) {
  const std::string root = data_dir + "/blobs";
  for (const auto& od : list_names(root)) {
    for (const auto& sub : list_names(root + "/" + od)) {
      const std::string dir = root + "/" + od + "/" + sub;
      for (const auto& n : list_names(dir)) {
        if (!n.ends_with(".meta") || n.find(".tmp-") != std::string::npos) continue;
        LV_RETURN_IF_ERROR(fn(dir + "/" + n, od, n.substr(0, n.size() - 5)));
      }
    }
  }
  return Status::Ok();
}

Status BlobStore::list(const std::function<Status(const BlobInfo&)>& visit) const {
  Key256 naming = keyring_->naming_secret();
  Status st = walk_metas(options_.data_dir, [&](const std::string& path, const std::string& od,
                                                const std::string& id) -> Status {
    auto text = io::read_file(path);
    if (!text.ok()) {
      if (!io::exists(path)) return Status::Ok();  // removed meanwhile
      return text.error();
    }
    LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(path, *text));
    LV_ASSIGN_OR_RETURN(Unwrapped u, unwrap_meta(*keyring_, meta, od, id, path));
    crypto::secure_zero(u.data_key.data(), u.data_key.size());
    if (owner_dir_for(naming, u.owner) != od || storage_id_for(naming, u.owner, u.sha) != id)
      return Error{path + ": blob metadata is not at its own location (moved or tampered)"};
    BlobInfo info{u.owner, crypto::hex_encode(u.sha), meta.layout.size, id, meta.wrapped.key_id, false};
    // The body is written once (the .meta is replaced by every rewrap): its time is the blob's.
    struct stat body;
    std::string body_path = path.substr(0, path.size() - 5) + ".blob";
    if (::stat(body_path.c_str(), &body) != 0) {
      if (!io::exists(path)) return Status::Ok();  // removed meanwhile
      return Error{body_path + ": stat: " + io::errno_text()};
    }
    info.stored_at = body.st_mtime;
    return visit(info);
  });
  crypto::secure_zero(naming.data(), naming.size());
  return st;
}

Result<std::vector<BlobInfo>> BlobStore::list_owner(std::string_view owner) const {
  LV_RETURN_IF_ERROR(check_owner(owner));
  std::vector<BlobInfo> out;
  Key256 naming = keyring_->naming_secret();
  std::string od = owner_dir_for(naming, owner);
  crypto::secure_zero(naming.data(), naming.size());
  const std::string root = options_.data_dir + "/blobs/" + od;
  for (const auto& sub : list_names(root)) {
    for (const auto& n : list_names(root + "/" + sub)) {
      if (!n.ends_with(".meta") || n.find(".tmp-") != std::string::npos) continue;
      std::string path = root + "/" + sub + "/" + n;
      auto text = io::read_file(path);
      if (!text.ok()) continue;  // removed meanwhile
      LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(path, *text));
      std::string id = n.substr(0, n.size() - 5);
      LV_ASSIGN_OR_RETURN(Unwrapped u, unwrap_meta(*keyring_, meta, od, id, path));
      crypto::secure_zero(u.data_key.data(), u.data_key.size());
      if (u.owner != owner) return Error{path + ": blob metadata belongs to another owner (tampered)"};
      out.push_back(BlobInfo{u.owner, crypto::hex_encode(u.sha), meta.layout.size, id, meta.wrapped.key_id, false});
    }
  }
  std::sort(out.begin(), out.end(), [](const BlobInfo& a, const BlobInfo& b) { return a.sha256 < b.sha256; });
  return out;
}

Result<RewrapStats> BlobStore::rewrap_all() {
  RewrapStats stats;
  Status st = walk_metas(options_.data_dir, [&](const std::string& path, const std::string& od,
                                                const std::string& id) -> Status {
    std::lock_guard lock(meta_mu_);
    if (!io::exists(path)) return Status::Ok();
    ++stats.total;
    LV_ASSIGN_OR_RETURN(std::string text, io::read_file(path));
    LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(path, text));
    const std::string active = keyring_->active_id();
    if (meta.wrapped.key_id == active) {
      ++stats.already_active;
      return Status::Ok();
    }
    std::string old_aad = wrap_aad(od, id, meta.layout, meta.wrapped.key_id);
    auto plain = keyring_->unwrap(meta.wrapped, crypto::as_bytes(old_aad));
    if (!plain.ok()) return Error{path + ": " + plain.error().message};
    std::string new_aad = wrap_aad(od, id, meta.layout, active);
    auto wrapped = keyring_->wrap(*plain, crypto::as_bytes(new_aad));
    crypto::secure_zero(plain->data(), plain->size());
    if (!wrapped.ok()) return Error{path + ": " + wrapped.error().message};
    if (wrapped->key_id != active) return Error{"master key rotated during rewrap; run it again"};
    meta.wrapped = std::move(*wrapped);
    LV_ASSIGN_OR_RETURN(std::string name, io::random_name(16));
    std::string tmp = options_.data_dir + "/tmp/" + name + ".meta";
    Status w = io::write_file_atomic(tmp, meta_to_json(meta), 0600, options_.fsync);
    if (w.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) w = Error{path + ": rename: " + io::errno_text()};
    if (!w.ok()) {
      ::unlink(tmp.c_str());
      return w;
    }
    if (options_.fsync) LV_RETURN_IF_ERROR(io::fsync_dir(io::parent_dir(path)));
    ++stats.rewrapped;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return stats;
}

Status BlobStore::retire_master_key(std::string_view key_id) {
  if (key_id == keyring_->active_id())
    return Error{"master key " + std::string(key_id) + " is the active key; rotate to a new key first"};
  uint64_t still = 0;
  LV_RETURN_IF_ERROR(walk_metas(options_.data_dir, [&](const std::string& path, const std::string&,
                                                       const std::string&) -> Status {
    auto text = io::read_file(path);
    if (!text.ok()) return Status::Ok();
    LV_ASSIGN_OR_RETURN(Meta meta, parse_meta(path, *text));
    if (meta.wrapped.key_id == key_id) ++still;
    return Status::Ok();
  }));
  if (still)
    return Error{"master key " + std::string(key_id) + " still wraps " + std::to_string(still) +
                 " blob key(s); run rewrap first"};
  return keyring_->retire(key_id);
}

}  // namespace lv::hub
