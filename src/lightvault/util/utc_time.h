#pragma once
// Times as text, the way the hub writes them in JSON, the audit trail and reports.
#include <cstdint>
#include <string>

namespace lv {

// RFC 3339 in UTC, whole seconds: "2026-11-30T12:00:00Z"; with `milliseconds`,
// "2026-11-30T12:00:00.000Z", the audit trail's form.
std::string utc_rfc3339(int64_t unix_seconds, bool milliseconds = false);

}  // namespace lv
