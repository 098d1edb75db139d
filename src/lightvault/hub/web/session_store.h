#pragma once
// Browser sessions of the web interface. A session id is 32 random bytes (OpenSSL RAND) in
// hex, handed to the browser in an HttpOnly cookie; the server keeps, per id, the principal
// the session was started with (user, token, scopes), its CSRF token (another 32 random
// bytes, put into every form of the session's pages) and its expiry. The store is in memory:
// a restart signs everyone out, and replicas behind a load balancer need sticky sessions.
//
// A session lives at most `ttl_seconds` from sign-in and never past its token's expiry; the
// caller re-checks the token on every request (a revoked token's sessions end: see
// end_sessions_of_token). Thread-safe.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "lightvault/hub/http/http_server_impl.h"

namespace lv::hub::web {

struct Session {
  std::string id;
  std::string csrf;
  Principal who;
  int64_t expires_at = 0;  // unix seconds
};

class SessionStore {
 public:
  // `now` gives unix seconds (the wall clock by default; tests pass their own).
  explicit SessionStore(int64_t ttl_seconds, std::function<int64_t()> now = {});

  // A new session for `who`, expiring after the ttl or with its token, whichever is first.
  Session start(const Principal& who);
  // The live session with this id; an expired one is removed and not returned.
  std::optional<Session> find(const std::string& id);
  // Replaces the principal of a live session (the user and token as stored now).
  void refresh(const std::string& id, const Principal& who);
  void end(const std::string& id);
  // Ends every session started with this token id; returns how many.
  size_t end_sessions_of_token(const std::string& token_id);
  size_t size();

  // Constant-time comparison of a submitted CSRF token with the session's.
  static bool csrf_matches(const Session& s, const std::string& submitted);

 private:
  void sweep_locked(int64_t now);

  const int64_t ttl_;
  std::function<int64_t()> now_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
  int64_t next_sweep_ = 0;
};

}  // namespace lv::hub::web
