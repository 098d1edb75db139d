#include "lightvault/hub/storage/data_folder_keys.h"

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/storage/blob_store_io.h"

namespace lv::hub {
namespace {

constexpr const char* kKeyringMeta = "keyring";
constexpr const char* kAuditKeyMeta = "audit_key_id";

Error missing(const std::string& path, const Catalog& catalog, const std::string& what) {
  return make_error(path, "missing, but the catalog " + catalog.describe() + " says this data folder has " + what +
                              ": restore it from a backup (new keys would leave every stored " +
                              (what == "a master keyring" ? "blob unreadable)" : "audit entry unverifiable)"));
}

}  // namespace

std::string audit_key_id(const crypto::Key256& key) {
  crypto::HmacSha256 h(key);
  h.update(crypto::as_bytes(std::string_view("lightvault audit key id v1")));
  return crypto::hex_encode(h.finish()).substr(0, 16);
}

Result<DataFolderKeys> open_data_folder_keys(Catalog& catalog, const KeyringOptions& options) {
  LV_ASSIGN_OR_RETURN(auto had_keyring, catalog.get_meta(kKeyringMeta));
  LV_ASSIGN_OR_RETURN(auto had_audit_key, catalog.get_meta(kAuditKeyMeta));
  const std::string keyring_file = options.data_dir + "/keys/keyring.json";
  const std::string audit_key_file = options.data_dir + "/keys/audit.key";
  if (had_keyring && !io::exists(keyring_file)) return missing(keyring_file, catalog, "a master keyring");
  if (had_audit_key && !io::exists(audit_key_file)) return missing(audit_key_file, catalog, "an audit key");
  DataFolderKeys keys;
  LV_ASSIGN_OR_RETURN(keys.keyring, MasterKeyring::open(options));
  LV_ASSIGN_OR_RETURN(keys.audit_key, load_audit_key(options.data_dir, !had_audit_key.has_value()));
  const std::string id = audit_key_id(keys.audit_key);
  if (had_audit_key && *had_audit_key != id) {
    return make_error(audit_key_file, "is audit key " + id + ", but the catalog " + catalog.describe() +
                                          " was signed with audit key " + *had_audit_key +
                                          ": restore this data folder's own key");
  }
  LV_RETURN_IF_ERROR(catalog.transaction([&]() -> Status {
    if (!had_keyring) LV_RETURN_IF_ERROR(catalog.set_meta(kKeyringMeta, "present"));
    if (!had_audit_key) LV_RETURN_IF_ERROR(catalog.set_meta(kAuditKeyMeta, id));
    return Status::Ok();
  }));
  return keys;
}

}  // namespace lv::hub
