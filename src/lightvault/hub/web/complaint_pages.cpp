// The HTML of the complaint pages (see complaint_pages.h).
#include "lightvault/hub/web/complaint_pages.h"

#include "lightvault/hub/web/html.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub::web {

namespace {

std::string repo_url(const std::string& full_name) {
  auto slash = full_name.find('/');
  return "/" + url_path(full_name.substr(0, slash)) + "/" + url_path(full_name.substr(slash + 1));
}

std::string csrf_field(const std::string& token) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + esc(token) + "\">";
}

std::string status_badge(const Complaint& c, int64_t now) {
  std::string status(to_string(c.status));
  std::string kind = c.open() ? "internal" : c.status == ComplaintStatus::kResolved ? "ok" : "role";
  std::string o = "<span class=\"badge badge-" + kind + "\">" + esc(status) + "</span>";
  if (c.overdue(now)) o += " <span class=\"badge badge-private\">overdue</span>";
  return o;
}

std::string facts(const Complaint& c) {
  std::string o = "<dl class=\"facts\"><dt>Received</dt><dd>" + esc(human_time(c.received_at)) + "</dd><dt>Answer due</dt><dd>" +
                  esc(human_time(c.due_at)) + "</dd>";
  if (c.acknowledged_at) o += "<dt>Acknowledged</dt><dd>" + esc(human_time(c.acknowledged_at)) + "</dd>";
  if (c.closed_at) {
    o += "<dt>" + std::string(c.status == ComplaintStatus::kResolved ? "Resolved" : "Rejected") + "</dt><dd>" +
         esc(human_time(c.closed_at)) + "</dd>";
  }
  return o + "</dl>";
}

}  // namespace

std::string complaint_form_page(const Frame& f, const Repo& repo, const std::string& form_token,
                                const ComplaintFormValues& v) {
  std::string action = repo_url(repo.full_name()) + "/complaints/new";
  return page(f, "<section class=\"card narrow\"><h1>Complaint about " + esc(repo.full_name()) + "</h1>"
                 "<p class=\"muted\">Tell the people responsible for this model what went wrong. They are asked to answer "
                 "within 72 hours. You need no account; you get a receipt with a secret to follow your complaint.</p>"
                 "<form action=\"" + action + "\" method=\"post\" class=\"stack\">" + csrf_field(form_token) +
                 "<label for=\"subject\">Subject</label><input id=\"subject\" name=\"subject\" required maxlength=\"" +
                 std::to_string(kMaxComplaintSubject) + "\" value=\"" + esc(v.subject) + "\">"
                 "<label for=\"text\">What happened</label><textarea id=\"text\" name=\"text\" required rows=\"10\" maxlength=\"" +
                 std::to_string(kMaxComplaintText) + "\">" + esc(v.text) + "</textarea>"
                 "<label for=\"contact\">How to reach you (optional)</label><input id=\"contact\" name=\"contact\" maxlength=\"" +
                 std::to_string(kMaxComplaintContact) + "\" autocomplete=\"email\" value=\"" + esc(v.contact) + "\">"
                 "<button type=\"submit\">Send complaint</button></form></section>");
}

std::string complaint_receipt_page(const Frame& f, const ComplaintReceipt& r) {
  const Complaint& c = r.complaint;
  std::string status_url = repo_url(c.repo) + "/complaints/" + url_path(c.id) + "?secret=" + url_query(r.secret);
  return page(f, "<section class=\"card narrow\"><h1>Complaint received</h1><p>Your complaint about <strong>" + esc(c.repo) +
                     "</strong> was received. An answer is due by <strong>" + esc(human_time(c.due_at)) +
                     "</strong> (72 hours).</p><dl class=\"facts\"><dt>Complaint id</dt><dd><code>" + esc(c.id) +
                     "</code></dd><dt>Due</dt><dd><code>" + esc(utc_rfc3339(c.due_at, true)) +
                     "</code></dd></dl><p>Keep this secret: with the id it shows where your complaint stands. It is shown "
                     "only this once.</p><input class=\"secret\" readonly aria-label=\"Secret\" value=\"" + esc(r.secret) +
                     "\"><p><a href=\"" + status_url + "\">Follow this complaint</a></p></section>");
}

