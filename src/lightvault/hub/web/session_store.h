#pragma once
// Browser sessions of the web interface, kept in the hub's catalog so that every replica
// behind one URL knows every session (a sign-in on one, the next page from another, a sign-out
// on a third). A session id is 32 random bytes (OpenSSL RAND) in hex, handed to the browser in
// an HttpOnly cookie; the catalog keeps only its SHA-256 (whoever reads the catalog cannot take
// a session over), the token the session was started with, its CSRF token (another 32 random
// bytes, put into every form of the session's pages) and its expiry.
//
// A session lives at most `ttl_seconds` from sign-in and never past its token's expiry. find()
// answers with the user and token as stored now and finds nothing once the token is revoked
// or expired (revoking a token also deletes its sessions: HubService::revoke_token). Sessions
// that can no longer be used are pruned from the catalog at most once a minute per store.
// Catalog failures are returned as errors. Thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/service/caller.h"

namespace lv::hub::web {

struct Session {
  std::string id;  // as the browser holds it (the catalog has only its hash)
  std::string csrf;
  Principal who;
  int64_t expires_at = 0;  // unix seconds
};

class SessionStore {
 public:
  // `now` gives unix seconds (the wall clock by default; tests pass their own).
  SessionStore(Catalog& catalog, int64_t ttl_seconds, std::function<int64_t()> now = {});

  // A new session for `who` (signed in with a token), expiring after the ttl or with its
  // token, whichever is first.
  Result<Session> start(const Principal& who);
  // The live session with this id, its principal as stored now; nullopt for an unknown or
  // ended id, an expired session, or a revoked or expired token.
  Result<std::optional<Session>> find(const std::string& id);
  Status end(const std::string& id);
  // Ends every session started with this token id; returns how many.
  Result<size_t> end_sessions_of_token(const std::string& token_id);
  // Sessions stored, live or not yet pruned.
  Result<size_t> size();

  // Constant-time comparison of a submitted CSRF token with the session's.
  static bool csrf_matches(const Session& s, const std::string& submitted);

 private:
  // Drops the catalog's dead sessions (browsers that never came back) at most once a minute.
  void maybe_prune(int64_t now);

  Catalog& catalog_;
  const int64_t ttl_;
  std::function<int64_t()> now_;
  std::atomic<int64_t> next_prune_{0};
};

}  // namespace lv::hub::web
