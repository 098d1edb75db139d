// The hub's web interface: routes, sessions, CSRF and headers (see web_ui.h).
#include "lightvault/hub/web/web_ui.h"

#include <algorithm>
#include <regex>
#include <cstdio>

#include "lightvault/hub/web/complaint_pages.h"
#include "lightvault/hub/web/compliance_html.h"
#include "lightvault/hub/web/html.h"
#include "lightvault/hub/web/pages.h"
#include "lightvault/hub/web/web_assets.h"  // generated from assets/ by CMake (embed_assets.cmake)

namespace lv::hub::web {

namespace {

constexpr const char* kSessionCookie = "lv_session";
constexpr const char* kLoginCookie = "lv_login";
constexpr const char* kComplaintCookie = "lv_complaint";

// Pages allow only their own origin, and may not be framed; the compression report is framed
// by its repository page, sandboxed (no script, no same-origin access), with inline styles
// and data: images only.
constexpr const char* kPageCsp =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
constexpr const char* kReportCsp =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

std::string cookie_value(const httplib::Request& req, const std::string& name) {
  for (size_t i = 0, n = req.get_header_value_count("Cookie"); i < n; ++i) {
    std::string header = req.get_header_value("Cookie", i);
    size_t pos = 0;
    while (pos < header.size()) {
      size_t end = header.find(';', pos);
      if (end == std::string::npos) end = header.size();
      std::string part = header.substr(pos, end - pos);
      size_t a = part.find_first_not_of(' ');
      if (a != std::string::npos) part = part.substr(a);
      if (part.compare(0, name.size() + 1, name + "=") == 0) return part.substr(name.size() + 1);
      pos = end + 1;
    }
  }
  return "";
}

bool over_tls(const httplib::Request& req) { return req.get_header_value("X-Forwarded-Proto") == "https"; }

std::string cookie(const httplib::Request& req, const std::string& name, const std::string& value, int64_t max_age) {
  return name + "=" + value + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age) +
         (over_tls(req) ? "; Secure" : "");
}

bool is_api(const std::string& path) { return path.compare(0, 5, "/api/") == 0 || path == "/api"; }

// A local path to go back to after signing in: "/..." but not "//host" or "/\host".
std::string safe_next(const std::string& next) {
  if (next.size() < 1 || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return "/";
  if (next.find_first_of("\r\n") != std::string::npos) return "/";
  return next;
}

int status_of(Refusal r) {
  switch (r) {
    case Refusal::kNotFound: return 404;
    case Refusal::kForbidden: return 403;
    case Refusal::kInvalid: return 400;
    case Refusal::kConflict: return 409;
    case Refusal::kInternal: return 500;
  }
  return 500;
}

std::string notice_for(const std::string& code) {
  if (code == "visibility") return "Visibility saved.";
  if (code == "grant") return "Access updated.";
  if (code == "member") return "Members updated.";
  if (code == "team") return "Team updated.";
  if (code == "revoked") return "Token revoked.";
  if (code == "complaint") return "Complaint updated.";
  if (code == "channel") return "Complaint form updated.";
  return "";
}

}  // namespace

struct WebUi::Request {
  const httplib::Request& req;
  httplib::Response& res;
  Ctx ctx;
  std::optional<Session> session;
  Frame frame;
  // The route pattern's capture i ("" when that optional group did not match).
  std::string part(size_t i) const { return i < req.matches.size() ? std::string(req.matches[i]) : ""; }
};

WebUi::WebUi(HubServer::Impl& hub, int64_t session_seconds)
    : hub_(hub), data_(hub), sessions_(*hub.catalog, session_seconds) {}

bool WebUi::accepts_anonymous_body(const httplib::Request& req) { return req.method == "POST" && req.path == "/login"; }

bool WebUi::is_complaint_form(const httplib::Request& req) {
  static const std::regex form(R"(/[^/]+/[^/]+/complaints/new)");
  return req.method == "POST" && !is_api(req.path) && std::regex_match(req.path, form);
}

// The session the pre-routing step found for the request this thread serves, so that the
// page's handler does not ask the catalog again (httplib runs a request on one thread).
namespace {
thread_local const httplib::Request* t_session_request = nullptr;
thread_local std::optional<Session> t_session;
}  // namespace

std::optional<Session> WebUi::find_session(const httplib::Request& req) {
  if (t_session_request == &req) return t_session;
  auto found = sessions_.find(cookie_value(req, kSessionCookie));
  if (!found.ok()) {
    // Signed out for this request; the page still answers.
    std::fprintf(stderr, "lightvault: web session lookup failed: %s\n", found.error().message.c_str());
    return std::nullopt;
  }
  return *found;
}

void WebUi::new_request() {
  t_session_request = nullptr;
  t_session.reset();
}

std::optional<Principal> WebUi::session_principal(const httplib::Request& req) {
  if (is_api(req.path) || cookie_value(req, kSessionCookie).empty()) return std::nullopt;
  // The session's user and token as stored now: none once the token is revoked or expired.
  t_session = find_session(req);
  t_session_request = &req;
  if (!t_session) return std::nullopt;
  return t_session->who;
}

WebUi::Request WebUi::begin(const httplib::Request& req, httplib::Response& res) {
  Request r{req, res, hub_.begin(req, res), std::nullopt, {}};
  (void)hub_.authenticate(r.ctx);  // the pre-routing step already took the token or session
  res.set_header("Content-Security-Policy", kPageCsp);
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_header("Cache-Control", "no-store");
  if (auto s = find_session(req); s && r.ctx.who.authenticated() && s->who.token && r.ctx.who.token &&
                                   s->who.token->id == r.ctx.who.token->id) {
    r.session = s;
    r.frame.csrf = s->csrf;
  }
  if (r.ctx.who.authenticated()) {
    r.frame.user = r.ctx.who.name();
    bool admin_scope = r.ctx.who.scopes & kScopeAdmin;
    r.frame.audit_link = admin_scope && r.ctx.who.user->site_admin;
    for (auto& m : data_.memberships(r.ctx.who)) {
      r.frame.orgs.push_back(m.org);
      if (admin_scope && (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin)) r.frame.audit_link = true;
    }
  }
  r.frame.notice = notice_for(req.get_param_value("done"));
  return r;
}

bool WebUi::check_csrf(Request& r) {
  if (r.session && SessionStore::csrf_matches(*r.session, r.req.get_param_value("csrf"))) return true;
  hub_.audit_event(r.ctx, "web.csrf", r.req.path, kAuditDenied,
                   nlohmann::json{{"reason", "missing or wrong CSRF token"}, {"via", "web"}});
  r.frame.title = "Forbidden";
  send_page(r, 403, error_page(r.frame, 403, "This form has expired or did not come from this site. Reload the page and try again."));
  return false;
}

void WebUi::send_page(Request& r, int status, const std::string& html) {
  r.res.status = status;
  r.res.set_content(html, "text/html; charset=utf-8");
}

void WebUi::send_problem(Request& r, const Problem& p) {
  int status = status_of(p.refusal);
  r.frame.title = status == 404 ? "Not found" : status == 403 ? "Forbidden" : "Error";
  send_page(r, status, error_page(r.frame, status, p.message));
}

void WebUi::redirect(Request& r, const std::string& to) {
  r.res.status = 303;
  r.res.set_header("Location", to);
}

// ------------------------------------------------------------------------------------------

void WebUi::install(httplib::Server& http) {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;
  // Every page starts from begin(): the session, the frame and the response it answers with.
  auto page = [this](auto handler) {
    return [this, handler](Req req, Res res) {
      auto r = begin(req, res);
      handler(r);
    };
  };
  http.Get("/static/style.css", [](Req, Res res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(std::string(kStyleCss, sizeof(kStyleCss) - 1), "text/css; charset=utf-8");
  });
  http.Get(kComplianceCssPath, [](Req, Res res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(compliance_css(), "text/css; charset=utf-8");
  });
  http.Get("/", page([this](Request& r) { home(r); }));
  http.Get("/login", page([this](Request& r) { login_form(r); }));
  http.Post("/login", page([this](Request& r) { login(r); }));
  http.Get("/logout", page([this](Request& r) {
    r.frame.title = "Sign out";
    send_page(r, 200, logout_page(r.frame));
  }));
  http.Post("/logout", page([this](Request& r) { logout(r); }));
  http.Get("/settings/tokens", page([this](Request& r) { tokens(r); }));
  http.Post("/settings/tokens", page([this](Request& r) {
    if (!check_csrf(r)) return;
    int64_t days = 0;
    try {
      days = std::stoll(r.req.get_param_value("expires_days"));
    } catch (...) {
      days = -1;
    }
    if (days < 0 || days > 36500) return tokens(r, std::nullopt, "Pick when the token expires.", 400);
    auto created = data_.create_token(r.ctx, r.req.get_param_value("name"), r.req.get_param_value("scopes"), days * 86400);
    if (auto* p = std::get_if<Problem>(&created)) return tokens(r, std::nullopt, p->message, status_of(p->refusal));
    tokens(r, std::get<IssuedToken>(created));
  }));
  http.Post("/settings/tokens/revoke", page([this](Request& r) {
    if (!check_csrf(r)) return;
    std::string id = r.req.get_param_value("id");
    auto done = data_.revoke_token(r.ctx, id);
    if (auto* p = std::get_if<Problem>(&done)) return tokens(r, std::nullopt, p->message, status_of(p->refusal));
    // The revocation ended the token's sessions with it (HubService::revoke_token).
    bool own = r.ctx.who.token && r.ctx.who.token->id == id;
    redirect(r, own ? "/login" : "/settings/tokens?done=revoked");
  }));
  http.Get("/audit", page([this](Request& r) { audit(r); }));
  http.Get("/audit/export", page([this](Request& r) { audit_export(r); }));
  http.Get(R"(/orgs/([^/]+))", page([this](Request& r) { org(r, r.part(1)); }));
  http.Post(R"(/orgs/([^/]+)/(members|members/remove|teams|teams/members))", page([this](Request& r) {
    if (!check_csrf(r)) return;
    std::string o = r.part(1), what = r.part(2);
    Answer<Done> done = Done{};
    if (what == "members") {
      done = data_.set_member(r.ctx, o, r.req.get_param_value("user"), r.req.get_param_value("role"));
    } else if (what == "members/remove") {
      done = data_.remove_member(r.ctx, o, r.req.get_param_value("user"));
    } else if (what == "teams") {
      done = data_.create_team(r.ctx, o, r.req.get_param_value("team"));
    } else {
      done = data_.set_team_member(r.ctx, o, r.req.get_param_value("team"), r.req.get_param_value("user"),
                                   r.req.get_param_value("op") != "remove");
    }
    // The page again with the reason (or its own 404 for an organization the viewer may not see).
    if (auto* p = std::get_if<Problem>(&done)) return org(r, o, "", p->message, status_of(p->refusal));
    redirect(r, "/orgs/" + url_path(o) + "?done=" + (what.rfind("teams", 0) == 0 ? "team" : "member"));
  }));

  const std::string repo_re = R"(/([^/]+)/([^/]+))";
  http.Get(repo_re, page([this](Request& r) { repo(r, r.part(1), r.part(2)); }));
  http.Get(repo_re + R"(/tree/([^/]+)(?:/(.*))?)", page([this](Request& r) {
    std::string dir = r.part(4);
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    tree(r, r.part(1), r.part(2), r.part(3), dir);
  }));
  http.Get(repo_re + R"(/blob/([^/]+)/(.+))", page([this](Request& r) { blob(r, r.part(1), r.part(2), r.part(3), r.part(4)); }));
  http.Get(repo_re + R"(/report/([^/]+)/(.+\.report\.html))", page([this](Request& r) { report(r, r.part(1), r.part(2), r.part(3), r.part(4)); }));
  http.Get(repo_re + R"(/commits/([^/]+))", page([this](Request& r) { commits(r, r.part(1), r.part(2), r.part(3)); }));
  http.Get(repo_re + "/compliance", page([this](Request& r) { compliance(r, r.part(1), r.part(2)); }));
  http.Get(repo_re + "/settings", page([this](Request& r) { settings(r, r.part(1), r.part(2)); }));
  http.Get(repo_re + "/complaints/new", page([this](Request& r) { complaint_form(r, r.part(1), r.part(2), ComplaintFormValues{}); }));
  http.Post(repo_re + "/complaints/new", page([this](Request& r) { file_complaint(r, r.part(1), r.part(2)); }));
  http.Get(repo_re + R"(/complaints/(cmp_[0-9a-f]+))", page([this](Request& r) {
    auto c = data_.complaint_status(r.part(3), r.req.get_param_value("secret"));
    if (auto* p = std::get_if<Problem>(&c)) return send_problem(r, *p);
    r.frame.title = "Complaint";
    send_page(r, 200, complaint_status_page(r.frame, std::get<Complaint>(c), now_unix()));
  }));
  http.Get(repo_re + "/complaints", page([this](Request& r) { complaints(r, r.part(1), r.part(2)); }));
  http.Post(repo_re + R"(/complaints/(channel|cmp_[0-9a-f]+))", page([this](Request& r) {
    if (!check_csrf(r)) return;
    std::string owner = r.part(1), name = r.part(2), what = r.part(3);
    auto done = what == "channel"
                    ? data_.set_complaint_channel(r.ctx, owner, name, r.req.get_param_value("public") == "true")
                    : data_.decide_complaint(r.ctx, what, r.req.get_param_value("status"), r.req.get_param_value("resolution"));
    if (auto* p = std::get_if<Problem>(&done)) return complaints(r, owner, name, p->message, status_of(p->refusal));
    redirect(r, "/" + url_path(owner) + "/" + url_path(name) + "/complaints?done=" + (what == "channel" ? "channel" : "complaint"));
  }));
  http.Post(repo_re + "/settings/(grants|visibility)", page([this](Request& r) {
    if (!check_csrf(r)) return;
    std::string owner = r.part(1), name = r.part(2), what = r.part(3);
    auto done = what == "grants"
                    ? data_.set_grant(r.ctx, owner, name, r.req.get_param_value("subject"), r.req.get_param_value("role"))
                    : data_.set_visibility(r.ctx, owner, name, r.req.get_param_value("visibility"));
    // The form again with the reason; settings() itself answers 404 or 403 to those who may not
    // see or manage the repository.
    if (auto* p = std::get_if<Problem>(&done)) return settings(r, owner, name, "", p->message, status_of(p->refusal));
    redirect(r, "/" + url_path(owner) + "/" + url_path(name) + "/settings?done=" + (what == "grants" ? "grant" : "visibility"));
  }));
}

// ------------------------------------------------------------------------------------------

void WebUi::home(Request& r) {
  r.frame.query = r.req.get_param_value("q");
  r.frame.title = "Models";
  auto repos = data_.visible_models(r.ctx, r.frame.query);
  if (auto* p = std::get_if<Problem>(&repos)) return send_problem(r, *p);
  send_page(r, 200, home_page(r.frame, std::get<std::vector<Repo>>(repos)));
}

void WebUi::login_form(Request& r) {
  std::string token = crypto::random_hex(32);
  r.res.set_header("Set-Cookie", cookie(r.req, kLoginCookie, token, 3600));
  r.frame.title = "Sign in";
  send_page(r, 200, login_page(r.frame, token, safe_next(r.req.get_param_value("next"))));
}

void WebUi::login(Request& r) {
  std::string expected = cookie_value(r.req, kLoginCookie), submitted = r.req.get_param_value("csrf");
  bool form_ok = expected.size() == 64 && submitted.size() == 64 &&
                 crypto::ct_equal(crypto::as_bytes(expected), crypto::as_bytes(submitted));
  if (!form_ok) {
    hub_.audit_event(r.ctx, "web.csrf", r.req.path, kAuditDenied,
                     nlohmann::json{{"reason", "missing or wrong sign-in form token"}, {"via", "web"}});
    r.frame.title = "Forbidden";
    return send_page(r, 403, error_page(r.frame, 403, "The sign-in form has expired. Open the sign-in page again."));
  }
  auto who = data_.sign_in(r.ctx, r.req.get_param_value("token"));
  if (auto* p = std::get_if<Problem>(&who)) {
    r.frame.error = p->message;
    std::string token = crypto::random_hex(32);
    r.res.set_header("Set-Cookie", cookie(r.req, kLoginCookie, token, 3600));
    r.frame.title = "Sign in";
    return send_page(r, status_of(p->refusal), login_page(r.frame, token, safe_next(r.req.get_param_value("next"))));
  }
  // A fresh id on every sign-in: a session id planted before it is worth nothing.
  Status ended = sessions_.end(cookie_value(r.req, kSessionCookie));
  auto started = ended.ok() ? sessions_.start(std::get<Principal>(who)) : Result<Session>(ended.error());
  if (!started.ok()) return send_problem(r, Problem{Refusal::kInternal, "could not start a session: " + started.error().message});
  const Session& s = *started;
  r.res.set_header("Set-Cookie", cookie(r.req, kSessionCookie, s.id, std::max<int64_t>(1, s.expires_at - now_unix())));
  r.res.headers.emplace("Set-Cookie", cookie(r.req, kLoginCookie, "", 0));
  redirect(r, safe_next(r.req.get_param_value("next")));
}

void WebUi::logout(Request& r) {
  if (!r.session) {  // nothing to end; no state changes
    r.res.set_header("Set-Cookie", cookie(r.req, kSessionCookie, "", 0));
    return redirect(r, "/");
  }
  if (!check_csrf(r)) return;
  if (Status ended = sessions_.end(r.session->id); !ended.ok()) {
    return send_problem(r, Problem{Refusal::kInternal, "could not end the session: " + ended.error().message});
  }
  data_.audit_sign_out(r.ctx);
  r.res.set_header("Set-Cookie", cookie(r.req, kSessionCookie, "", 0));
  redirect(r, "/");
}

void WebUi::repo(Request& r, const std::string& owner, const std::string& name) {
  if (owner == "api") return HubServer::Impl::send_error(r.res, 404, "no such endpoint: GET " + r.req.path, "EndpointNotFound");
  std::string rev = r.req.has_param("rev") ? r.req.get_param_value("rev") : "main";
  auto view = data_.repo_view(r.ctx, owner, name, rev);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  r.frame.title = owner + "/" + name;
  send_page(r, 200, repo_page(r.frame, std::get<RepoView>(view), rev));
}

void WebUi::tree(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& dir) {
  auto view = data_.repo_view(r.ctx, owner, name, rev);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  r.frame.title = owner + "/" + name + (dir.empty() ? "" : " · " + dir);
  send_page(r, 200, tree_page(r.frame, std::get<RepoView>(view), rev, dir));
}

void WebUi::blob(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path) {
  auto view = data_.blob(r.ctx, owner, name, rev, path, kMaxPreview);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  auto& b = std::get<BlobView>(view);
  r.frame.title = path + " · " + owner + "/" + name;
  send_page(r, 200, blob_page(r.frame, b, rev, b.role));
}

void WebUi::report(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path) {
  auto view = data_.blob(r.ctx, owner, name, rev, path, 16 << 20);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  r.res.headers.erase("Content-Security-Policy");  // the page's, set by begin()
  r.res.headers.erase("X-Frame-Options");
  r.res.set_header("Content-Security-Policy", kReportCsp);
  r.res.set_header("X-Frame-Options", "SAMEORIGIN");
  r.res.status = 200;
  r.res.set_content(std::get<BlobView>(view).head, "text/html; charset=utf-8");
}

void WebUi::commits(Request& r, const std::string& owner, const std::string& name, const std::string& rev) {
  auto view = data_.repo_view(r.ctx, owner, name, rev);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  auto list = data_.commits(r.ctx, owner, name, rev);
  if (auto* p = std::get_if<Problem>(&list)) return send_problem(r, *p);
  r.frame.title = "History · " + owner + "/" + name;
  send_page(r, 200, commits_page(r.frame, std::get<RepoView>(view), std::get<std::vector<Commit>>(list), rev));
}

void WebUi::compliance(Request& r, const std::string& owner, const std::string& name) {
  std::string rev = r.req.has_param("rev") ? r.req.get_param_value("rev") : "main";
  auto view = data_.compliance_report(r.ctx, owner, name, rev);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  r.frame.title = "Compliance · " + owner + "/" + name;
  send_page(r, 200, compliance_page(r.frame, std::get<ComplianceView>(view), rev));
}

void WebUi::settings(Request& r, const std::string& owner, const std::string& name, const std::string& notice,
                     const std::string& error, int status) {
  auto view = data_.access(r.ctx, owner, name);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  if (!notice.empty()) r.frame.notice = notice;
  r.frame.error = error;
  r.frame.title = "Settings · " + owner + "/" + name;
  send_page(r, status, settings_page(r.frame, std::get<AccessView>(view)));
}

void WebUi::org(Request& r, const std::string& org, const std::string& notice, const std::string& error, int status) {
  auto view = data_.org(r.ctx, org);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  if (!notice.empty()) r.frame.notice = notice;
  r.frame.error = error;
  r.frame.title = org;
  send_page(r, status, org_page(r.frame, std::get<OrgView>(view)));
}

void WebUi::tokens(Request& r, const std::optional<IssuedToken>& created, const std::string& error, int status) {
  if (!r.ctx.who.authenticated()) return redirect(r, "/login?next=%2Fsettings%2Ftokens");
  auto list = data_.own_tokens(r.ctx);
  if (auto* p = std::get_if<Problem>(&list)) return send_problem(r, *p);
  r.frame.error = error;
  r.frame.title = "Tokens";
  send_page(r, status, tokens_page(r.frame, std::get<std::vector<Token>>(list), created, r.ctx.who.scopes));
}

namespace {

AuditQuery audit_query(const httplib::Request& req) {
  AuditQuery q;
  q.actor = req.get_param_value("actor");
  q.action = req.get_param_value("action");
  q.repository = req.get_param_value("repository");
  q.outcome = req.get_param_value("outcome");
  q.since = req.get_param_value("since");
  q.until = req.get_param_value("until");
  try {
    if (req.has_param("before")) q.before_seq = std::max<int64_t>(0, std::stoll(req.get_param_value("before")));
  } catch (...) {
    q.before_seq = 0;
  }
  return q;
}

}  // namespace

void WebUi::audit(Request& r) {
  if (!r.ctx.who.authenticated()) return redirect(r, "/login?next=%2Faudit");
  AuditQuery q = audit_query(r.req);
  auto page = data_.audit(r.ctx, q);
  if (auto* p = std::get_if<Problem>(&page)) return send_problem(r, *p);
  r.frame.title = "Audit trail";
  send_page(r, 200, audit_page(r.frame, std::get<AuditPage>(page), q));
}

void WebUi::audit_export(Request& r) {
  if (!r.ctx.who.authenticated()) return redirect(r, "/login?next=%2Faudit");
  auto lines = data_.audit_export(r.ctx, audit_query(r.req));
  if (auto* p = std::get_if<Problem>(&lines)) return send_problem(r, *p);
  r.res.set_header("Content-Disposition", "attachment; filename=\"audit.jsonl\"");
  r.res.status = 200;
  r.res.set_content(std::get<std::string>(lines), "application/x-ndjson");
}

// ------------------------------------------------------------------------------------------
// Complaints

void WebUi::complaint_form(Request& r, const std::string& owner, const std::string& name, const ComplaintFormValues& values,
                           const std::string& error, int status) {
  auto repo = data_.complaint_target(r.ctx, owner, name);
  if (auto* p = std::get_if<Problem>(&repo)) return send_problem(r, *p);
  std::string token = crypto::random_hex(32);
  r.res.set_header("Set-Cookie", cookie(r.req, kComplaintCookie, token, 3600));
  r.frame.error = error;
  r.frame.title = "Complaint · " + owner + "/" + name;
  send_page(r, status, complaint_form_page(r.frame, std::get<Repo>(repo), token, values));
}

void WebUi::file_complaint(Request& r, const std::string& owner, const std::string& name) {
  const std::string resource = owner + "/" + name;
  // Limited per address like the API's route: the form needs no account either.
  if (int64_t wait = hub_.complaint_limiter->admit(r.req.remote_addr, now_unix()); wait > 0) {
    uint64_t suppressed = 0;
    if (hub_.unauthenticated_audits.admit(now_unix(), suppressed)) {
      nlohmann::json details{{"reason", "too many complaints from this address"}, {"status", 429}, {"via", "web"}};
      if (suppressed > 0) details["suppressed"] = suppressed;
      hub_.audit_event(r.ctx, "complaint.receive", resource, kAuditDenied, details);
    }
    r.res.set_header("Retry-After", std::to_string(wait));
    r.frame.title = "Too many complaints";
    return send_page(r, 429, error_page(r.frame, 429, "Too many complaints from this address. Try again in " +
                                                          std::to_string(wait) + " seconds."));
  }
  std::string expected = cookie_value(r.req, kComplaintCookie), submitted = r.req.get_param_value("csrf");
  if (!(expected.size() == 64 && submitted.size() == 64 &&
        crypto::ct_equal(crypto::as_bytes(expected), crypto::as_bytes(submitted)))) {
    hub_.audit_event(r.ctx, "web.csrf", r.req.path, kAuditDenied,
                     nlohmann::json{{"reason", "missing or wrong complaint form token"}, {"via", "web"}});
    r.frame.title = "Forbidden";
    return send_page(r, 403, error_page(r.frame, 403, "The complaint form has expired. Open it again."));
  }
  ComplaintFormValues values{r.req.get_param_value("subject"), r.req.get_param_value("text"), r.req.get_param_value("contact")};
  auto receipt = data_.file_complaint(r.ctx, ComplaintRequest{resource, values.subject, values.text, values.contact});
  if (auto* p = std::get_if<Problem>(&receipt)) {
    if (p->refusal == Refusal::kNotFound) return send_problem(r, *p);
    return complaint_form(r, owner, name, values, p->message, status_of(p->refusal));
  }
  r.res.set_header("Set-Cookie", cookie(r.req, kComplaintCookie, "", 0));  // one form, one complaint
  r.frame.title = "Complaint received";
  send_page(r, 200, complaint_receipt_page(r.frame, std::get<ComplaintReceipt>(receipt)));
}

void WebUi::complaints(Request& r, const std::string& owner, const std::string& name, const std::string& error, int status) {
  auto view = data_.complaints(r.ctx, owner, name);
  if (auto* p = std::get_if<Problem>(&view)) return send_problem(r, *p);
  r.frame.error = error;
  r.frame.title = "Complaints · " + owner + "/" + name;
  send_page(r, status, complaints_page(r.frame, std::get<ComplaintsView>(view)));
}

}  // namespace lv::hub::web
