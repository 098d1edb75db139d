#include "lightvault/hub/storage/master_key.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "lightvault/hub/storage/blob_store_io.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub {
namespace {

using crypto::Key256;
using nlohmann::json;

constexpr std::string_view kIdLabel = "lightvault master key id v1";
constexpr std::string_view kNamingAadPrefix = "lightvault naming secret v1|";

std::string keys_dir(const std::string& data_dir) { return data_dir + "/keys"; }
std::string keyring_path(const std::string& data_dir) { return keys_dir(data_dir) + "/keyring.json"; }
std::string key_file_path(const std::string& data_dir, const std::string& id) {
  return keys_dir(data_dir) + "/master-" + id + ".key";
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Result<Key256> parse_one_key(std::string_view text) {
  std::string t = trim(text);
  Key256 key{};
  bool all_hex = t.size() == 64 && std::all_of(t.begin(), t.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (all_hex) {
    LV_ASSIGN_OR_RETURN(crypto::Bytes b, crypto::hex_decode(t));
    std::copy(b.begin(), b.end(), key.begin());
    crypto::secure_zero(b.data(), b.size());
    return key;
  }
  std::string_view b64 = t;
  if (b64.starts_with("base64:")) b64.remove_prefix(7);
  auto decoded = crypto::base64_decode(b64);
  if (!decoded.ok() || decoded->size() != key.size())
    return Error{"a master key must be 64 hex digits or base64 of exactly 32 bytes"};
  std::copy(decoded->begin(), decoded->end(), key.begin());
  crypto::secure_zero(decoded->data(), decoded->size());
  return key;
}

std::string naming_aad(const std::string& id) { return std::string(kNamingAadPrefix) + id; }

std::string join_ids(const std::vector<std::string>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + ids[i];
  return s + "]";
}

}  // namespace

std::string MasterKeyring::key_id_for(const Key256& key) {
  crypto::Digest d = crypto::hmac_sha256(key, crypto::as_bytes(kIdLabel));
  return crypto::hex_encode(crypto::ByteView(d.data(), 8));
}

Result<std::vector<Key256>> MasterKeyring::parse_keys(std::string_view text) {
  std::vector<Key256> keys;
  size_t start = 0;
  int index = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? text.size() - start : comma - start);
    auto k = parse_one_key(part);
    if (!k.ok())
      return Error{std::string(kMasterKeyEnv) + ": key #" + std::to_string(index + 1) + ": " + k.error().message};
    keys.push_back(*k);
    ++index;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return keys;
}

Result<Key256> MasterKeyring::read_key_file(const std::string& path) {
  LV_RETURN_IF_ERROR(io::check_private_file(path, "master key file"));
  LV_ASSIGN_OR_RETURN(std::string text, io::read_file(path, 4096));
  auto k = parse_one_key(text);
  crypto::secure_zero(text.data(), text.size());
  if (!k.ok()) return Error{path + ": " + k.error().message};
  return *k;
}

MasterKeyring::~MasterKeyring() {
  for (auto& e : entries_) crypto::secure_zero(e.key.data(), e.key.size());
  crypto::secure_zero(naming_secret_.data(), naming_secret_.size());
}

std::shared_ptr<MasterKeyring> MasterKeyring::in_memory(const std::vector<Key256>& keys) {
  std::shared_ptr<MasterKeyring> kr(new MasterKeyring());
  for (const auto& k : keys) {
    Entry e;
    e.id = key_id_for(k);
    e.key = k;
    e.loaded = true;
    e.source = "memory";
    if (!kr->find_locked(e.id)) kr->entries_.push_back(std::move(e));
  }
  if (!kr->entries_.empty()) {
    kr->active_ = kr->entries_.front().id;
    kr->naming_secret_ = crypto::hkdf_key(keys.front(), crypto::as_bytes("lightvault"),
                                          crypto::as_bytes("in-memory naming secret"));
  }
  return kr;
}

const MasterKeyring::Entry* MasterKeyring::find_locked(std::string_view id) const {
  for (const auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

Status MasterKeyring::save_locked() const {
  if (data_dir_.empty()) return Status::Ok();
  json j;
  j["version"] = 1;
  j["active"] = active_;
  json keys = json::array();
  for (const auto& e : entries_) {
    json k;
    k["id"] = e.id;
    k["created"] = e.created;
    if (e.naming) {
      k["naming_nonce"] = crypto::hex_encode(e.naming->nonce);
      k["naming_sealed"] = crypto::hex_encode(e.naming->sealed);
    }
    keys.push_back(std::move(k));
  }
  j["keys"] = std::move(keys);
  return io::write_file_atomic(keyring_path(data_dir_), j.dump(2) + "\n", 0600);
}

// Wraps the naming secret under `key` (for keyring.json).
static Result<WrappedSecret> wrap_naming(const Key256& key, const std::string& id, const Key256& secret) {
  WrappedSecret w;
  w.key_id = id;
  LV_RETURN_IF_ERROR(crypto::random_bytes(w.nonce.data(), w.nonce.size()));
  std::string aad = naming_aad(id);
  LV_ASSIGN_OR_RETURN(w.sealed, crypto::aes256gcm_seal(key, w.nonce, crypto::as_bytes(aad), secret));
  return w;
}

Status MasterKeyring::register_key_locked(const Key256& key, std::string source) {
  Entry e;
  e.id = key_id_for(key);
  e.key = key;
  e.loaded = true;
  e.source = std::move(source);
  e.created = utc_rfc3339(std::time(nullptr));
  if (!data_dir_.empty()) {
    LV_ASSIGN_OR_RETURN(WrappedSecret w, wrap_naming(key, e.id, naming_secret_));
    e.naming = std::move(w);
  }
  entries_.push_back(std::move(e));
  return Status::Ok();
}

Result<std::shared_ptr<MasterKeyring>> MasterKeyring::open(const KeyringOptions& options) {
  if (options.data_dir.empty()) return Error{"master keyring: no data folder given"};
  const std::string& dir = options.data_dir;
  struct Candidate {
    Key256 key;
    std::string id;
    std::string source;
    bool explicit_source = false;  // key_file or env (not a DIR/keys file)
  };
  std::vector<Candidate> cands;
  std::string explicit_id;
  auto add = [&](const Key256& k, const std::string& source, bool is_explicit) {
    std::string id = key_id_for(k);
    for (auto& c : cands)
      if (c.id == id) {
        c.explicit_source = c.explicit_source || is_explicit;
        return id;
      }
    cands.push_back({k, id, source, is_explicit});
    return id;
  };

  if (!options.key_file.empty()) {
    LV_ASSIGN_OR_RETURN(Key256 k, read_key_file(options.key_file));
    explicit_id = add(k, options.key_file, true);
  }
  if (options.allow_env) {
    if (const char* env = std::getenv(kMasterKeyEnv); env && *env) {
      LV_ASSIGN_OR_RETURN(std::vector<Key256> ks, parse_keys(env));
      for (size_t i = 0; i < ks.size(); ++i) {
        std::string id = add(ks[i], kMasterKeyEnv, true);
        if (i == 0 && explicit_id.empty()) explicit_id = id;
      }
    }
  }
  const std::string kdir = keys_dir(dir);
  if (DIR* d = ::opendir(kdir.c_str())) {
    std::vector<std::string> names;
    while (dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name.starts_with("master-") && name.ends_with(".key")) names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = kdir + "/" + name;
      LV_ASSIGN_OR_RETURN(Key256 k, read_key_file(path));
      std::string want = name.substr(7, name.size() - 11);
      std::string id = key_id_for(k);
      if (id != want)
        return Error{path + ": the file holds master key id " + id + " but its name says " + want +
                     " (wrong or damaged key file)"};
      add(k, path, false);
    }
  }

  std::shared_ptr<MasterKeyring> kr(new MasterKeyring());
  kr->data_dir_ = dir;
  const std::string kpath = keyring_path(dir);

  if (!io::exists(kpath)) {
    // First start of this data folder.
    std::optional<Key256> generated;
    if (cands.empty()) {
      if (!options.create_if_missing)
        return Error{dir + ": no master key: set " + std::string(kMasterKeyEnv) +
                     ", pass a key file, or let the first start create one"};
      LV_ASSIGN_OR_RETURN(Key256 k, crypto::random_key());
      generated = k;
      explicit_id = add(k, key_file_path(dir, key_id_for(k)), false);
    }
    if (explicit_id.empty()) {
      if (cands.size() != 1)
        return Error{kpath + ": missing, and several master keys were found; cannot tell which is active"};
      explicit_id = cands.front().id;
    }
    LV_ASSIGN_OR_RETURN(kr->naming_secret_, crypto::random_key());
    LV_RETURN_IF_ERROR(io::make_dirs(kdir, 0700));
    if (generated) {
      std::string path = key_file_path(dir, explicit_id);
      std::string text = crypto::hex_encode(*generated) + "\n";
      Status st = io::write_file_atomic(path, text, 0600);
      crypto::secure_zero(text.data(), text.size());
      LV_RETURN_IF_ERROR(st);
    }
    // Active first.
    std::stable_partition(cands.begin(), cands.end(), [&](const Candidate& c) { return c.id == explicit_id; });
    for (auto& c : cands) LV_RETURN_IF_ERROR(kr->register_key_locked(c.key, c.source));
    kr->active_ = explicit_id;
    LV_RETURN_IF_ERROR(kr->save_locked());
    for (auto& c : cands) crypto::secure_zero(c.key.data(), c.key.size());
    return kr;
  }

  // Existing data folder: check the keys against keyring.json before changing anything.
  LV_ASSIGN_OR_RETURN(std::string text, io::read_file(kpath));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("keys") || !j["keys"].is_array() ||
      !j.contains("active") || !j["active"].is_string())
    return Error{kpath + ": not a valid keyring file (expected {\"active\":..,\"keys\":[..]})"};
  std::string active = j["active"].get<std::string>();
  std::vector<std::string> known_ids;
  bool have_secret = false;
  for (const auto& k : j["keys"]) {
    if (!k.is_object() || !k.contains("id") || !k["id"].is_string())
      return Error{kpath + ": a key entry has no id"};
    Entry e;
    e.id = k["id"].get<std::string>();
    if (k.contains("created") && k["created"].is_string()) e.created = k["created"].get<std::string>();
    if (k.contains("naming_nonce") && k.contains("naming_sealed") && k["naming_nonce"].is_string() &&
        k["naming_sealed"].is_string()) {
      auto nonce = crypto::hex_decode(k["naming_nonce"].get<std::string>());
      auto sealed = crypto::hex_decode(k["naming_sealed"].get<std::string>());
      if (!nonce.ok() || nonce->size() != crypto::kGcmNonceSize || !sealed.ok())
        return Error{kpath + ": key " + e.id + ": bad naming_nonce/naming_sealed"};
      WrappedSecret w;
      w.key_id = e.id;
      std::copy(nonce->begin(), nonce->end(), w.nonce.begin());
      w.sealed = std::move(*sealed);
      e.naming = std::move(w);
    }
    for (const auto& c : cands) {
      if (c.id != e.id) continue;
      e.key = c.key;
      e.loaded = true;
      e.source = c.source;
    }
    if (e.loaded && e.naming) {
      std::string aad = naming_aad(e.id);
      auto secret = crypto::aes256gcm_open(e.key, e.naming->nonce, crypto::as_bytes(aad), e.naming->sealed);
      if (!secret.ok() || secret->size() != crypto::kKeySize)
        return Error{"wrong master key: key " + e.id + " from " + e.source + " does not open " + kpath +
                     " (wrong key or tampered keyring); nothing was changed"};
      Key256 s{};
      std::copy(secret->begin(), secret->end(), s.begin());
      crypto::secure_zero(secret->data(), secret->size());
      if (have_secret && !crypto::ct_equal(s, kr->naming_secret_))
        return Error{kpath + ": keys disagree about the naming secret (tampered keyring)"};
      kr->naming_secret_ = s;
      have_secret = true;
    }
    known_ids.push_back(e.id);
    kr->entries_.push_back(std::move(e));
  }
  if (!have_secret) {
    std::vector<std::string> provided;
    std::string sources;
    for (const auto& c : cands) {
      provided.push_back(c.id);
      if (sources.find(c.source) == std::string::npos) sources += (sources.empty() ? "" : ", ") + c.source;
    }
    if (cands.empty())
      return Error{"no master key for data folder " + dir + ": it was encrypted with master key id(s) " +
                   join_ids(known_ids) + "; set " + kMasterKeyEnv + " or restore DIR/keys/master-<id>.key"};
    return Error{"wrong master key: data folder " + dir + " was encrypted with master key id(s) " +
                 join_ids(known_ids) + "; the provided key(s) from " + sources + " have id(s) " +
                 join_ids(provided) + "; nothing was changed"};
  }
  bool changed = false;
  // Register loaded keys the keyring does not know (rotation through env / key file).
  for (const auto& c : cands) {
    if (kr->find_locked(c.id)) continue;
    LV_RETURN_IF_ERROR(kr->register_key_locked(c.key, c.source));
    changed = true;
  }
  if (!explicit_id.empty() &&
      std::find(known_ids.begin(), known_ids.end(), explicit_id) == known_ids.end()) {
    // A new explicit key becomes active only when the same explicit source also supplies a key
    // the folder knows (LIGHTVAULT_MASTER_KEY=NEW,OLD). A lone unknown key is a wrong key, even
    // if DIR/keys holds a valid one: never rotate by accident.
    bool explicit_known = false;
    std::string explicit_source;
    for (const auto& c : cands) {
      if (c.id == explicit_id) explicit_source = c.source;
      if (c.explicit_source && std::find(known_ids.begin(), known_ids.end(), c.id) != known_ids.end())
        explicit_known = true;
    }
    if (!explicit_known)
      return Error{"wrong master key: the key from " + explicit_source + " has id " + explicit_id + ", but data folder " +
                   dir + " was encrypted with master key id(s) " + join_ids(known_ids) +
                   " (to rotate through the environment, set " + kMasterKeyEnv + "=NEW,OLD); nothing was changed"};
    active = explicit_id;
    changed = true;
  }
  const Entry* a = kr->find_locked(active);
  if (!a || !a->loaded)
    return Error{"active master key " + active + " of data folder " + dir + " is not available; provide it via " +
                 kMasterKeyEnv + " or " + key_file_path(dir, active)};
  kr->active_ = active;
  for (auto& c : cands) crypto::secure_zero(c.key.data(), c.key.size());
  if (changed) LV_RETURN_IF_ERROR(kr->save_locked());
  return kr;
}

std::string MasterKeyring::active_id() const {
  std::shared_lock lock(mu_);
  return active_;
}

std::vector<MasterKeyInfo> MasterKeyring::keys() const {
  std::shared_lock lock(mu_);
  std::vector<MasterKeyInfo> out;
  for (const auto& e : entries_) {
    if (!e.loaded) continue;
    MasterKeyInfo info{e.id, e.id == active_, e.source};
    if (info.active) out.insert(out.begin(), info);
    else out.push_back(info);
  }
  return out;
}

bool MasterKeyring::has_key(std::string_view id) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_locked(id);
  return e && e->loaded;
}

