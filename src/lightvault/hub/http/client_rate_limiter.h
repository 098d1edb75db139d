#pragma once
// Requests per client address, as a token bucket each: `burst` requests at once, then one
// more every `refill_seconds`. Used where callers need no account (complaints), so that one
// address cannot flood the catalog and the audit trail. The table of addresses is bounded:
// when it is full, addresses whose buckets have refilled are forgotten, and if none has, new
// addresses wait like a client over its limit (the table never grows past `max_clients`).
// Thread-safe. Times are passed in (steady seconds), so tests need no clock.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lv::hub {

class ClientRateLimiter {
 public:
  ClientRateLimiter(int burst, int64_t refill_seconds, size_t max_clients = 65536);

  // 0 when the request may go ahead (and is counted); else the seconds until the client may
  // try again (for Retry-After).
  int64_t admit(const std::string& client, int64_t now_seconds);
  size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated = 0;
  };
  void refill(Bucket& b, int64_t now) const;

  const int burst_;
  const int64_t refill_seconds_;
  const size_t max_clients_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace lv::hub
