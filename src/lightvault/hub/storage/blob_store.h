#pragma once
// The encrypted, content-addressed blob store of a data folder.
//
// Addressing: a blob is addressed by (owner, sha256-of-plaintext), sha256 as 64 lowercase hex
// digits. `owner` is the namespace that owns the repository (user or organization name, any
// non-empty string up to 255 bytes). Deduplication happens only within one owner: the same
// bytes uploaded by two owners are two independent blobs with different data keys.
//
// On-disk layout (nothing on disk reveals a plaintext hash or a plaintext byte):
//   DIR/blobs/<owner_dir>/<id[0:2]>/<id>.blob   encrypted body (written once, never rewritten)
//   DIR/blobs/<owner_dir>/<id[0:2]>/<id>.meta   JSON: wrapped data key + key id + layout;
//                                               replaced atomically by rewrap_all()
//   DIR/tmp/                                    in-progress uploads; emptied at open()
//   owner_dir = hex(HMAC-SHA256(naming_secret, "owner\0" + owner))[0:32]
//   id        = hex(HMAC-SHA256(HKDF(naming_secret, owner), sha256_bytes))   ("storage id")
// where naming_secret is the data folder's secret from MasterKeyring (stored only wrapped).
// A blob is visible exactly when its .meta exists; .meta is renamed into place last.
//
// Encryption: every blob has its own random 256-bit data key. The .meta holds it sealed with
// AES-256-GCM under the active master key (MasterKeyring::wrap), together with the plaintext
// sha256 and owner, and AAD binding storage id, owner dir, blob id, nonce prefix, segment size,
// size and master key id. The body is a 40-byte header
//   "LVBLOB\0\1" | u32 BE segment_size | u32 0 | blob_id (16 random bytes) | nonce_prefix (8)
// followed by segments: segment i holds plaintext bytes [i*S, min((i+1)*S, size)) sealed with
// AES-256-GCM (ciphertext || 16-byte tag) under
//   nonce = nonce_prefix (8 random bytes) || u32 BE i
//   AAD   = "LVSEG1" || blob_id || u64 BE i || u8 last (1 for the final segment, else 0)
// There are max(1, ceil(size/S)) segments (an empty blob has one empty last segment). Because
// the last flag and index are authenticated, reordering, dropping, truncating or extending
// segments fails authentication; a body moved to another storage id fails via blob_id/data key.
//
// Errors: integrity failures say "BLOB: segment N failed authentication (corrupted or tampered)"
// where BLOB is "blob <owner>/<sha256> (FILE)". Not-found is NOT an error for open/stat/remove:
// they return an empty value (see each method).
//
// Thread safety: BlobStore methods may be called concurrently from many threads. A BlobWriter
// is used by one thread at a time. BlobReader::read is const and safe to call concurrently on
// one reader (pread, per-call buffers). Memory use is O(segment size) per reader/writer call,
// regardless of blob size.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/storage/master_key.h"
#include "lightvault/util/status.h"

namespace lv::hub {

// Receives plaintext bytes, in order. Returning an error stops the read and is passed through
// unchanged (e.g. the client disconnected).
using ByteSink = std::function<Status(std::span<const uint8_t>)>;

struct BlobStoreOptions {
  std::string data_dir;                // required
  uint32_t segment_size = 64 * 1024;   // plaintext bytes per segment for NEW blobs (4 KiB..16 MiB)
  bool fsync = true;                   // fsync bodies, metas and directories on commit/rewrap
  bool verify_after_write = false;     // commit() re-reads and decrypts the whole body first
  // Delete DIR/tmp/* and bodies without .meta at open(). Only the process that owns the data
  // folder (the server) should sweep; a tool opening the store while the server runs (e.g. an
  // offline check) must pass false, or it would delete the server's in-progress uploads.
  bool sweep_on_open = true;
};

struct BlobInfo {
  std::string owner;
  std::string sha256;      // 64 lowercase hex digits of the plaintext
  uint64_t size = 0;       // plaintext size
  std::string storage_id;  // the on-disk id (64 hex); opaque to callers, fine to store in the catalog
  std::string key_id;      // master key currently wrapping the data key
  bool deduplicated = false;  // commit(): the owner already had this blob; nothing new was stored
  int64_t stored_at = 0;      // list(): when the body was written (unix seconds); 0 elsewhere
};

struct BlobWriteOptions {
  // If set, commit() fails (and stores nothing) unless the plaintext has this sha256 / size.
  std::string expected_sha256;
  std::optional<uint64_t> expected_size;
  // write() fails once more than this many bytes were written (0 = unlimited).
  uint64_t max_size = 0;
};

// Streaming upload. write() encrypts and appends to DIR/tmp/<random>.part; commit() finishes
// the last segment, checks expectations, fsyncs and renames into place. Destroying a writer
// without commit(), or calling abort(), deletes the temp file. After any error the writer is
// failed: further write()/commit() return that error and the temp file is already removed.
class BlobWriter {
 public:
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status write(std::span<const uint8_t> data);
  Status write(const void* data, size_t n) {
    return write(std::span<const uint8_t>(static_cast<const uint8_t*>(data), n));
  }
  // Returns the stored blob's info. If the owner already has a blob with the same sha256, the
  // new copy is discarded and the existing one returned with deduplicated = true.
  // The writer is finished afterwards (success or not).
  Result<BlobInfo> commit();
  void abort();
  uint64_t bytes_written() const { return size_; }