Result<WrappedSecret> MasterKeyring::wrap(crypto::ByteView secret, crypto::ByteView aad) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_locked(active_);
  if (!e || !e->loaded) return Error{"master keyring has no active key"};
  WrappedSecret w;
  w.key_id = e->id;
  LV_RETURN_IF_ERROR(crypto::random_bytes(w.nonce.data(), w.nonce.size()));
  LV_ASSIGN_OR_RETURN(w.sealed, crypto::aes256gcm_seal(e->key, w.nonce, aad, secret));
  return w;
}

Result<crypto::Bytes> MasterKeyring::unwrap(const WrappedSecret& wrapped, crypto::ByteView aad) const {
  std::shared_lock lock(mu_);
  const Entry* e = find_locked(wrapped.key_id);
  if (!e || !e->loaded)
    return Error{"master key " + wrapped.key_id + " is not loaded (it wrapped this data key; provide it via " +
                 kMasterKeyEnv + " or DIR/keys/master-" + wrapped.key_id + ".key)"};
  auto r = crypto::aes256gcm_open(e->key, wrapped.nonce, aad, wrapped.sealed);
  if (!r.ok())
    return Error{"wrapped key does not authenticate under master key " + wrapped.key_id +
                 " (wrong master key or tampered metadata)"};
  return r;
}

