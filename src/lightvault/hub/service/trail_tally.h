#pragma once
// The figures of one repository's audit trail that its compliance report states: downloads
// (who, when), lifecycle events, marks issued for its outputs, and complaints (open, overdue,
// resolved, time to resolve). Fed the repository's entries in chain order, it counts what the
// entries say and nothing else: the figures are computed when the report is made, from the
// trail as it stands, never stored.
//
// The entries it reads, as the hub's use cases write them:
//   model.download    resource "owner/name/resolve/REV/PATH"; details.via "web" for pages
//   model.upload, model.finetune (details.base_model), model.deploy (details.target)
//   content.mark      resource "owner/name"; details.payload
//   complaint.receive resource "owner/name"; details {id, due (RFC 3339 UTC), subject}
//   complaint.acknowledge | complaint.resolve | complaint.reject: details {id, status}
// Only entries with outcome "allowed" count as done; refusals are counted apart.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/hub/audit/audit_log.h"

namespace lv::hub {

// Seconds since the epoch of an RFC 3339 UTC time ("2026-11-30T10:00:00Z", fractions and
// "+00:00" accepted); nullopt for anything else. Untrusted input: never throws.
std::optional<int64_t> parse_utc_time(const std::string& text);

class TrailTally {
 public:
  // `repo` is "owner/name": entries whose resource is it or lies below it ("owner/name/...")
  // are counted, others ignored.
  explicit TrailTally(std::string repo) : repo_(std::move(repo)) {}

  void add(const AuditEntry& entry);

  // {"downloads", "downloads_by_user", "downloads_by_month", "page_views", "uploads",
  //  "finetunes": [...], "deploys": [...], "denied", "entries", "first", "last"}
  nlohmann::json audit() const;
  // {"marks_issued", "marked_outputs": bool, "first", "last", "by_user"}
  nlohmann::json labeling() const;
  // {"received", "open", "overdue", "acknowledged", "resolved", "rejected",
  //  "median_hours_to_resolve" (null when none closed), "overdue_ids"}; overdue = open and
  // past its due time at `now` (seconds since the epoch).
  nlohmann::json complaints(int64_t now) const;

 private:
  struct Complaint {
    std::optional<int64_t> received, due, closed;
    std::string status = "received";
  };
  struct Event {
    std::string time, actor, detail;
  };

  std::string repo_;
  int64_t entries_ = 0, denied_ = 0, uploads_ = 0, downloads_ = 0, page_views_ = 0, marks_ = 0;
  std::string first_, last_, first_mark_, last_mark_;
  std::map<std::string, int64_t> downloads_by_user_, downloads_by_month_, marks_by_user_;
  std::vector<Event> finetunes_, deploys_;
  std::map<std::string, Complaint> complaints_;  // by complaint id, in id order
};

}  // namespace lv::hub
