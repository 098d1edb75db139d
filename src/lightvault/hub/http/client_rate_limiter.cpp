// Token buckets per client address (see client_rate_limiter.h).
#include "lightvault/hub/http/client_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace lv::hub {

ClientRateLimiter::ClientRateLimiter(int burst, int64_t refill_seconds, size_t max_clients)
    : burst_(std::max(1, burst)), refill_seconds_(std::max<int64_t>(1, refill_seconds)), max_clients_(std::max<size_t>(1, max_clients)) {}

void ClientRateLimiter::refill(Bucket& b, int64_t now) const {
  if (now <= b.updated) return;
  b.tokens = std::min<double>(burst_, b.tokens + static_cast<double>(now - b.updated) / static_cast<double>(refill_seconds_));
  b.updated = now;
}

int64_t ClientRateLimiter::admit(const std::string& client, int64_t now) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // Forget the clients whose buckets are full again: they look like new ones anyway.
      for (auto i = buckets_.begin(); i != buckets_.end();) {
        refill(i->second, now);
        i = i->second.tokens >= burst_ ? buckets_.erase(i) : std::next(i);
      }
      if (buckets_.size() >= max_clients_) return refill_seconds_;
    }
    it = buckets_.emplace(client, Bucket{static_cast<double>(burst_), now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) * static_cast<double>(refill_seconds_))));
}

size_t ClientRateLimiter::clients() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace lv::hub
