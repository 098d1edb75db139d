#include "lightvault/util/utc_time.h"

#include <ctime>

namespace lv {

std::string utc_rfc3339(int64_t unix_seconds, bool milliseconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, milliseconds ? "%Y-%m-%dT%H:%M:%S.000Z" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace lv
