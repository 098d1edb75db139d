#pragma once
// Each organization's content-marking keys, kept like the hub's other secrets: 32 random bytes
// per (organization, kind), sealed with AES-256-GCM under the active master key (the
// organization and kind are the sealing's associated data, so a sealed key copied to another
// row does not open), and created on first use. A key sealed under an older master key is
// resealed under the active one when it is next read, so that a rotated-out key can be
// retired without losing the organizations' keys.
//
// Kinds:
//  - kTextWatermark: the key of the text watermark (mark/text_watermark.h) that
//    `lightvault run --watermark-key FILE` uses. Its key *file* is the 64 lowercase hex digits
//    of the bytes (what text_watermark_key() returns), so an administrator can save it as is.
//  - kImageWatermark: an organization's own image watermark key (mark/image_watermark.h).
//    Organizations without one mark with the built-in default key, which anyone can check.
#include <cstdint>
#include <optional>
#include <string>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/storage/master_key.h"

namespace lv::hub {

enum class OrgKeyKind { kTextWatermark, kImageWatermark };
const char* to_string(OrgKeyKind kind);

class OrgKeyStore {
 public:
  OrgKeyStore(Catalog& catalog, MasterKeyring& keyring) : catalog_(catalog), keyring_(keyring) {}

  // The organization's key of `kind`, created (random, sealed, stored) when it has none yet.
  // Concurrent first uses agree on one key. `*created` says whether this call made it.
  Result<crypto::Key256> get_or_create(const Org& org, OrgKeyKind kind, bool* created = nullptr);
  // The key if the organization has one.
  Result<std::optional<crypto::Key256>> find(const Org& org, OrgKeyKind kind);

  // The text watermark key file's content: 64 lowercase hex digits (see above).
  Result<std::string> text_watermark_key(const Org& org, bool* created = nullptr);

 private:
  Result<std::optional<crypto::Key256>> find_locked(const Org& org, OrgKeyKind kind);

  Catalog& catalog_;
  MasterKeyring& keyring_;
};

}  // namespace lv::hub
