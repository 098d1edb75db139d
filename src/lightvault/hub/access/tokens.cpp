#include "lightvault/hub/access/tokens.h"

#include "lightvault/hub/storage/crypto.h"

namespace lv::hub {

Result<IssuedToken> issue_token(Catalog& catalog, const User& user, const std::string& name, unsigned scopes,
                                int64_t ttl_seconds, const std::string& secret) {
  IssuedToken issued;
  issued.secret = secret.empty() ? "hf_lv_" + crypto::random_hex(24) : secret;
  if (issued.secret.size() < 16) return make_error("token", "a token must have at least 16 characters");
  Token& t = issued.token;
  t.id = "tok_" + crypto::random_hex(8);
  t.user_id = user.id;
  t.user = user.name;
  t.name = name;
  t.hash = crypto::sha256_hex(issued.secret);
  t.scopes = scopes;
  t.created_at = now_unix();
  t.expires_at = ttl_seconds > 0 ? t.created_at + ttl_seconds : 0;
  LV_RETURN_IF_ERROR(catalog.create_token(t));
  return issued;
}

Result<Authenticated> authenticate_token(Catalog& catalog, const std::string& secret) {
  Authenticated a;
  LV_ASSIGN_OR_RETURN(auto token, catalog.find_token_by_hash(crypto::sha256_hex(secret)));
  if (!token) return a;
  a.token = token;
  if (token->revoked_at != 0) {
    a.check = TokenCheck::kRevoked;
    return a;
  }
  if (token->expires_at != 0 && token->expires_at <= now_unix()) {
    a.check = TokenCheck::kExpired;
    return a;
  }
  LV_ASSIGN_OR_RETURN(auto user, catalog.user_by_id(token->user_id));
  if (!user) return a;
  a.user = user;
  a.check = TokenCheck::kOk;
  return a;
}

Result<std::vector<std::string>> revoke_tokens_named(Catalog& catalog, int64_t user_id, const std::string& name) {
  std::vector<std::string> revoked;
  LV_ASSIGN_OR_RETURN(auto tokens, catalog.list_tokens(user_id));
  for (const auto& t : tokens) {
    if (t.name != name || t.revoked_at != 0) continue;
    LV_RETURN_IF_ERROR(catalog.revoke_token(t.id));
    revoked.push_back(t.id);
  }
  return revoked;
}

}  // namespace lv::hub
