// Organization keys in the catalog's org_keys table (migration 4), sealed under the master
// keyring. Every statement runs inside Catalog::transaction: it holds the catalog's lock and
// joins the caller's transaction.
#include "lightvault/hub/storage/org_keys.h"

namespace lv::hub {

namespace {

// Binds a sealed key to its row: organization id and kind.
std::string key_aad(const Org& org, OrgKeyKind kind) {
  return std::string("lightvault org key v1") + '\0' + std::to_string(org.id) + '\0' + to_string(kind);
}

std::string describe(const Org& org, OrgKeyKind kind) { return "org " + org.name + ": " + to_string(kind) + " key"; }

}  // namespace

const char* to_string(OrgKeyKind kind) {
  switch (kind) {
    case OrgKeyKind::kTextWatermark:
      return "text_watermark";
    case OrgKeyKind::kImageWatermark:
      return "image_watermark";
  }
  return "unknown";
}

Result<std::optional<crypto::Key256>> OrgKeyStore::find_locked(const Org& org, OrgKeyKind kind) {
  LV_ASSIGN_OR_RETURN(auto r, catalog_.sql().exec("SELECT key_id, nonce, sealed FROM org_keys WHERE org_id = ?1 AND kind = ?2",
                                                  {org.id, std::string(to_string(kind))}));
  if (r.rows.empty()) return std::optional<crypto::Key256>();
  const SqlRow& row = r.rows[0];
  WrappedSecret wrapped;
  wrapped.key_id = row[0].value_or("");
  auto nonce = crypto::hex_decode(row[1].value_or(""));
  auto sealed = crypto::hex_decode(row[2].value_or(""));
  if (!nonce.ok() || nonce->size() != wrapped.nonce.size() || !sealed.ok()) {
    return make_error(describe(org, kind), "stored sealed key is malformed (catalog table org_keys)");
  }
  std::copy(nonce->begin(), nonce->end(), wrapped.nonce.begin());
  wrapped.sealed = std::move(*sealed);
  const std::string aad = key_aad(org, kind);
  auto plain = keyring_.unwrap(wrapped, crypto::as_bytes(aad));
  if (!plain.ok()) return make_error(describe(org, kind), plain.error().message);
  if (plain->size() != crypto::kKeySize) return make_error(describe(org, kind), "unsealed key is not 32 bytes");
  crypto::Key256 key;
  std::copy(plain->begin(), plain->end(), key.begin());
  crypto::secure_zero(plain->data(), plain->size());
  if (wrapped.key_id != keyring_.active_id()) {
    // Reseal under the active master key, so the old one can be retired.
    LV_ASSIGN_OR_RETURN(auto resealed, keyring_.wrap(key, crypto::as_bytes(aad)));
    LV_RETURN_IF_ERROR(catalog_.sql().exec("UPDATE org_keys SET key_id = ?1, nonce = ?2, sealed = ?3 WHERE org_id = ?4 AND kind = ?5",
                                           {resealed.key_id, crypto::hex_encode(resealed.nonce), crypto::hex_encode(resealed.sealed),
                                            org.id, std::string(to_string(kind))}));
  }
  return std::optional<crypto::Key256>(key);
}

Result<std::optional<crypto::Key256>> OrgKeyStore::find(const Org& org, OrgKeyKind kind) {
  std::optional<crypto::Key256> key;
  LV_RETURN_IF_ERROR(catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(key, find_locked(org, kind));
    return Status::Ok();
  }));
  return key;
}

Result<crypto::Key256> OrgKeyStore::get_or_create(const Org& org, OrgKeyKind kind, bool* created) {
  if (created) *created = false;
  crypto::Key256 key{};
  LV_RETURN_IF_ERROR(catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto existing, find_locked(org, kind));
    if (existing) {
      key = *existing;
      return Status::Ok();
    }
    LV_ASSIGN_OR_RETURN(crypto::Key256 fresh, crypto::random_key());
    const std::string aad = key_aad(org, kind);
    LV_ASSIGN_OR_RETURN(auto wrapped, keyring_.wrap(fresh, crypto::as_bytes(aad)));
    LV_ASSIGN_OR_RETURN(auto r, catalog_.sql().exec(
                                    "INSERT INTO org_keys(org_id, kind, key_id, nonce, sealed, created_at) VALUES "
                                    "(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(org_id, kind) DO NOTHING",
                                    {org.id, std::string(to_string(kind)), wrapped.key_id, crypto::hex_encode(wrapped.nonce),
                                     crypto::hex_encode(wrapped.sealed), now_unix()}));
    if (r.changes == 1) {
      key = fresh;
      if (created) *created = true;
    } else {
      // Another replica created it first: theirs is the key.
      LV_ASSIGN_OR_RETURN(auto theirs, find_locked(org, kind));
      if (!theirs) return make_error(describe(org, kind), "neither created nor found");
      key = *theirs;
    }
    crypto::secure_zero(fresh.data(), fresh.size());
    return Status::Ok();
  }));
  return key;
}

Result<std::string> OrgKeyStore::text_watermark_key(const Org& org, bool* created) {
  LV_ASSIGN_OR_RETURN(crypto::Key256 key, get_or_create(org, OrgKeyKind::kTextWatermark, created));
  std::string hex = crypto::hex_encode(key);
  crypto::secure_zero(key.data(), key.size());
  return hex;
}

}  // namespace lv::hub
