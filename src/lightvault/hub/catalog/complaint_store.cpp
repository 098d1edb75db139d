// The complaints tables (see complaint_store.h), in the SQL subset both catalog drivers accept.
#include "lightvault/hub/catalog/complaint_store.h"

namespace lv::hub {

namespace {

int64_t to_i64(const std::optional<std::string>& s) { return s ? std::stoll(*s) : 0; }
std::string to_s(const std::optional<std::string>& s) { return s ? *s : std::string(); }

const char* kComplaintCols =
    "c.id, c.repo_id, r.owner, r.name, r.owner_kind, c.subject, c.text, c.contact, c.status, c.received_at, c.due_at, "
    "c.acknowledged_at, c.closed_at, c.resolution, c.resolver, c.complainant, c.secret_hash, c.notified_at";

Complaint row_complaint(const SqlRow& r) {
  Complaint c;
  c.id = to_s(r[0]);
  c.repo_id = to_i64(r[1]);
  c.repo = to_s(r[2]) + "/" + to_s(r[3]);
  c.org = to_s(r[4]) == "org" ? to_s(r[2]) : "";
  c.subject = to_s(r[5]);
  c.text = to_s(r[6]);
  c.contact = to_s(r[7]);
  c.status = parse_complaint_status(to_s(r[8])).value_or(ComplaintStatus::kReceived);
  c.received_at = to_i64(r[9]);
  c.due_at = to_i64(r[10]);
  c.acknowledged_at = to_i64(r[11]);
  c.closed_at = to_i64(r[12]);
  c.resolution = to_s(r[13]);
  c.resolver = to_s(r[14]);
  c.complainant = to_s(r[15]);
  c.secret_hash = to_s(r[16]);
  c.notified_at = to_i64(r[17]);
  return c;
}

std::string status_name(ComplaintStatus s) { return std::string(to_string(s)); }

}  // namespace

std::string_view to_string(ComplaintStatus s) {
  switch (s) {
    case ComplaintStatus::kReceived: return "received";
    case ComplaintStatus::kAcknowledged: return "acknowledged";
    case ComplaintStatus::kResolved: return "resolved";
    case ComplaintStatus::kRejected: return "rejected";
  }
  return "received";
}

std::optional<ComplaintStatus> parse_complaint_status(std::string_view s) {
  for (auto v : {ComplaintStatus::kReceived, ComplaintStatus::kAcknowledged, ComplaintStatus::kResolved,
                 ComplaintStatus::kRejected}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

// Each statement under the catalog's lock and inside its transaction (joining the caller's).
Result<SqlResult> ComplaintStore::exec(const std::string& sql, const std::vector<SqlValue>& params) {
  SqlResult out;
  LV_RETURN_IF_ERROR(catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(out, catalog_.sql().exec(sql, params));
    return Status::Ok();
  }));
  return out;
}

Status ComplaintStore::insert(const Complaint& c) {
  LV_RETURN_IF_ERROR(exec("INSERT INTO complaints(id, repo_id, subject, text, contact, status, received_at, due_at, "
                          "complainant, secret_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          {c.id, c.repo_id, c.subject, c.text, c.contact, status_name(c.status), c.received_at, c.due_at,
                           c.complainant, c.secret_hash}));
  return Status::Ok();
}

Result<std::optional<Complaint>> ComplaintStore::find(const std::string& id) {
  LV_ASSIGN_OR_RETURN(auto r, exec(std::string("SELECT ") + kComplaintCols +
                                       " FROM complaints c JOIN repos r ON r.id = c.repo_id WHERE c.id = ?1",
                                   {id}));
  if (r.rows.empty()) return std::optional<Complaint>();
  return std::optional<Complaint>(row_complaint(r.rows[0]));
}

Result<std::vector<Complaint>> ComplaintStore::list(const ComplaintFilter& f) {
  std::string sql = std::string("SELECT ") + kComplaintCols + " FROM complaints c JOIN repos r ON r.id = c.repo_id WHERE 1 = 1";
  std::vector<SqlValue> params;
  auto param = [&](SqlValue v) {
    params.push_back(std::move(v));
    return "?" + std::to_string(params.size());
  };
  if (f.repo_id) sql += " AND c.repo_id = " + param(*f.repo_id);
  if (f.status) sql += " AND c.status = " + param(status_name(*f.status));
  if (f.overdue_at) {
    sql += " AND c.status IN ('received', 'acknowledged') AND c.due_at < " + param(*f.overdue_at);
  }
  sql += " ORDER BY c.received_at DESC, c.id LIMIT " + param(static_cast<int64_t>(f.limit));
  LV_ASSIGN_OR_RETURN(auto r, exec(sql, params));
  std::vector<Complaint> out;
  for (auto& row : r.rows) out.push_back(row_complaint(row));
  return out;
}

