#pragma once
// Master keys of a data folder: 32-byte AES-256 keys, each with an id, that wrap the per-blob
// data keys (blob_store.h). Nothing ever encrypts bulk data with a master key directly.
//
// Where keys come from (all may be combined; duplicates are merged):
//  1. `KeyringOptions::key_file` (the server's --master-key-file PATH), if set;
//  2. env LIGHTVAULT_MASTER_KEY, if `allow_env` and set: one key or a comma-separated list
//     "NEW,OLD,..."; each key is 64 hex digits, or base64 (standard or URL-safe, optional
//     "base64:" prefix) of exactly 32 bytes; surrounding whitespace is ignored;
//  3. every DIR/keys/master-<id>.key file. Key files hold the key as 64 hex digits plus an
//     optional newline, and MUST have mode 0600 (no group/other bits), or the open fails
//     with "FILE: master key file has mode 0644; it must be 0600 (chmod 600 FILE)".
//
// Key ids: id = first 8 bytes (16 hex digits) of HMAC-SHA256(key, "lightvault master key id v1").
// The id therefore doubles as a key check value: a key that is not the data folder's key has a
// different id. A key file whose name says another id than its content is refused.
//
// DIR/keys/keyring.json (mode 0600, no secrets in clear) records the known key ids, the active
// id, and the data folder's "naming secret" (32 random bytes used to derive blob file names)
// wrapped with AES-256-GCM under every known master key. Opening unwraps it with the loaded
// keys, so a wrong key is detected twice (unknown id, GCM tag).
//
// Open rules (an error never writes anything):
//  - No keyring.json yet (first start): the explicit key (key_file / first env key) becomes the
//    active key; with none and `create_if_missing`, a key is generated (RAND_bytes) into
//    DIR/keys/master-<id>.key (mode 0600, DIR/keys mode 0700). Then keyring.json is written.
//  - keyring.json exists: at least one loaded key must be known to it and unwrap the naming
//    secret, else Error "wrong master key: data folder DIR was encrypted with master key id(s)
//    [..]; the provided key(s) from SOURCE have id(s) [..]". If the explicit key (key_file or
//    first env key) is unknown, it is registered and becomes active only if the explicit sources
//    also supply a known key (this is how env-managed rotation works: LIGHTVAULT_MASTER_KEY=
//    NEW,OLD, then BlobStore::rewrap_all(), then retire OLD); a lone unknown explicit key is a
//    "wrong master key" error even when DIR/keys holds a valid key. Otherwise the active key is
//    the one keyring.json names, which must be loaded ("active master key <id> is not
//    available ...").
//
// Thread safety: all methods are safe to call concurrently (internal shared mutex).
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/util/status.h"

namespace lv::hub {

inline constexpr const char* kMasterKeyEnv = "LIGHTVAULT_MASTER_KEY";

struct KeyringOptions {
  std::string data_dir;          // required; keys live in DATA_DIR/keys
  std::string key_file;          // optional explicit key file (mode 0600 required)
  bool allow_env = true;         // read LIGHTVAULT_MASTER_KEY
  bool create_if_missing = true; // first start: generate a key when none is given
};

// A small secret (data key) sealed with AES-256-GCM under the master key `key_id`.
// `sealed` = ciphertext || 16-byte tag. The caller chooses the AAD and must pass the same AAD
// to unwrap; it binds the wrapped key to its context (blob id, owner, ...).
struct WrappedSecret {
  std::string key_id;
  crypto::Nonce nonce{};
  crypto::Bytes sealed;
};

struct MasterKeyInfo {
  std::string id;
  bool active = false;
  std::string source;  // "DIR/keys/master-<id>.key", "LIGHTVAULT_MASTER_KEY", or the key_file path
};

class MasterKeyring {
 public:
  static Result<std::shared_ptr<MasterKeyring>> open(const KeyringOptions& options);

  // For tests and tools: a keyring over given keys with no files at all (first = active).
  // Its naming secret is derived with HKDF from the first key.
  static std::shared_ptr<MasterKeyring> in_memory(const std::vector<crypto::Key256>& keys);

  // id of a key (see header comment).
  static std::string key_id_for(const crypto::Key256& key);
  // Parses the LIGHTVAULT_MASTER_KEY format (one key or a comma-separated list).
  static Result<std::vector<crypto::Key256>> parse_keys(std::string_view text);
  // Reads a key file, enforcing mode 0600 and the hex format.
  static Result<crypto::Key256> read_key_file(const std::string& path);

  ~MasterKeyring();

  std::string active_id() const;
  std::vector<MasterKeyInfo> keys() const;  // every loaded key, active first
  bool has_key(std::string_view id) const;

  // Seals `secret` under the active master key with a fresh random nonce.
  Result<WrappedSecret> wrap(crypto::ByteView secret, crypto::ByteView aad) const;
  // Opens a wrapped secret. Errors: "master key <id> is not loaded (...)" or
  // "wrapped key does not authenticate under master key <id> (wrong master key or tampered)".
  Result<crypto::Bytes> unwrap(const WrappedSecret& wrapped, crypto::ByteView aad) const;

  // The data folder's stable naming secret (never changes across rotations).
  crypto::Key256 naming_secret() const;

  // Generates a new master key (RAND_bytes), writes DIR/keys/master-<id>.key (0600, fsync),
  // registers it in keyring.json and makes it active. Returns the new id. Existing keys stay
  // loaded so old data keys can still be unwrapped; call BlobStore::rewrap_all() next, then
  // BlobStore::retire_master_key(old_id). Error for in-memory keyrings.
  Result<std::string> rotate();

  // Adds `key` (e.g. from a KMS) and makes it active, registering it in keyring.json; it is
  // NOT written to disk, so it must be supplied again (env/key file) on the next start.
  Result<std::string> add_active_key(const crypto::Key256& key);

  // Forgets a non-active key: drops it from keyring.json and deletes DIR/keys/master-<id>.key
  // if that is where it came from. Precondition (checked by BlobStore::retire_master_key, which
  // callers should use instead): no data key is still wrapped under it.
  Status retire(std::string_view id);

  const std::string& data_dir() const { return data_dir_; }

 private:
  struct Entry {
    std::string id;
    crypto::Key256 key{};
    bool loaded = false;                // false: known to keyring.json but not supplied
    std::string source;
    std::string created;                // RFC3339, from keyring.json
    std::optional<WrappedSecret> naming;  // naming secret wrapped under this key
  };
  MasterKeyring() = default;
  const Entry* find_locked(std::string_view id) const;
  Status save_locked() const;  // writes keyring.json atomically (no-op in memory)
  Status register_key_locked(const crypto::Key256& key, std::string source);

  std::string data_dir_;  // empty for in-memory keyrings
  mutable std::shared_mutex mu_;
  std::vector<Entry> entries_;  // every key known to keyring.json plus newly loaded ones
  crypto::Key256 naming_secret_{};
  std::string active_;
};

}  // namespace lv::hub
