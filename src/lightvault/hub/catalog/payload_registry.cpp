// The issued-payload table (catalog.cpp's migration 4) through the catalog's connection, each
// statement inside Catalog::transaction so that it holds the catalog's lock and joins the
// caller's transaction.
#include "lightvault/hub/catalog/payload_registry.h"

#include <algorithm>
#include <cctype>

namespace lv::hub {

namespace {

// The canonical form payloads are stored in, or "" when `hex` is not 16 hex digits.
std::string canonical_payload(const std::string& hex) {
  if (hex.size() != 16) return "";
  std::string out;
  for (unsigned char c : hex) {
    if (!std::isxdigit(c)) return "";
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

}  // namespace

Status PayloadRegistry::record(const IssuedPayload& issued, bool* duplicate) {
  if (duplicate) *duplicate = false;
  const std::string payload = canonical_payload(issued.payload);
  if (payload.empty()) return make_error("payload " + issued.payload, "not 16 hex digits");
  return catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto r, catalog_.sql().exec(
                                    "INSERT INTO issued_payloads(payload, issued_at, actor, token_id, repo, input_sha256, "
                                    "output_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(payload) DO NOTHING",
                                    {payload, issued.issued_at, issued.actor, issued.token_id, issued.repo,
                                     issued.input_sha256, issued.output_sha256}));
    if (r.changes == 0) {
      if (duplicate) *duplicate = true;
      return make_error("payload " + payload, "was issued before; a payload names one marked image");
    }
    return Status::Ok();
  });
}

Result<std::optional<IssuedPayload>> PayloadRegistry::find(const std::string& hex) {
  const std::string payload = canonical_payload(hex);
  if (payload.empty()) return std::optional<IssuedPayload>();
  std::optional<IssuedPayload> found;
  LV_RETURN_IF_ERROR(catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto r, catalog_.sql().exec(
                                    "SELECT payload, issued_at, actor, token_id, repo, input_sha256, output_sha256 "
                                    "FROM issued_payloads WHERE payload = ?1",
                                    {payload}));
    if (r.rows.empty()) return Status::Ok();
    const SqlRow& row = r.rows[0];
    auto text = [&](size_t i) { return row[i] ? *row[i] : std::string(); };
    found = IssuedPayload{text(0), row[1] ? std::stoll(*row[1]) : 0, text(2), text(3), text(4), text(5), text(6)};
    return Status::Ok();
  }));
  return found;
}

}  // namespace lv::hub
