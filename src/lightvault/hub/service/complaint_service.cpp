// The complaint channel's use cases (see complaint_service.h).
#include "lightvault/hub/service/complaint_service.h"

#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <string_view>

#include <utf8proc.h>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub {

using json = nlohmann::json;

namespace {

ServiceError internal(const Error& e) { return ServiceError{ErrorCode::kInternal, e.message}; }

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// A field's problem, or nullopt: required fields may not be blank, none may be longer than
// its limit or be anything but text.
std::optional<ServiceError> check_field(const char* name, const std::string& value, size_t max_chars, bool required,
                                        bool allow_breaks) {
  auto n = complaint_text_length(value, allow_breaks);
  if (!n) {
    return ServiceError{ErrorCode::kInvalid, std::string(name) + " must be UTF-8 text without control characters" +
                                                 (allow_breaks ? "" : " or line breaks")};
  }
  if (*n > max_chars) {
    return ServiceError{ErrorCode::kTooLarge, std::string(name) + " is " + std::to_string(*n) + " characters long (at most " +
                                                  std::to_string(max_chars) + ")"};
  }
  if (required && trim(value).empty()) return ServiceError{ErrorCode::kInvalid, std::string(name) + " is empty"};
  return std::nullopt;
}

// "owner/name" split in two valid names.
std::optional<std::pair<std::string, std::string>> split_repo(const std::string& repo) {
  auto slash = repo.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string owner = repo.substr(0, slash), name = repo.substr(slash + 1);
  if (!valid_name(owner) || !valid_name(name)) return std::nullopt;
  return std::make_pair(owner, name);
}

std::string action_for(ComplaintStatus s) {
  switch (s) {
    case ComplaintStatus::kAcknowledged: return "complaint.acknowledge";
    case ComplaintStatus::kResolved: return "complaint.resolve";
    case ComplaintStatus::kRejected: return "complaint.reject";
    case ComplaintStatus::kReceived: break;
  }
  return "complaint.update";
}

// Where a webhook URL points, for the audit trail (its path and query may hold a secret).
std::optional<std::string> webhook_host(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0 || url.size() > 2000) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  std::string host = rest.substr(0, rest.find('/'));
  if (host.empty() || host.find_first_of("@ \t\r\n\\") != std::string::npos) return std::nullopt;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return std::nullopt;
  }
  return host;
}

}  // namespace

std::optional<size_t> complaint_text_length(std::string_view s, bool allow_breaks) {
  size_t count = 0;
  auto p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  for (auto left = static_cast<utf8proc_ssize_t>(s.size()); left > 0; ++count) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return std::nullopt;
    const bool line_break = cp == '\n' || cp == '\r';
    if ((cp < 0x20 && cp != '\t' && !(allow_breaks && line_break)) || cp == 0x7f) return std::nullopt;
    p += n;
    left -= n;
  }
  return count;
}

std::string first_chars(const std::string& text, size_t max_chars) {
  size_t i = 0;
  for (size_t count = 0; i < text.size() && count < max_chars; ++count) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) ++i;
  }
  return text.substr(0, i);
}

ComplaintService::ComplaintService(Catalog& catalog, AuditWriter& audit, HubService& hub)
    : catalog_(catalog), store_(catalog), audit_(audit), hub_(hub) {}

ServiceError ComplaintService::refuse(const Caller& caller, const std::string& action, const std::string& resource,
                                      ServiceError error, const std::string& org) {
  return hub_.refuse(caller, action, resource, std::move(error), org);
}

Result<std::optional<Repo>> ComplaintService::visible_target(const Caller& caller, const std::string& owner,
                                                             const std::string& name) {
  LV_ASSIGN_OR_RETURN(auto repo, catalog_.find_repo(owner, name));
  if (!repo) return std::optional<Repo>();
  LV_ASSIGN_OR_RETURN(bool open, store_.channel_public(repo->id));
  if (open) return repo;
  LV_ASSIGN_OR_RETURN(auto role, hub_.role_on(caller.who, *repo));
  if (role >= RepoRole::kRead) return repo;
  return std::optional<Repo>();
}

