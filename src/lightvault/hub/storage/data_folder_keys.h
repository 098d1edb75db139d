#pragma once
// The keys of a data folder, opened so that a start never replaces a lost key with a new one.
// The catalog remembers (meta "keyring", "audit_key_id") that the folder has a master keyring
// and which audit key signs its chain; a later start whose DIR/keys/keyring.json or
// DIR/keys/audit.key is missing, or whose audit key is another one, is refused with the file
// named, instead of making fresh keys under which every stored blob and the whole audit chain
// would fail to open.
#include <memory>
#include <string>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/storage/master_key.h"
#include "lightvault/util/status.h"

namespace lv::hub {

struct DataFolderKeys {
  std::shared_ptr<MasterKeyring> keyring;
  crypto::Key256 audit_key{};
};

// Opens (on the first start: creates) the master keyring and the audit key of
// `options.data_dir`, checks them against what `catalog` remembers, and records them there.
Result<DataFolderKeys> open_data_folder_keys(Catalog& catalog, const KeyringOptions& options);

// A public check value of an audit key (16 hex digits), as the catalog records it.
std::string audit_key_id(const crypto::Key256& key);

}  // namespace lv::hub