Result<bool> ComplaintStore::update_status(const std::string& id, ComplaintStatus from, ComplaintStatus to, int64_t at,
                                           const std::string& resolution, const std::string& resolver) {
  SqlResult r;
  if (to == ComplaintStatus::kAcknowledged) {
    LV_ASSIGN_OR_RETURN(r, exec("UPDATE complaints SET status = ?3, acknowledged_at = ?4 WHERE id = ?1 AND status = ?2",
                                {id, status_name(from), status_name(to), at}));
  } else {
    LV_ASSIGN_OR_RETURN(r, exec("UPDATE complaints SET status = ?3, closed_at = ?4, resolution = ?5, resolver = ?6 "
                                "WHERE id = ?1 AND status = ?2",
                                {id, status_name(from), status_name(to), at, resolution, resolver}));
  }
  return r.changes == 1;
}

Result<bool> ComplaintStore::channel_public(int64_t repo_id) {
  LV_ASSIGN_OR_RETURN(auto r, exec("SELECT public FROM complaint_channels WHERE repo_id = ?1", {repo_id}));
  return !r.rows.empty() && to_i64(r.rows[0][0]) != 0;
}

Status ComplaintStore::set_channel_public(int64_t repo_id, bool open) {
  LV_RETURN_IF_ERROR(exec("INSERT INTO complaint_channels(repo_id, public) VALUES (?1, ?2) "
                          "ON CONFLICT(repo_id) DO UPDATE SET public = excluded.public",
                          {repo_id, int64_t(open)}));
  return Status::Ok();
}

Result<std::optional<std::string>> ComplaintStore::org_webhook(int64_t org_id) {
  LV_ASSIGN_OR_RETURN(auto r, exec("SELECT url FROM org_complaint_webhooks WHERE org_id = ?1", {org_id}));
  if (r.rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(to_s(r.rows[0][0]));
}

Status ComplaintStore::set_org_webhook(int64_t org_id, const std::string& url) {
  if (url.empty()) {
    LV_RETURN_IF_ERROR(exec("DELETE FROM org_complaint_webhooks WHERE org_id = ?1", {org_id}));
    return Status::Ok();
  }
  LV_RETURN_IF_ERROR(exec("INSERT INTO org_complaint_webhooks(org_id, url) VALUES (?1, ?2) "
                          "ON CONFLICT(org_id) DO UPDATE SET url = excluded.url",
                          {org_id, url}));
  return Status::Ok();
}

Result<std::vector<OverdueNotice>> ComplaintStore::pending_notices(int64_t now, size_t limit) {
  LV_ASSIGN_OR_RETURN(auto r, exec(std::string("SELECT ") + kComplaintCols +
                                       ", w.url FROM complaints c JOIN repos r ON r.id = c.repo_id "
                                       "JOIN org_complaint_webhooks w ON r.owner_kind = 'org' AND w.org_id = r.owner_id "
                                       "WHERE c.status IN ('received', 'acknowledged') AND c.due_at < ?1 "
                                       "AND c.notified_at = 0 ORDER BY c.due_at, c.id LIMIT ?2",
                                   {now, static_cast<int64_t>(limit)}));
  std::vector<OverdueNotice> out;
  for (auto& row : r.rows) out.push_back(OverdueNotice{row_complaint(row), to_s(row[18])});
  return out;
}

Result<bool> ComplaintStore::claim_notice(const std::string& id, int64_t at) {
  LV_ASSIGN_OR_RETURN(auto r, exec("UPDATE complaints SET notified_at = ?2 WHERE id = ?1 AND notified_at = 0", {id, at}));
  return r.changes == 1;
}

Status ComplaintStore::release_notice(const std::string& id) {
  LV_RETURN_IF_ERROR(exec("UPDATE complaints SET notified_at = 0 WHERE id = ?1", {id}));
  return Status::Ok();
}

}  // namespace lv::hub