Outcome<Repo> ComplaintService::complaint_target(const Caller& caller, const std::string& owner, const std::string& name) {
  auto repo = visible_target(caller, owner, name);
  if (!repo.ok()) return internal(repo.error());
  if (!*repo) return ServiceError{ErrorCode::kNotFound, "repository " + owner + "/" + name + " not found", "RepoNotFound"};
  return **repo;
}

Outcome<ComplaintReceipt> ComplaintService::receive(const Caller& caller, const ComplaintRequest& request) {
  const std::string action = "complaint.receive";
  auto names = split_repo(request.repo);
  if (!names) {
    return refuse(caller, action, "complaints", {ErrorCode::kInvalid, "repo must be OWNER/NAME (each 1-64 of A-Z a-z 0-9 . _ -)"});
  }
  const std::string resource = request.repo;
  auto target = visible_target(caller, names->first, names->second);
  if (!target.ok()) return internal(target.error());
  if (!*target) return refuse(caller, action, resource, {ErrorCode::kNotFound, "repository " + resource + " not found", "RepoNotFound"});
  const Repo& repo = **target;
  const std::string org = repo.owner_kind == OwnerKind::kOrg ? repo.owner : "";
  for (auto problem : {check_field("subject", request.subject, kMaxComplaintSubject, true, false),
                       check_field("text", request.text, kMaxComplaintText, true, true),
                       check_field("contact", request.contact, kMaxComplaintContact, false, false)}) {
    if (problem) return refuse(caller, action, resource, *problem, org);
  }
  ComplaintReceipt receipt;
  Complaint& c = receipt.complaint;
  c.id = "cmp_" + crypto::random_hex(12);
  c.repo_id = repo.id;
  c.repo = repo.full_name();
  c.org = org;
  c.subject = trim(request.subject);
  c.text = request.text;
  c.contact = trim(request.contact);
  c.status = ComplaintStatus::kReceived;
  c.received_at = now_unix();
  c.due_at = c.received_at + kComplaintDeadlineSeconds;
  c.complainant = caller.who.name();
  receipt.secret = "lvc_" + crypto::random_hex(32);
  c.secret_hash = crypto::sha256_hex(receipt.secret);
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_RETURN_IF_ERROR(store_.insert(c));
    e = audit_entry(caller, action, resource, kAuditAllowed,
              json{{"id", c.id}, {"due", utc_rfc3339(c.due_at, true)}, {"subject", first_chars(c.subject, kMaxComplaintSubject)}},
              org);
    return Status::Ok();
  });
  if (!st.ok()) {
    hub_.audit_event(caller, action, resource, kAuditError, json{{"reason", st.error().message}}, org);
    return internal(st.error());
  }
  return receipt;
}

Outcome<Complaint> ComplaintService::status_for_complainant(const std::string& id, const std::string& secret) {
  ServiceError unknown{ErrorCode::kNotFound, "no complaint " + id + " with this secret"};
  auto c = store_.find(id);
  if (!c.ok()) return internal(c.error());
  if (!*c || secret.empty()) return unknown;
  std::string hash = crypto::sha256_hex(secret);
  if (!crypto::ct_equal(crypto::as_bytes(hash), crypto::as_bytes((*c)->secret_hash))) return unknown;
  return **c;
}