crypto::Key256 MasterKeyring::naming_secret() const {
  std::shared_lock lock(mu_);
  return naming_secret_;
}

Result<std::string> MasterKeyring::rotate() {
  std::unique_lock lock(mu_);
  if (data_dir_.empty()) return Error{"rotate: an in-memory keyring has no key folder"};
  LV_ASSIGN_OR_RETURN(Key256 k, crypto::random_key());
  std::string id = key_id_for(k);
  std::string path = key_file_path(data_dir_, id);
  LV_RETURN_IF_ERROR(io::make_dirs(keys_dir(data_dir_), 0700));
  std::string text = crypto::hex_encode(k) + "\n";
  Status st = io::write_file_atomic(path, text, 0600);
  crypto::secure_zero(text.data(), text.size());
  LV_RETURN_IF_ERROR(st);
  std::string old_active = active_;
  LV_RETURN_IF_ERROR(register_key_locked(k, path));
  crypto::secure_zero(k.data(), k.size());
  active_ = id;
  Status saved = save_locked();
  if (!saved.ok()) {
    active_ = old_active;
    entries_.pop_back();
    ::unlink(path.c_str());
    return saved.error();
  }
  return id;
}

Result<std::string> MasterKeyring::add_active_key(const Key256& key) {
  std::unique_lock lock(mu_);
  std::string id = key_id_for(key);
  Entry* existing = nullptr;
  for (auto& e : entries_)
    if (e.id == id) existing = &e;
  if (existing && !existing->loaded) {
    existing->key = key;
    existing->loaded = true;
    existing->source = "added";
  } else if (!existing) {
    LV_RETURN_IF_ERROR(register_key_locked(key, "added"));
  }
  std::string old = active_;
  active_ = id;
  Status saved = save_locked();
  if (!saved.ok()) {
    active_ = old;
    return saved.error();
  }
  return id;
}

Status MasterKeyring::retire(std::string_view id) {
  std::unique_lock lock(mu_);
  if (id == active_) return Error{"master key " + std::string(id) + " is the active key; rotate first"};
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) return Error{"master key " + std::string(id) + " is not known"};
  Entry removed = std::move(*it);
  entries_.erase(it);
  Status saved = save_locked();
  if (!saved.ok()) {
    entries_.push_back(std::move(removed));
    return saved;
  }
  if (!data_dir_.empty()) {
    std::string path = key_file_path(data_dir_, removed.id);
    if (io::exists(path)) {
      if (::unlink(path.c_str()) != 0) return Error{path + ": unlink: " + io::errno_text()};
      LV_RETURN_IF_ERROR(io::fsync_dir(keys_dir(data_dir_)));
    }
  }
  crypto::secure_zero(removed.key.data(), removed.key.size());
  return Status::Ok();
}

}  // namespace lv::hub
