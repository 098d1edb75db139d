#include "lightvault/hub/service/trail_tally.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

using json = nlohmann::json;

AuditEntry entry(const std::string& action, const std::string& resource, json details, const std::string& time,
                 const char* outcome = kAuditAllowed) {
  AuditEntry e;
  e.action = action;
  e.resource = resource;
  e.details = std::move(details);
  e.time = time;
  e.outcome = outcome;
  return e;
}

TEST(TrailTally, ParsesUtcTimesOnly) {
  EXPECT_EQ(parse_utc_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_utc_time("2026-11-30T10:00:00.123Z"), 1796032800);
  EXPECT_EQ(parse_utc_time("2026-11-30T10:00:00+00:00"), 1796032800);
  for (const char* bad : {"", "2026-11-30", "2026-11-30T10:00:00", "2026-11-30T10:00:00+02:00", "2026-13-01T00:00:00Z",
                          "2026-11-30T10:00:00.Z", "20x6-11-30T10:00:00Z", "2026-11-30T25:00:00Z"}) {
    EXPECT_FALSE(parse_utc_time(bad).has_value()) << bad;
  }
}

TEST(TrailTally, CountsOnlyTheRepositoryAndWhatWasAllowed) {
  TrailTally t("acme/m");
  t.add(entry("model.download", "acme/m/resolve/main/w.gguf", json::object(), "2026-10-01T00:00:00Z"));
  t.add(entry("model.download", "acme/m/resolve/main/w.gguf", json::object(), "2026-11-01T00:00:00Z"));
  t.add(entry("model.download", "acme/m/resolve/main/w.gguf", json::object(), "2026-11-02T00:00:00Z", kAuditDenied));
  t.add(entry("model.download", "acme/m2/resolve/main/w.gguf", json::object(), "2026-11-03T00:00:00Z"));  // another repository
  t.add(entry("model.download", "acme/m/blob/c/README.md", {{"via", "web"}}, "2026-11-03T00:00:00Z"));
  t.add(entry("model.finetune", "acme/m", {{"base_model", "acme/base"}}, "2026-11-04T00:00:00Z"));
  json a = t.audit();
  EXPECT_EQ(a["downloads"], 2);
  EXPECT_EQ(a["denied"], 1);
  EXPECT_EQ(a["page_views"], 1);
  EXPECT_EQ(a["entries"], 5);
  EXPECT_EQ(a["downloads_by_month"], json({{"2026-10", 1}, {"2026-11", 1}}));
  EXPECT_EQ(a["downloads_by_user"], json({{"(anonymous)", 2}}));
  EXPECT_EQ(a["finetunes"][0]["base_model"], "acme/base");
  EXPECT_EQ(a["first"], "2026-10-01T00:00:00Z");
}

TEST(TrailTally, ComplaintsOpenOverdueAndMedianTimeToResolve) {
  TrailTally t("acme/m");
  const int64_t now = *parse_utc_time("2026-11-30T12:00:00Z");
  t.add(entry("complaint.receive", "acme/m", {{"id", "a"}, {"due", "2026-11-30T11:59:59Z"}}, "2026-11-27T11:59:59Z"));
  t.add(entry("complaint.receive", "acme/m", {{"id", "b"}, {"due", "2026-11-30T12:00:01Z"}}, "2026-11-27T12:00:01Z"));
  t.add(entry("complaint.receive", "acme/m", {{"id", "c"}, {"due", "2026-11-03T00:00:00Z"}}, "2026-11-01T00:00:00Z"));
  t.add(entry("complaint.resolve", "acme/m", {{"id", "c"}, {"status", "resolved"}}, "2026-11-01T06:00:00Z"));
  // A step of a complaint this trail never received (another repository's id) is not counted.
  t.add(entry("complaint.resolve", "acme/m", {{"id", "zz"}, {"status", "resolved"}}, "2026-11-01T06:00:00Z"));
  // A refused resolution changes nothing.
  t.add(entry("complaint.resolve", "acme/m", {{"id", "a"}, {"status", "resolved"}}, "2026-11-29T00:00:00Z", kAuditDenied));
  json c = t.complaints(now);
  EXPECT_EQ(c["received"], 3);
  EXPECT_EQ(c["open"], 2);
  EXPECT_EQ(c["overdue"], 1);  // a is past due one second ago; b is due in one second
  EXPECT_EQ(c["overdue_ids"], json({"a"}));
  EXPECT_EQ(c["resolved"], 1);
  EXPECT_DOUBLE_EQ(c["median_hours_to_resolve"].get<double>(), 6.0);
  EXPECT_TRUE(TrailTally("x/y").complaints(now)["median_hours_to_resolve"].is_null());
}

TEST(TrailTally, MarksIssued) {
  TrailTally t("acme/m");
  t.add(entry("content.mark", "acme/m", {{"payload", "p1"}}, "2026-11-01T00:00:00Z"));
  t.add(entry("content.mark", "acme/m", {{"payload", "p2"}}, "2026-11-02T00:00:00Z"));
  t.add(entry("content.mark", "", {{"payload", "p3"}}, "2026-11-02T00:00:00Z"));  // no repository named
  json l = t.labeling();
  EXPECT_EQ(l["marks_issued"], 2);
  EXPECT_EQ(l["marked_outputs"], true);
  EXPECT_EQ(l["last"], "2026-11-02T00:00:00Z");
  EXPECT_EQ(TrailTally("acme/m").labeling()["marked_outputs"], false);
}

}  // namespace
}  // namespace lv::hub
