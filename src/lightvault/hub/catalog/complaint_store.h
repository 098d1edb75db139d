#pragma once
// The catalog's complaints (issue 14: complaints answered within 72 hours): each complaint
// about a repository with its text, the complainant's contact and a hash of the secret that
// lets them read its status; whether a repository's complaint channel is open to people
// without an account; each organization's webhook for overdue complaints. Tables created by
// the catalog's migrations (catalog.cpp). Every method is atomic on its own and joins an
// enclosing Catalog::transaction; it decides nothing (who may do what is the service's).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/catalog/catalog.h"

namespace lv::hub {

enum class ComplaintStatus { kReceived, kAcknowledged, kResolved, kRejected };
std::string_view to_string(ComplaintStatus s);
std::optional<ComplaintStatus> parse_complaint_status(std::string_view s);  // received|acknowledged|resolved|rejected

struct Complaint {
  std::string id;  // "cmp_" + 24 hex digits
  int64_t repo_id = 0;
  std::string repo;  // owner/name (read from the repository when loaded)
  std::string org;   // the repository's organization, "" for a personal repository
  std::string subject, text, contact;
  ComplaintStatus status = ComplaintStatus::kReceived;
  int64_t received_at = 0, due_at = 0;  // unix seconds
  int64_t acknowledged_at = 0;          // 0: not yet
  int64_t closed_at = 0;                // resolved or rejected at; 0: open
  std::string resolution, resolver;     // resolver: the user who closed it
  std::string complainant;              // the user who filed it, "" for anonymous
  std::string secret_hash;              // hex SHA-256 of the complainant's secret
  int64_t notified_at = 0;              // when the organization's webhook heard it is overdue

  // Received or acknowledged: still waits for an answer.
  bool open() const { return status == ComplaintStatus::kReceived || status == ComplaintStatus::kAcknowledged; }
  bool overdue(int64_t now) const { return open() && now > due_at; }
};

struct ComplaintFilter {
  std::optional<int64_t> repo_id;            // one repository, or all
  std::optional<ComplaintStatus> status;     // one status, or all
  std::optional<int64_t> overdue_at;         // only open complaints due before this time
  size_t limit = 1000;
};

// An overdue complaint whose organization has a webhook that has not heard of it yet.
struct OverdueNotice {
  Complaint complaint;
  std::string url;
};

class ComplaintStore {
 public:
  explicit ComplaintStore(Catalog& catalog) : catalog_(catalog) {}

  Status insert(const Complaint& c);
  Result<std::optional<Complaint>> find(const std::string& id);
  // Newest first.
  Result<std::vector<Complaint>> list(const ComplaintFilter& filter);
  // Moves the complaint from `from` to `to` (compare-and-set): false when its status was no
  // longer `from`. Acknowledging stamps acknowledged_at; resolving or rejecting stamps
  // closed_at and keeps the resolution and resolver.
  Result<bool> update_status(const std::string& id, ComplaintStatus from, ComplaintStatus to, int64_t at,
                             const std::string& resolution, const std::string& resolver);
  // Whether anyone (signed in or not) may file complaints about the repository.
  Result<bool> channel_public(int64_t repo_id);
  Status set_channel_public(int64_t repo_id, bool open);
  // The organization's webhook URL, or nullopt; "" removes it.
  Result<std::optional<std::string>> org_webhook(int64_t org_id);
  Status set_org_webhook(int64_t org_id, const std::string& url);
  // Open complaints due before `now` in organizations with a webhook, not yet notified, oldest first.
  Result<std::vector<OverdueNotice>> pending_notices(int64_t now, size_t limit);
  // Takes the notice (notified_at 0 -> at): false when another sender took it first.
  Result<bool> claim_notice(const std::string& id, int64_t at);
  // Gives a notice back after its delivery failed, so a later round tries again.
  Status release_notice(const std::string& id);

 private:
  Result<SqlResult> exec(const std::string& sql, const std::vector<SqlValue>& params = {});

  Catalog& catalog_;
};

}  // namespace lv::hub
