#pragma once
// The complaint channel's use cases (issue 14, part 2): anyone may file a complaint about a
// model, its owners answer within 72 hours, the complainant follows it with a secret, and an
// organization hears of the ones that went overdue. Like HubService (hub_service.h) each use
// case authorizes, checks its input, and changes the catalog in one transaction with its
// audit entry; refusals are audited (outcome "denied"). Nothing here knows HTTP.
//
// Who may do what:
//   - file: anyone who may read the repository, and anyone at all (no account needed) when
//     the repository's complaint channel is public. Any other repository is "not found",
//     exactly like one that does not exist, and nothing is stored.
//   - list, acknowledge, resolve, reject: whoever has the admin role on the repository
//     (its owner, the organization's owners and admins, site administrators, admin grants).
//   - read one complaint's status: whoever holds its id and secret.
//   - open or close the public channel: the repository's admins; set an organization's
//     webhook: the organization's owners and admins (admin-scoped token) and site admins.
//
// The audit trail (read by the compliance report, which counts complaints from it):
//   complaint.receive      resource owner/name, org of the repository, actor "" or the user,
//                          details {"id", "due" (ISO 8601 UTC, receipt + 72 h), "subject" (200 chars)}
//   complaint.acknowledge  details {"id", "status": "acknowledged"}
//   complaint.resolve      details {"id", "status": "resolved", "resolution" (first 200 chars)}
//   complaint.reject       details {"id", "status": "rejected", "resolution" (first 200 chars)}
//   complaint.channel      details {"public": true|false}
//   complaint.webhook      resource the organization, details {"set": true|false, "host"}
//   complaint.notify       actor "lightvault", details {"id", "status" (the webhook's answer)}: a notice delivered
// The complaint's text and contact stay in the catalog, never in the trail.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/hub/catalog/complaint_store.h"
#include "lightvault/hub/service/audit_writer.h"
#include "lightvault/hub/service/hub_service.h"

namespace lv::hub {

// Limits, in Unicode characters (code points) of valid UTF-8.
inline constexpr size_t kMaxComplaintSubject = 200;
inline constexpr size_t kMaxComplaintText = 20000;
inline constexpr size_t kMaxComplaintContact = 320;
inline constexpr size_t kMaxComplaintResolution = 20000;
// How long the owners have to answer.
inline constexpr int64_t kComplaintDeadlineSeconds = 72 * 3600;

struct ComplaintRequest {
  std::string repo;  // owner/name
  std::string subject, text, contact;
};

struct ComplaintReceipt {
  Complaint complaint;
  std::string secret;  // shown to the complainant once; only its hash is kept
};

struct ComplaintQuery {
  std::string repo;    // owner/name, "" = every repository the caller administers
  std::string status;  // received|acknowledged|resolved|rejected|open, "" = any
  bool overdue_only = false;
};

struct ComplaintDecision {
  std::string status;      // acknowledged|resolved|rejected
  std::string resolution;  // required to resolve or reject
};

// Delivers one overdue notice: POSTs `json_body` to `url`; the HTTP status, or an error.
using NoticeSender = std::function<Result<int>(const std::string& url, const std::string& json_body)>;

class ComplaintService {
 public:
  ComplaintService(Catalog& catalog, AuditWriter& audit, HubService& hub);

  Outcome<ComplaintReceipt> receive(const Caller& caller, const ComplaintRequest& request);
  // The complaint if `secret` is its complainant's; else kNotFound (unknown ids look alike).
  // Not audited: a read, and the adapter audits refusals within its budget.
  Outcome<Complaint> status_for_complainant(const std::string& id, const std::string& secret);
  // The repository a complaint form may name: as receive() decides, without auditing (for
  // showing the form).
  Outcome<Repo> complaint_target(const Caller& caller, const std::string& owner, const std::string& name);
  // Newest first. A named repository the caller may not administer: not found / forbidden
  // (audited as complaint.list); without one, the complaints of every repository it administers.
  Outcome<std::vector<Complaint>> list(const Caller& caller, const ComplaintQuery& query);
  // Acknowledge, resolve or reject. Resolved and rejected complaints are final (kConflict).
  Outcome<Complaint> decide(const Caller& caller, const std::string& id, const ComplaintDecision& decision);
  Outcome<bool> set_public_channel(const Caller& caller, const std::string& owner, const std::string& name, bool open);
  Outcome<bool> public_channel(const Repo& repo);
  // url "" removes the webhook; otherwise http://HOST[:PORT]/PATH (at most 2,000 characters).
  Outcome<Done> set_org_webhook(const Caller& caller, const std::string& org, const std::string& url);
  // Sends each overdue, not yet notified complaint of an organization with a webhook to it,
  // once: a notice is taken before it is sent (so replicas do not both send it) and given back
  // when the webhook did not answer 2xx, for the next round. Returns how many were delivered.
  size_t notify_overdue(const NoticeSender& send, int64_t now);

 private:
  Result<std::optional<Repo>> visible_target(const Caller& caller, const std::string& owner, const std::string& name);
  ServiceError refuse(const Caller& caller, const std::string& action, const std::string& resource, ServiceError error,
                      const std::string& org = "");

  Catalog& catalog_;
  ComplaintStore store_;
  AuditWriter& audit_;
  HubService& hub_;
};

// The number of code points of `text`, or nullopt when it is not valid UTF-8 (overlong forms,
// surrogates and values past U+10FFFF are not) or holds a control character other than tab,
// and line breaks when `allow_breaks`. How complaint fields are measured and checked.
std::optional<size_t> complaint_text_length(std::string_view text, bool allow_breaks);
// The first `max_chars` code points of valid UTF-8 text.
std::string first_chars(const std::string& text, size_t max_chars);

}  // namespace lv::hub