std::string complaint_status_page(const Frame& f, const Complaint& c, int64_t now) {
  std::string o = "<section class=\"card narrow\"><h1>Complaint " + esc(c.id) + "</h1><p>About <strong>" + esc(c.repo) +
                  "</strong>: " + esc(c.subject) + "</p><p>" + status_badge(c, now) + "</p>" + facts(c);
  if (!c.resolution.empty()) o += "<h2>Answer</h2><p class=\"preview\">" + esc(c.resolution) + "</p>";
  return page(f, o + "</section>");
}

std::string complaints_page(const Frame& f, const ComplaintsView& v) {
  std::string base = repo_url(v.repo.full_name());
  size_t open = 0, overdue = 0;
  for (auto& c : v.complaints) {
    open += c.open();
    overdue += c.overdue(v.now);
  }
  std::string o = "<div class=\"page-head\"><h1>Complaints · <a href=\"" + base + "\">" + esc(v.repo.full_name()) +
                  "</a></h1><p class=\"muted\">" + std::to_string(v.complaints.size()) + " received · " + std::to_string(open) +
                  " open · " + std::to_string(overdue) + " overdue (answer within 72 hours)</p></div>";
  o += "<section class=\"card\"><h2>Who may complain</h2><form class=\"inline\" action=\"" + base +
       "/complaints/channel\" method=\"post\">" + csrf_field(f.csrf) + "<label for=\"public\">Complaint form</label>"
       "<select id=\"public\" name=\"public\"><option value=\"true\"" + (v.public_channel ? " selected" : "") +
       ">Anyone, without an account</option><option value=\"false\"" + (v.public_channel ? "" : " selected") +
       ">Only people who can read this model</option></select><button type=\"submit\">Save</button></form>"
       "<p class=\"muted\">The form: <a href=\"" + base + "/complaints/new\">" + base + "/complaints/new</a></p></section>";
  if (v.complaints.empty()) return page(f, o + "<section class=\"empty\"><p>No complaints.</p></section>");
  for (auto& c : v.complaints) {
    std::string action = base + "/complaints/" + url_path(c.id);
    o += "<section class=\"card complaint\" id=\"" + esc(c.id) + "\"><h2>" + esc(c.subject) + "</h2><p>" + status_badge(c, v.now) +
         " <code>" + esc(c.id) + "</code> from " + esc(c.complainant.empty() ? "an anonymous visitor" : c.complainant) +
         (c.contact.empty() ? "" : " · " + esc(c.contact)) + "</p>" + facts(c) + "<p class=\"preview\">" + esc(c.text) + "</p>";
    if (!c.open()) {
      o += "<h3>Answer</h3><p class=\"preview\">" + esc(c.resolution) + "</p><p class=\"muted\">by " + esc(c.resolver) + "</p>";
    } else {
      if (c.status == ComplaintStatus::kReceived) {
        o += "<form class=\"inline\" action=\"" + action + "\" method=\"post\">" + csrf_field(f.csrf) +
             "<input type=\"hidden\" name=\"status\" value=\"acknowledged\"><button type=\"submit\">Acknowledge</button></form>";
      }
      std::string field = "resolution-" + esc(c.id);
      o += "<form class=\"stack\" action=\"" + action + "\" method=\"post\">" + csrf_field(f.csrf) + "<label for=\"" + field +
           "\">Answer</label><textarea id=\"" + field + "\" name=\"resolution\" rows=\"3\" required maxlength=\"" +
           std::to_string(kMaxComplaintResolution) + "\"></textarea><div class=\"inline\">"
           "<button type=\"submit\" name=\"status\" value=\"resolved\">Resolve</button>"
           "<button class=\"danger\" type=\"submit\" name=\"status\" value=\"rejected\">Reject</button></div></form>";
    }
    o += "</section>";
  }
  return page(f, o);
}

}  // namespace lv::hub::web
