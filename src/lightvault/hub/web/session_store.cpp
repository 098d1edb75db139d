// Browser sessions in the catalog (see session_store.h).
#include "lightvault/hub/web/session_store.h"

#include <algorithm>

#include "lightvault/hub/storage/crypto.h"

namespace lv::hub::web {

namespace {

constexpr int64_t kPruneEverySeconds = 60;

// A session id is 256 random bits, so an unsalted hash is as hard to invert as the id is to guess.
std::string id_hash(const std::string& id) { return crypto::sha256_hex(id); }

}  // namespace

SessionStore::SessionStore(Catalog& catalog, int64_t ttl_seconds, std::function<int64_t()> now)
    : catalog_(catalog), ttl_(ttl_seconds), now_(now ? std::move(now) : std::function<int64_t()>(now_unix)) {}

Result<Session> SessionStore::start(const Principal& who) {
  if (!who.authenticated() || !who.token) return make_error("web session", "a session needs a signed-in user and token");
  Session s;
  s.id = crypto::random_hex(32);
  s.csrf = crypto::random_hex(32);
  s.who = who;
  int64_t now = now_();
  s.expires_at = now + ttl_;
  if (who.token->expires_at != 0) s.expires_at = std::min(s.expires_at, who.token->expires_at);
  maybe_prune(now);
  LV_RETURN_IF_ERROR(catalog_.create_session(SessionRow{id_hash(s.id), who.token->id, s.csrf, now, s.expires_at}));
  return s;
}

Result<std::optional<Session>> SessionStore::find(const std::string& id) {
  if (id.empty()) return std::optional<Session>();
  int64_t now = now_();
  maybe_prune(now);
  LV_ASSIGN_OR_RETURN(auto live, catalog_.find_live_session(id_hash(id), now));
  if (!live) return std::optional<Session>();
  Session s;
  s.id = id;
  s.csrf = std::move(live->session.csrf);
  s.expires_at = live->session.expires_at;
  s.who.scopes = live->token.scopes;
  s.who.user = std::move(live->user);
  s.who.token = std::move(live->token);
  return std::optional<Session>(std::move(s));
}

Status SessionStore::end(const std::string& id) {
  if (id.empty()) return Status::Ok();
  // Ending an unknown or already ended session is no error.
  LV_RETURN_IF_ERROR(catalog_.delete_session(id_hash(id)));
  return Status::Ok();
}

Result<size_t> SessionStore::end_sessions_of_token(const std::string& token_id) {
  LV_ASSIGN_OR_RETURN(int64_t n, catalog_.delete_sessions_of_token(token_id));
  return static_cast<size_t>(n);
}

Result<size_t> SessionStore::size() {
  LV_ASSIGN_OR_RETURN(int64_t n, catalog_.session_count());
  return static_cast<size_t>(n);
}

bool SessionStore::csrf_matches(const Session& s, const std::string& submitted) {
  if (submitted.size() != s.csrf.size() || s.csrf.empty()) return false;
  return crypto::ct_equal(crypto::as_bytes(s.csrf), crypto::as_bytes(submitted));
}

void SessionStore::maybe_prune(int64_t now) {
  int64_t due = next_prune_.load();
  // One thread of the minute wins the exchange and prunes; the others go on.
  if (now < due || !next_prune_.compare_exchange_strong(due, now + kPruneEverySeconds)) return;
  // A failed prune leaves dead rows that find() never returns; the next minute tries again.
  (void)catalog_.prune_sessions(now);
}

}  // namespace lv::hub::web
