#pragma once
// The hub's background check for overdue complaints: every `interval_ms` it asks the
// complaint service to notify organizations' webhooks (ComplaintService::notify_overdue),
// POSTing each notice as JSON over HTTP (cpp-httplib's client, 5 s to connect, 10 s to
// answer). A check runs whether or not anyone lists complaints, so a complaint that nobody
// looks at still reaches its organization once it is overdue. Stops (and joins) on
// destruction or stop().
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "lightvault/hub/service/complaint_service.h"

namespace lv::hub {

// POSTs `json_body` to an http:// URL; the answer's status, or an error naming the URL's host.
Result<int> post_webhook(const std::string& url, const std::string& json_body);

class OverdueNotifier {
 public:
  OverdueNotifier(ComplaintService& complaints, int64_t interval_ms);
  ~OverdueNotifier();
  OverdueNotifier(const OverdueNotifier&) = delete;
  OverdueNotifier& operator=(const OverdueNotifier&) = delete;

  void start();
  void stop();

 private:
  void run();

  ComplaintService& complaints_;
  const int64_t interval_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lv::hub
