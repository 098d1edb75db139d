// The background check for overdue complaints (see overdue_notifier.h).
#include "lightvault/hub/http/overdue_notifier.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

namespace lv::hub {

Result<int> post_webhook(const std::string& url, const std::string& json_body) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return make_error("webhook " + url, "only http:// URLs are supported");
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  httplib::Client client(scheme + host);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_write_timeout(10, 0);
  auto res = client.Post(path, json_body, "application/json");
  if (!res) return make_error("webhook " + host, "no answer: " + httplib::to_string(res.error()));
  return res->status;
}

OverdueNotifier::OverdueNotifier(ComplaintService& complaints, int64_t interval_ms)
    : complaints_(complaints), interval_ms_(std::max<int64_t>(10, interval_ms)) {}

OverdueNotifier::~OverdueNotifier() { stop(); }

void OverdueNotifier::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void OverdueNotifier::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OverdueNotifier::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    complaints_.notify_overdue(post_webhook, now_unix());
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; });
  }
}

}  // namespace lv::hub
