#pragma once
// API tokens: the secret is shown once (`hf_lv_` + 48 hex characters: the `hf_` prefix lets
// Hugging Face clients that check it, like @huggingface/hub, accept it); the catalog keeps only
// its SHA-256. Scopes are read, write and admin; a token's scope caps what its owner's
// permissions allow through it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/catalog/catalog.h"

namespace lv::hub {

struct IssuedToken {
  Token token;         // as stored (hash only)
  std::string secret;  // shown once
};

// Issues a token for `user`, stored in the catalog; `secret` may be given (bootstrap from
// LIGHTVAULT_ADMIN_TOKEN), else it is random. ttl_seconds 0 = no expiry.
Result<IssuedToken> issue_token(Catalog& catalog, const User& user, const std::string& name, unsigned scopes,
                                int64_t ttl_seconds, const std::string& secret = "");

// Revokes the user's live tokens called `name`; returns their ids.
Result<std::vector<std::string>> revoke_tokens_named(Catalog& catalog, int64_t user_id, const std::string& name);

enum class TokenCheck { kOk, kUnknown, kExpired, kRevoked };
struct Authenticated {
  TokenCheck check = TokenCheck::kUnknown;
  std::optional<Token> token;
  std::optional<User> user;
};
// Looks a bearer secret up; the answer says why it was refused.
Result<Authenticated> authenticate_token(Catalog& catalog, const std::string& secret);

}  // namespace lv::hub
