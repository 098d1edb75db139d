#include "lightvault/util/utc_time.h"

#include <gtest/gtest.h>

namespace lv {
namespace {

TEST(UtcTime, Rfc3339WithAndWithoutMilliseconds) {
  EXPECT_EQ(utc_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_rfc3339(1764504000), "2025-11-30T12:00:00Z");
  EXPECT_EQ(utc_rfc3339(0, true), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(utc_rfc3339(72 * 3600, true), "1970-01-04T00:00:00.000Z");
}

}  // namespace
}  // namespace lv
