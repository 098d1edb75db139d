#pragma once
// The hub's web interface: its routes on the hub's HTTP server, browser sessions, CSRF
// checks and the security headers of every page. The server calls it at three points
// (http_server.cpp): install() registers the routes after the API's; session_principal()
// lets the pre-routing step take a page request's caller from its session cookie when it has
// no bearer token; accepts_anonymous_body() lets the sign-in form's body through.
//
// The session cookie (lv_session) is HttpOnly, SameSite=Lax, Path=/, Secure when the request
// came over TLS (X-Forwarded-Proto: https from the proxy that terminates it), and is never
// accepted on /api/ routes, so the JSON API cannot be driven cross-site with it. Every
// state-changing form carries the session's CSRF token; a POST without it, or with another
// session's, is answered 403 and changes nothing. The sign-in form is protected the same way
// by a double-submit token (cookie lv_login = form field).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/web/page_data.h"
#include "lightvault/hub/web/session_store.h"

namespace lv::hub::web {

struct ComplaintFormValues;

class WebUi {
 public:
  WebUi(HubServer::Impl& hub, int64_t session_seconds);

  void install(httplib::Server& http);
  // The principal of the request's live session (shared by every replica on the catalog):
  // nullopt for /api/ paths, without a cookie, for an ended or expired session, or when the
  // session's token was revoked or expired meanwhile.
  std::optional<Principal> session_principal(const httplib::Request& req);
  // Forgets the session looked up for the previous request this thread served; the
  // pre-routing step calls it first thing.
  static void new_request();
  // The sign-in form is the one body read from a caller with neither token nor session.
  static bool accepts_anonymous_body(const httplib::Request& req);
  // The public complaint form's POST (/{owner}/{name}/complaints/new): read without a session,
  // limited like the API's complaint route.
  static bool is_complaint_form(const httplib::Request& req);

 private:
  struct Request;
  // The request's live session (cookie lv_session), looked up once per request.
  std::optional<Session> find_session(const httplib::Request& req);
  Request begin(const httplib::Request& req, httplib::Response& res);
  // False after answering 403 when the form's csrf field is not this session's token.
  bool check_csrf(Request& r);
  void send_page(Request& r, int status, const std::string& html);
  void send_problem(Request& r, const Problem& p);
  void redirect(Request& r, const std::string& to);

  void home(Request& r);
  void login_form(Request& r);
  void login(Request& r);
  void logout(Request& r);
  void repo(Request& r, const std::string& owner, const std::string& name);
  void tree(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& dir);
  void blob(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);
  void report(Request& r, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);
  void compliance(Request& r, const std::string& owner, const std::string& name);
  void commits(Request& r, const std::string& owner, const std::string& name, const std::string& rev);
  void settings(Request& r, const std::string& owner, const std::string& name, const std::string& notice = "",
                const std::string& error = "", int status = 200);
  void org(Request& r, const std::string& org, const std::string& notice = "", const std::string& error = "", int status = 200);
  void tokens(Request& r, const std::optional<IssuedToken>& created = std::nullopt, const std::string& error = "", int status = 200);
  void audit(Request& r);
  void audit_export(Request& r);
  // Complaints: the public form (filed without a session, protected by a double-submit token
  // in cookie lv_complaint), and the administrators' list with its forms.
  void complaint_form(Request& r, const std::string& owner, const std::string& name, const ComplaintFormValues& values,
                      const std::string& error = "", int status = 200);
  void file_complaint(Request& r, const std::string& owner, const std::string& name);
  void complaints(Request& r, const std::string& owner, const std::string& name, const std::string& error = "",
                  int status = 200);

  HubServer::Impl& hub_;
  PageData data_;
  SessionStore sessions_;
};

}  // namespace lv::hub::web
