// Browser sessions (see session_store.h).
#include "lightvault/hub/web/session_store.h"

#include "lightvault/hub/storage/crypto.h"

namespace lv::hub::web {

SessionStore::SessionStore(int64_t ttl_seconds, std::function<int64_t()> now)
    : ttl_(ttl_seconds), now_(now ? std::move(now) : std::function<int64_t()>(now_unix)) {}

Session SessionStore::start(const Principal& who) {
  Session s;
  s.id = crypto::random_hex(32);
  s.csrf = crypto::random_hex(32);
  s.who = who;
  int64_t now = now_();
  s.expires_at = now + ttl_;
  if (who.token && who.token->expires_at != 0) s.expires_at = std::min(s.expires_at, who.token->expires_at);
  std::lock_guard<std::mutex> l(mu_);
  sweep_locked(now);
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::find(const std::string& id) {
  if (id.empty()) return std::nullopt;
  int64_t now = now_();
  std::lock_guard<std::mutex> l(mu_);
  sweep_locked(now);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::refresh(const std::string& id, const Principal& who) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) it->second.who = who;
}

void SessionStore::end(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  sessions_.erase(id);
}

size_t SessionStore::end_sessions_of_token(const std::string& token_id) {
  std::lock_guard<std::mutex> l(mu_);
  return std::erase_if(sessions_, [&](const auto& kv) { return kv.second.who.token && kv.second.who.token->id == token_id; });
}

size_t SessionStore::size() {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.size();
}

bool SessionStore::csrf_matches(const Session& s, const std::string& submitted) {
  if (submitted.size() != s.csrf.size() || s.csrf.empty()) return false;
  return crypto::ct_equal(crypto::as_bytes(s.csrf), crypto::as_bytes(submitted));
}

// Expired sessions of browsers that never came back: dropped at most once a minute.
void SessionStore::sweep_locked(int64_t now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + 60;
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_at <= now; });
}

}  // namespace lv::hub::web
