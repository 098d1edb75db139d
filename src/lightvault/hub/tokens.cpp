#include "lightvault/hub/tokens.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace lv::hub {

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

std::optional<unsigned> parse_scopes(std::string_view s) {
  unsigned scopes = 0;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    auto part = s.substr(start, end - start);
    if (part == "read") scopes |= kScopeRead;
    else if (part == "write") scopes |= kScopeRead | kScopeWrite;
    else if (part == "admin") scopes |= kScopeRead | kScopeWrite | kScopeAdmin;
    else return std::nullopt;
    start = end + 1;
  }
  return scopes;
}

std::string scopes_to_string(unsigned scopes) {
  std::string out;
  auto add = [&](const char* s) { out += out.empty() ? s : std::string(",") + s; };
  if (scopes & kScopeRead) add("read");
  if (scopes & kScopeWrite) add("write");
  if (scopes & kScopeAdmin) add("admin");
  return out;
}

RepoRole scope_cap(unsigned scopes) {
  if (scopes & kScopeAdmin) return RepoRole::kAdmin;
  if (scopes & kScopeWrite) return RepoRole::kWrite;
  if (scopes & kScopeRead) return RepoRole::kRead;
  return RepoRole::kNone;
}

Result<IssuedToken> issue_token(Catalog& catalog, const User& user, const std::string& name, unsigned scopes,
                                int64_t ttl_seconds, const std::string& secret) {
  IssuedToken issued;
  issued.secret = secret.empty() ? "hf_lv_" + random_hex(24) : secret;
  if (issued.secret.size() < 16) return make_error("token", "a token must have at least 16 characters");
  Token& t = issued.token;
  t.id = "tok_" + random_hex(8);
  t.user_id = user.id;
  t.user = user.name;
  t.name = name;
  t.hash = sha256_hex(issued.secret);
  t.scopes = scopes;
  t.created_at = now_unix();
  t.expires_at = ttl_seconds > 0 ? t.created_at + ttl_seconds : 0;
  LV_RETURN_IF_ERROR(catalog.create_token(t));
  return issued;
}

Result<Authenticated> authenticate_token(Catalog& catalog, const std::string& secret) {
  Authenticated a;
  LV_ASSIGN_OR_RETURN(auto token, catalog.find_token_by_hash(sha256_hex(secret)));
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

}  // namespace lv::hub