 private:
  friend class BlobStore;
  struct Impl;
  explicit BlobWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t size_ = 0;
};

// Random-access decryption of one committed blob. Keeps the body file open, so it stays
// readable even if the blob is removed meanwhile.
class BlobReader {
 public:
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  const BlobInfo& info() const;
  uint64_t size() const { return info().size; }

  // Decrypts exactly the segments covering [offset, offset+length) and passes exactly those
  // plaintext bytes to `sink` (in pieces of at most one segment). Error if offset+length >
  // size() ("range ... past the end (size N)"); callers answer 416 before calling. length 0
  // calls nothing. Integrity failure → Error (bytes of earlier, verified segments may already
  // have been passed to the sink).
  Status read(uint64_t offset, uint64_t length, const ByteSink& sink) const;
  // Convenience: reads [offset, offset+out.size()) into `out`.
  Status read_into(uint64_t offset, std::span<uint8_t> out) const;
  // Decrypts the whole blob and checks its sha256 (without passing bytes anywhere).
  Status verify() const;

 private:
  friend class BlobStore;
  struct Impl;
  explicit BlobReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct RewrapStats {
  uint64_t total = 0;        // blobs seen
  uint64_t rewrapped = 0;    // data keys now wrapped by the active key that were not before
  uint64_t already_active = 0;
};

class BlobStore {
 public:
  // Creates DIR/blobs and DIR/tmp if needed (mode 0700) and sweeps leftovers of interrupted
  // uploads (see BlobStoreOptions::sweep_on_open).
  static Result<std::unique_ptr<BlobStore>> open(const BlobStoreOptions& options,
                                                 std::shared_ptr<MasterKeyring> keyring);
  ~BlobStore();

  Result<std::unique_ptr<BlobWriter>> create_writer(std::string_view owner,
                                                    const BlobWriteOptions& options = {});
  // Convenience: writes `data` in one go and commits.
  Result<BlobInfo> put(std::string_view owner, std::span<const uint8_t> data,
                       const BlobWriteOptions& options = {});

  // Opens a blob for reading; ok(nullptr) when the owner has no blob with that sha256.
  // Unwraps the data key (cheap); does not decrypt the body.
  Result<std::unique_ptr<BlobReader>> open_reader(std::string_view owner, std::string_view sha256) const;
  // Size, storage id and key id without decrypting the body (the .meta is authenticated);
  // ok(nullopt) when absent.
  Result<std::optional<BlobInfo>> stat(std::string_view owner, std::string_view sha256) const;
  // Removes a blob (the .meta first, so it disappears atomically). ok(false) when absent.
  // Readers already open keep working.
  Result<bool> remove(std::string_view owner, std::string_view sha256);

  // Visits every stored blob (all owners; order unspecified), with stored_at set. Needs the
  // master keys (owner and sha256 are only stored encrypted). A blob whose .meta cannot be opened is reported as an
  // Error naming the file, and the walk stops.
  Status list(const std::function<Status(const BlobInfo&)>& visit) const;
  Result<std::vector<BlobInfo>> list_owner(std::string_view owner) const;

  // Rewraps every data key that is not wrapped by the keyring's active master key (the bodies
  // are untouched; each .meta is replaced atomically, so it is safe to interrupt and rerun).
  Result<RewrapStats> rewrap_all();
  // Refuses if `key_id` is active or any blob is still wrapped by it; else keyring.retire().
  Status retire_master_key(std::string_view key_id);

  // The storage id a blob of this owner and sha256 has (or would have).
  Result<std::string> storage_id(std::string_view owner, std::string_view sha256) const;

  const std::string& data_dir() const { return options_.data_dir; }
  const std::shared_ptr<MasterKeyring>& keyring() const { return keyring_; }

 private:
  friend class BlobWriter;
  struct Location;
  BlobStore(BlobStoreOptions options, std::shared_ptr<MasterKeyring> keyring);
  Result<Location> locate(std::string_view owner, std::string_view sha256) const;

  BlobStoreOptions options_;
  std::shared_ptr<MasterKeyring> keyring_;
  mutable std::mutex meta_mu_;  // serializes .meta creation/replacement/removal
};

}  // namespace lv::hub