Outcome<std::vector<Complaint>> ComplaintService::list(const Caller& caller, const ComplaintQuery& query) {
  const std::string action = "complaint.list";
  if (!caller.who.authenticated()) {
    return refuse(caller, action, query.repo.empty() ? "complaints" : query.repo,
                  {ErrorCode::kUnauthenticated, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized"});
  }
  ComplaintFilter filter;
  bool open_only = false;
  if (query.status == "open") {
    open_only = true;
  } else if (!query.status.empty()) {
    filter.status = parse_complaint_status(query.status);
    if (!filter.status) {
      return refuse(caller, action, query.repo.empty() ? "complaints" : query.repo,
                    {ErrorCode::kInvalid, "status must be received, acknowledged, resolved, rejected or open"});
    }
  }
  const int64_t now = now_unix();
  if (query.overdue_only) filter.overdue_at = now;
  if (!query.repo.empty()) {
    auto names = split_repo(query.repo);
    if (!names) return refuse(caller, action, query.repo, {ErrorCode::kInvalid, "repo must be OWNER/NAME"});
    auto repo = hub_.open_repo(caller, names->first, names->second, Action::kAdmin, action);
    if (!repo.ok()) return repo.error();
    filter.repo_id = repo->id;
  }
  auto all = store_.list(filter);
  if (!all.ok()) return internal(all.error());
  // The permission rule per repository, once each.
  std::map<int64_t, bool> administers;
  std::vector<Complaint> out;
  for (auto& c : *all) {
    if (open_only && !c.open()) continue;
    if (!filter.repo_id) {
      auto it = administers.find(c.repo_id);
      if (it == administers.end()) {
        auto repo = catalog_.find_repo(c.repo.substr(0, c.repo.find('/')), c.repo.substr(c.repo.find('/') + 1));
        if (!repo.ok()) return internal(repo.error());
        bool admin = false;
        if (*repo) {
          auto role = hub_.role_on(caller.who, **repo);
          if (!role.ok()) return internal(role.error());
          admin = *role >= RepoRole::kAdmin;
        }
        it = administers.emplace(c.repo_id, admin).first;
      }
      if (!it->second) continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

Outcome<Complaint> ComplaintService::decide(const Caller& caller, const std::string& id, const ComplaintDecision& decision) {
  auto to = parse_complaint_status(decision.status);
  const std::string action = to ? action_for(*to) : "complaint.update";
  if (!caller.who.authenticated()) {
    return refuse(caller, action, "complaints/" + id,
                  {ErrorCode::kUnauthenticated, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized"});
  }
  auto found = store_.find(id);
  if (!found.ok()) return internal(found.error());
  ServiceError unknown{ErrorCode::kNotFound, "no complaint " + id};
  if (!*found) return refuse(caller, action, "complaints/" + id, unknown);
  Complaint c = std::move(**found);
  auto slash = c.repo.find('/');
  // The repository's own refusal: not found for those who may not read it, forbidden for
  // readers who may not administer it; the unknown id's message for the former.
  auto repo = hub_.open_repo(caller, c.repo.substr(0, slash), c.repo.substr(slash + 1), Action::kAdmin, action);
  if (!repo.ok()) {
    if (repo.error().code == ErrorCode::kNotFound) return unknown;
    return repo.error();
  }
  if (!to || *to == ComplaintStatus::kReceived) {
    return refuse(caller, action, c.repo, {ErrorCode::kInvalid, "status must be acknowledged, resolved or rejected"}, c.org);
  }
  if (!c.open()) {
    return refuse(caller, action, c.repo,
                  {ErrorCode::kConflict, "complaint " + id + " is already " + std::string(to_string(c.status))}, c.org);
  }
  if (*to == ComplaintStatus::kAcknowledged && c.status == ComplaintStatus::kAcknowledged) {
    return refuse(caller, action, c.repo, {ErrorCode::kConflict, "complaint " + id + " is already acknowledged"}, c.org);
  }
  const bool closing = *to != ComplaintStatus::kAcknowledged;
  std::string resolution = closing ? trim(decision.resolution) : "";
  if (closing) {
    if (auto problem = check_field("resolution", decision.resolution, kMaxComplaintResolution, true, true)) {
      return refuse(caller, action, c.repo, *problem, c.org);
    }
  }
  const int64_t at = now_unix();
  const ComplaintStatus from = c.status;
  bool moved = false;
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_ASSIGN_OR_RETURN(bool changed, store_.update_status(id, from, *to, at, resolution, caller.who.name()));
    if (!changed) {
      moved = true;
      return make_error("complaint " + id, "its status changed meanwhile; reload it");
    }
    json details{{"id", id}, {"status", std::string(to_string(*to))}};
    if (closing) details["resolution"] = first_chars(resolution, 200);
    e = audit_entry(caller, action, c.repo, kAuditAllowed, std::move(details), c.org);
    return Status::Ok();
  });
  if (!st.ok()) {
    hub_.audit_event(caller, action, c.repo, kAuditError, json{{"reason", st.error().message}}, c.org);
    return ServiceError{moved ? ErrorCode::kConflict : ErrorCode::kInternal, st.error().message};
  }
  c.status = *to;
  if (closing) {
    c.closed_at = at;
    c.resolution = resolution;
    c.resolver = caller.who.name();
  } else {
    c.acknowledged_at = at;
  }
  return c;
}

Outcome<bool> ComplaintService::public_channel(const Repo& repo) {
  auto open = store_.channel_public(repo.id);
  if (!open.ok()) return internal(open.error());
  return *open;
}

Outcome<bool> ComplaintService::set_public_channel(const Caller& caller, const std::string& owner, const std::string& name,
                                                   bool open) {
  const std::string action = "complaint.channel";
  auto repo = hub_.open_repo(caller, owner, name, Action::kAdmin, action);
  if (!repo.ok()) return repo.error();
  const std::string org = repo->owner_kind == OwnerKind::kOrg ? repo->owner : "";
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_RETURN_IF_ERROR(store_.set_channel_public(repo->id, open));
    e = audit_entry(caller, action, repo->full_name(), kAuditAllowed, json{{"public", open}}, org);
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return open;
}

Outcome<Done> ComplaintService::set_org_webhook(const Caller& caller, const std::string& org_name, const std::string& url) {
  const std::string action = "complaint.webhook";
  if (!caller.who.authenticated()) {
    return refuse(caller, action, org_name,
                  {ErrorCode::kUnauthenticated, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized"});
  }
  auto org = catalog_.find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!*org) return refuse(caller, action, org_name, {ErrorCode::kNotFound, "no organization " + org_name});
  bool may = caller.who.site_admin();
  if (!may && (caller.who.scopes & kScopeAdmin)) {
    auto role = catalog_.org_role((*org)->id, caller.who.user->id);
    if (!role.ok()) return internal(role.error());
    may = *role && (**role == OrgRole::kOwner || **role == OrgRole::kAdmin);
  }
  if (!may) return refuse(caller, action, org_name, {ErrorCode::kDenied, "needs organization admin (admin-scoped token)", "Forbidden"}, org_name);
  std::optional<std::string> host;
  if (!url.empty()) {
    host = webhook_host(url);
    if (!host) {
      return refuse(caller, action, org_name,
                    {ErrorCode::kInvalid, "webhook url must be http://HOST[:PORT]/PATH, printable ASCII, at most 2000 characters"},
                    org_name);
    }
  }
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_RETURN_IF_ERROR(store_.set_org_webhook((*org)->id, url));
    json details{{"set", !url.empty()}};
    if (host) details["host"] = *host;
    e = audit_entry(caller, action, org_name, kAuditAllowed, std::move(details), org_name);
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return Done{};
}

size_t ComplaintService::notify_overdue(const NoticeSender& send, int64_t now) {
  auto pending = store_.pending_notices(now, 100);
  if (!pending.ok()) {
    std::cerr << "complaints: overdue check failed: " << pending.error().message << "\n";
    return 0;
  }
  Caller hub_itself{Principal{}, "local", "overdue-check"};
  size_t delivered = 0;
  for (auto& n : *pending) {
    const Complaint& c = n.complaint;
    auto claimed = store_.claim_notice(c.id, now);
    if (!claimed.ok() || !*claimed) continue;
    json body{{"event", "complaint.overdue"},
              {"id", c.id},
              {"repo", c.repo},
              {"org", c.org},
              {"status", std::string(to_string(c.status))},
              {"subject", c.subject},
              {"received", utc_rfc3339(c.received_at, true)},
              {"due", utc_rfc3339(c.due_at, true)},
              {"overdue_seconds", now - c.due_at}};
    auto answer = send(n.url, body.dump(-1, ' ', false, json::error_handler_t::replace));
    if (!answer.ok() || *answer < 200 || *answer > 299) {
      std::cerr << "complaints: webhook of " << c.org << " for " << c.id << ": "
                << (answer.ok() ? "HTTP " + std::to_string(*answer) : answer.error().message) << "; retrying later\n";
      (void)store_.release_notice(c.id);
      continue;
    }
    ++delivered;
    AuditEntry e = audit_entry(hub_itself, "complaint.notify", c.repo, kAuditAllowed, json{{"id", c.id}, {"status", *answer}}, c.org);
    e.actor = "lightvault";  // the hub itself, as at its first start
    if (Status st = audit_.append(std::move(e)); !st.ok()) std::cerr << "audit append failed: " << st.error().message << "\n";
  }
  return delivered;
}

}  // namespace lv::hub
