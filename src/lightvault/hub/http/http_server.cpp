// The hub's HTTP server: request plumbing, request hygiene, routing, start and stop (see
// http_server.h for the routes, http_server_impl.h for where each group lives).
#include "lightvault/hub/http/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <regex>
#include <string_view>

#include "lightvault/hub/storage/data_folder_keys.h"
#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/web/web_ui.h"

namespace lv::hub {

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;   // all request headers together
constexpr size_t kMaxHeaderValue = 8 * 1024;    // one header value
constexpr size_t kMaxJsonBody = 4 * 1024 * 1024;  // every route with a body but uploads
constexpr size_t kMaxComplaintBody = 256 * 1024;  // a complaint: its text in any encoding fits
constexpr size_t kMaxJsonDepth = 64;               // nested arrays/objects in a request body
constexpr auto kJsonBodyTime = std::chrono::seconds(30);  // to send a JSON body, in all
constexpr size_t kMaxContentBody = 32 * 1024 * 1024;      // an image or text to mark or check
constexpr auto kContentBodyTime = std::chrono::seconds(120);

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// True if arrays/objects in `text` nest deeper than `limit`: a linear scan that allocates
// nothing, so that a deep document is refused before any recursive code sees it.
bool nested_deeper_than(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// For the request log: control and non-ASCII bytes as \xNN, so a path cannot forge a line.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool is_upload(const httplib::Request& req) {
  static const std::regex upload_path(R"(/api/lv/models/[^/]+/[^/]+/upload)");
  return req.method == "POST" && std::regex_match(req.path, upload_path);
}

// Filing a complaint needs no account (service/complaint_service.h).
bool is_complaint_filing(const httplib::Request& req) { return req.method == "POST" && req.path == "/api/lv/complaints"; }

// The token check's result for the request this thread is serving: the pre-routing handler
// stores it, the route's handler takes it (httplib runs both on one thread, one request at a
// time, and pre-routing runs first for every routed request).
struct CheckedToken {
  const httplib::Request* req = nullptr;
  Principal who;
};
thread_local CheckedToken t_checked;

}  // namespace

// ------------------------------------------------------------------------------------------
// Request plumbing

Ctx HubServer::Impl::begin(const httplib::Request& req, httplib::Response& res) {
  Ctx ctx{req, res, res.get_header_value("X-Request-Id"), req.remote_addr + ":" + std::to_string(req.remote_port), {}};
  if (ctx.request_id.empty()) {
    ctx.request_id = instance + "-" + std::to_string(++request_counter);
    res.set_header("X-Request-Id", ctx.request_id);
  }
  return ctx;
}

// Responses echo request paths and parameters, which may be any bytes: invalid UTF-8 is
// replaced, not thrown (an exception in the error handler would end the process).
std::string HubServer::Impl::dump(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

void HubServer::Impl::send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void HubServer::Impl::send_error(httplib::Response& res, int status, const std::string& message,
                                 const std::string& code) {
  res.status = status;
  if (!code.empty()) res.set_header("X-Error-Code", code);
  if (!code.empty()) res.set_header("X-Error-Message", message);
  res.set_content(dump(json{{"error", message}}), "application/json");
}

// The statuses the audit trail has always recorded for refusals (service_error.h).
int http_status(ErrorCode code) { return audit_status(code); }

void HubServer::Impl::send_failure(httplib::Response& res, const ServiceError& e) {
  send_error(res, http_status(e.code), e.message, e.reason);
}

void HubServer::Impl::audit_event(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                                  json details, const std::string& org) {
  service->audit_event(ctx.caller(), action, resource, outcome, std::move(details), org);
}

void HubServer::Impl::deny(Ctx& ctx, ServiceError error, const std::string& action, const std::string& resource,
                           const std::string& org) {
  send_failure(ctx.res, service->refuse(ctx.caller(), action, resource, std::move(error), org));
}

bool AuditBudget::admit(int64_t now_seconds, uint64_t& suppressed) {
  std::lock_guard<std::mutex> l(mu_);
  if (now_seconds != second_) {
    second_ = now_seconds;
    used_ = 0;
  }
  if (used_ >= per_second_) {
    ++dropped_;
    return false;
  }
  ++used_;
  suppressed = dropped_;
  dropped_ = 0;
  return true;
}

void HubServer::Impl::deny_budgeted(Ctx& ctx, int status, const std::string& action, const std::string& resource,
                                    const std::string& message, const std::string& code) {
  uint64_t suppressed = 0;
  if (unauthenticated_audits.admit(static_cast<int64_t>(std::time(nullptr)), suppressed)) {
    json details{{"reason", message}, {"status", status}};
    if (suppressed > 0) details["suppressed"] = suppressed;
    audit_event(ctx, action, resource, kAuditDenied, std::move(details));
  }
  send_error(ctx.res, status, message, code);
}

bool HubServer::Impl::authenticate(Ctx& ctx) {
  if (t_checked.req == &ctx.req) {
    ctx.who = t_checked.who;
    return true;
  }
  return check_token(ctx);
}

bool HubServer::Impl::check_token(Ctx& ctx) {
  std::string auth = ctx.req.get_header_value("Authorization");
  if (auth.empty()) return true;
  std::string secret;
  if (lower(auth.substr(0, 7)) == "bearer ") secret = auth.substr(7);
  while (!secret.empty() && secret.back() == ' ') secret.pop_back();
  if (secret.empty()) {
    deny_budgeted(ctx, 401, "auth.token", ctx.req.path, "malformed Authorization header (expected: Bearer TOKEN)",
         "Unauthorized");
    return false;
  }
  auto a = authenticate_token(*catalog, secret);
  if (!a.ok()) {
    send_error(ctx.res, 500, a.error().message);
    return false;
  }
  if (a->check != TokenCheck::kOk) {
    const char* why = a->check == TokenCheck::kExpired   ? "token expired"
                      : a->check == TokenCheck::kRevoked ? "token revoked"
                                                         : "invalid token";
    if (a->token) ctx.who.token = a->token;  // audit which token was tried (never the secret)
    deny_budgeted(ctx, 401, "auth.token", ctx.req.path, why, "Unauthorized");
    ctx.who = {};
    return false;
  }
  ctx.who.user = a->user;
  ctx.who.token = a->token;
  ctx.who.scopes = a->token->scopes;
  return true;
}

bool HubServer::Impl::refuse_body(Ctx& ctx) {
  const httplib::Request& req = ctx.req;
  const bool complaint = is_complaint_filing(req) || web::WebUi::is_complaint_form(req);
  auto refuse = [&](int status, const std::string& message, const std::string& code = "") {
    ctx.res.set_header("Connection", "close");  // the body stays unread
    deny_budgeted(ctx, status, complaint ? "complaint.receive" : "http.request", req.path, message, code);
    return true;
  };
  std::string encoding = lower(req.get_header_value("Content-Encoding"));
  if (!encoding.empty() && encoding != "identity") {
    return refuse(415, "compressed request bodies are not accepted (Content-Encoding: " + printable(encoding) + ")");
  }
  if (req.get_header_value_count("Content-Length") > 1 || req.get_header_value_count("Transfer-Encoding") > 1) {
    return refuse(400, "more than one Content-Length or Transfer-Encoding header");
  }
  const bool chunked = req.has_header("Transfer-Encoding");
  if (chunked && lower(req.get_header_value("Transfer-Encoding")) != "chunked") {
    return refuse(501, "Transfer-Encoding other than chunked is not supported");
  }
  if (chunked && req.has_header("Content-Length")) return refuse(400, "both Content-Length and Transfer-Encoding");
  uint64_t length = 0;
  if (req.has_header("Content-Length")) {
    const std::string& v = req.get_header_value("Content-Length");
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      return refuse(400, "Content-Length must be a number of bytes");
    }
    length = std::stoull(v);
  }
  const bool takes_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE";
  if (!takes_body) {
    // httplib reads no body here: body bytes would be parsed as the next request.
    return chunked || length > 0 ? refuse(400, "a " + req.method + " request has no body") : false;
  }
  if (!chunked && length == 0) {
    // No length and not chunked means no body (RFC 9112 6.3); httplib would read to the end of
    // the connection.
    if (!req.has_header("Content-Length")) const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    return false;
  }
  if (!ctx.who.authenticated() && !web::WebUi::accepts_anonymous_body(req) && !complaint) {
    return refuse(401, "authentication required before a request body (Authorization: Bearer TOKEN)", "Unauthorized");
  }
  if (is_content_route(req)) {
    if (chunked) return refuse(411, "content to mark or check needs Content-Length (only uploads may be chunked)");
    if (length > kMaxContentBody) {
      return refuse(413, "request body too large: " + std::to_string(length) + " bytes (at most " +
                             std::to_string(kMaxContentBody) + ")");
    }
    limit_body_time(kContentBodyTime);
    return false;
  }
  if (!is_upload(req)) {
    if (chunked) return refuse(411, "a JSON request body needs Content-Length (only uploads may be chunked)");
    const size_t limit = complaint ? kMaxComplaintBody : kMaxJsonBody;
    if (length > limit) {
      return refuse(413, "request body too large: " + std::to_string(length) + " bytes (at most " +
                             std::to_string(limit) + ")");
    }
    limit_body_time(kJsonBodyTime);
  }
  return false;
}

std::optional<json> HubServer::Impl::parse_body(Ctx& ctx, const std::string& action) {
  if (ctx.req.body.size() > kMaxJsonBody) {
    deny(ctx, {ErrorCode::kTooLarge, "request body too large"}, action, ctx.req.path);
    return std::nullopt;
  }
  if (nested_deeper_than(ctx.req.body, kMaxJsonDepth)) {
    deny(ctx, {ErrorCode::kInvalid, "request body nests arrays/objects deeper than " + std::to_string(kMaxJsonDepth) + " levels"},
         action, ctx.req.path);
    return std::nullopt;
  }
  json body = json::parse(ctx.req.body.empty() ? std::string("{}") : ctx.req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    deny(ctx, {ErrorCode::kInvalid, "request body must be a JSON object"}, action, ctx.req.path);
    return std::nullopt;
  }
  return body;
}

std::string HubServer::Impl::str(const json& j, const char* key, const std::string& def) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : def;
}

Status HubServer::Impl::bootstrap_admin() {
  std::string env_token = opt.admin_token;
  if (env_token.empty()) {
    if (const char* e = std::getenv("LIGHTVAULT_ADMIN_TOKEN")) env_token = e;
  }
  AuditEntry base;
  base.actor = "lightvault";
  base.client = "local";
  base.request_id = "startup";
  return catalog->transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto admin, catalog->find_user("admin"));
    if (!admin) {
      LV_ASSIGN_OR_RETURN(auto created, catalog->create_user("admin", true));
      admin = created;
      AuditEntry e = base;
      e.action = "user.create";
      e.resource = "admin";
      e.outcome = kAuditAllowed;
      e.details = json{{"site_admin", true}, {"bootstrap", true}};
      auto r = audit->log().append(e);
      if (!r.ok()) return r.error();
      if (env_token.empty()) {
        LV_ASSIGN_OR_RETURN(auto issued,
                            issue_token(*catalog, *admin, "bootstrap", kScopeRead | kScopeWrite | kScopeAdmin, 0));
        bootstrap_token = issued.secret;
        AuditEntry t = base;
        t.action = "token.create";
        t.resource = "admin";
        t.outcome = kAuditAllowed;
        t.details = json{{"token_id", issued.token.id}, {"scopes", "admin"}, {"bootstrap", true}};
        auto r2 = audit->log().append(t);
        if (!r2.ok()) return r2.error();
      }
    }
    if (!env_token.empty()) {
      LV_ASSIGN_OR_RETURN(auto existing, catalog->find_token_by_hash(crypto::sha256_hex(env_token)));
      if (!existing) {
        // A new LIGHTVAULT_ADMIN_TOKEN replaces the one it held before.
        LV_ASSIGN_OR_RETURN(auto revoked, revoke_tokens_named(*catalog, admin->id, "LIGHTVAULT_ADMIN_TOKEN"));
        LV_ASSIGN_OR_RETURN(auto issued, issue_token(*catalog, *admin, "LIGHTVAULT_ADMIN_TOKEN",
                                                     kScopeRead | kScopeWrite | kScopeAdmin, 0, env_token));
        AuditEntry t = base;
        t.action = "token.create";
        t.resource = "admin";
        t.outcome = kAuditAllowed;
        t.details = json{{"token_id", issued.token.id}, {"scopes", "admin"}, {"source", "LIGHTVAULT_ADMIN_TOKEN"}};
        if (!revoked.empty()) t.details["revoked"] = revoked;
        auto r = audit->log().append(t);
        if (!r.ok()) return r.error();
      } else if (existing->user_id != admin->id) {
        return make_error("LIGHTVAULT_ADMIN_TOKEN", "this token belongs to user " + existing->user + ", not admin");
      }
    }
    return Status::Ok();
  });
}

// ------------------------------------------------------------------------------------------
// Routing and request hygiene

void HubServer::Impl::install_routes() {
  // Every request: a request id; path traversal, encoded slashes and oversized headers refused
  // before any handler runs (audited); httplib's own Range handling switched off (we answer
  // Range in the download handler, with 416 past the end).
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_checked = {};
    web::WebUi::new_request();
    Ctx ctx = begin(req, res);
    const_cast<httplib::Request&>(req).ranges.clear();
    size_t total = 0;
    for (auto& [k, v] : req.headers) {
      total += k.size() + v.size() + 4;
      if (v.size() > kMaxHeaderValue) {
        deny_budgeted(ctx, 431, "http.request", req.path, "request header " + k + " too large");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (total > kMaxHeaderBytes) {
      deny_budgeted(ctx, 431, "http.request", req.path, "request headers too large");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string raw_path = lower(req.target.substr(0, req.target.find('?')));
    if (raw_path.find("%2f") != std::string::npos || raw_path.find("%5c") != std::string::npos ||
        raw_path.find("%00") != std::string::npos) {
      deny_budgeted(ctx, 400, "http.request", req.target, "encoded slash, backslash or NUL in the request path",
                    "BadPath");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string& p = req.path;
    bool bad = p.empty() || p[0] != '/' || p.find('\\') != std::string::npos || p.find('\0') != std::string::npos;
    for (size_t start = 1; !bad && start <= p.size();) {
      size_t end = p.find('/', start);
      if (end == std::string::npos) end = p.size();
      std::string seg = p.substr(start, end - start);
      if (seg == "." || seg == "..") bad = true;
      start = end + 1;
    }
    if (bad) {
      deny_budgeted(ctx, 400, "http.request", req.target, "path traversal ('.' or '..' segment) in the request path",
                    "BadPath");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Who is asking, and whether their body may be read, before httplib reads any of it.
    if (!check_token(ctx)) {
      ctx.res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A page request without a bearer token: its caller is its browser session's, if any.
    if (!ctx.who.authenticated() && !req.has_header("Authorization")) {
      if (auto who = web->session_principal(req)) ctx.who = *who;
    }
    if (refuse_body(ctx)) return httplib::Server::HandlerResponse::Handled;
    t_checked = {&req, ctx.who};
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Errors httplib produces itself (no route, bad request line, unreadable headers, ...):
  // give them a JSON body.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
    // httplib answers 400 both for a bad request line and for a header line over its 8 KiB
    // limit. A request line it parsed (it sets the version last) and no request id (our
    // pre-routing never ran) leave only the headers: that is a 431.
    const bool headers_refused = res.status == 400 && !res.has_header("X-Request-Id") &&
                                 (req.version == "HTTP/1.1" || req.version == "HTTP/1.0") && !req.path.empty();
    if (headers_refused) {
      res.status = 431;
      res.set_header("Connection", "close");  // the rest of that line is still unread
    }
    {
      uint64_t suppressed = 0;
      Ctx ctx = begin(req, res);
      if (unauthenticated_audits.admit(static_cast<int64_t>(std::time(nullptr)), suppressed)) {
        json details{{"status", res.status}, {"reason", "rejected by the HTTP layer"}};
        if (suppressed > 0) details["suppressed"] = suppressed;
        audit_event(ctx, "http.request", req.path.empty() ? req.target : req.path, kAuditDenied, std::move(details));
      }
    }
    std::string msg = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                      : res.status == 431 ? "request header line too large"
                      : res.status == 400 ? "bad request (malformed request line or headers)"
                      : res.status == 413 ? "payload too large"
                      : res.status == 414 ? "request URI too long"
                      : res.status == 416 ? "invalid Range header"
                                          : "request failed";
    if (res.status == 404 && !res.has_header("X-Error-Code")) res.set_header("X-Error-Code", "EndpointNotFound");
    res.set_content(dump(json{{"error", msg}}), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  // A request body of the wrong shape is the client's error (400), anything else ours (500).
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const BadField& e) {
      return send_error(res, 400, e.what());
    } catch (const json::type_error&) {
      return send_error(res, 400, "request body: a field has the wrong type");
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    send_error(res, 500, what);
  });

  if (!opt.quiet) {
    http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::cerr << req.remote_addr << " " << printable(req.method) << " " << printable(req.path) << " " << res.status
                << " " << printable(res.get_header_value("X-Request-Id")) << "\n";
    });
  }
  http.set_default_headers({{"X-Content-Type-Options", "nosniff"}});

  hf_routes();
  repo_routes();
  admin_routes();
  content_routes();
  complaint_routes();
  compliance_routes();
  web = std::make_unique<web::WebUi>(*this, opt.web_session_seconds);
  web->install(http);  // after the API, whose routes take precedence
}

HubServer::Impl::~Impl() = default;

// ------------------------------------------------------------------------------------------

HubServer::HubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubServer::~HubServer() {
  stop();
}

Result<std::unique_ptr<HubServer>> HubServer::open(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  LV_ASSIGN_OR_RETURN(impl->catalog, Catalog::open(options.data_dir, options.catalog_url));
  KeyringOptions kopt;
  kopt.data_dir = options.data_dir;
  kopt.key_file = options.master_key_file;
  LV_ASSIGN_OR_RETURN(auto keys, open_data_folder_keys(*impl->catalog, kopt));
  impl->keyring = keys.keyring;
  BlobStoreOptions bopt;
  bopt.data_dir = options.data_dir;
  bopt.segment_size = options.segment_size;
  bopt.fsync = options.fsync;
  LV_ASSIGN_OR_RETURN(impl->blobs, BlobStore::open(bopt, impl->keyring));
  impl->audit = std::make_unique<AuditWriter>(*impl->catalog, keys.audit_key);
  crypto::secure_zero(keys.audit_key.data(), keys.audit_key.size());
  impl->service = std::make_unique<HubService>(*impl->catalog, *impl->blobs, *impl->keyring, *impl->audit);
  impl->content = std::make_unique<ContentService>(*impl->service, *impl->catalog, *impl->blobs, *impl->keyring,
                                                   *impl->audit, options.text_tokenizers);
  impl->complaints = std::make_unique<ComplaintService>(*impl->catalog, *impl->audit, *impl->service);
  impl->complaint_limiter = std::make_unique<ClientRateLimiter>(options.complaint_burst, options.complaint_refill_seconds);
  impl->overdue_notifier = std::make_unique<OverdueNotifier>(*impl->complaints, options.overdue_check_ms);
  LV_RETURN_IF_ERROR(impl->bootstrap_admin());
  ConnectionLimits limits;
  limits.workers = static_cast<size_t>(std::max(4, options.threads));
  limits.head_deadline_ms = std::max(100, options.head_deadline_ms);
  // Leave file descriptors for the catalog, the blob store and the listening socket.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    limits.max_connections = std::min<size_t>(limits.max_connections, files.rlim_cur * 3 / 4);
  }
  impl->http.set_limits(limits);
  // Answers go out as soon as they are written: with Nagle's algorithm a response written in
  // two pieces (head, then body) waits for the client's delayed ACK of the first, about 40 ms
  // on Linux, which was most of a page's time on loopback (bench/hub/pages.sh).
  impl->http.set_tcp_nodelay(true);
  impl->http.set_keep_alive_max_count(limits.keep_alive_max_requests);  // what the Keep-Alive header says
  impl->http.set_keep_alive_timeout(std::max(1, limits.head_deadline_ms / 1000));
  impl->install_routes();
  impl->overdue_notifier->start();
  return std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
}

const std::string& HubServer::bootstrap_token() const { return impl_->bootstrap_token; }
Catalog& HubServer::catalog() { return *impl_->catalog; }
BlobStore& HubServer::blobs() { return *impl_->blobs; }
AuditLog& HubServer::audit() { return impl_->audit->log(); }
HubService& HubServer::service() { return *impl_->service; }
ComplaintService& HubServer::complaints() { return *impl_->complaints; }

Result<int> HubServer::bind() {
  const std::string& listen = impl_->opt.listen;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error("--listen " + listen, "expected HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return make_error("--listen " + listen, "bad port");
  }
  if (port < 0 || port > 65535) return make_error("--listen " + listen, "bad port");
  if (port == 0) {
    int p = impl_->http.bind_to_any_port(host);
    if (p <= 0) return make_error("--listen " + listen, "cannot bind");
    impl_->http.widen_listen_backlog();
    return p;
  }
  if (!impl_->http.bind_to_port(host, port)) return make_error("--listen " + listen, "cannot bind (address in use?)");
  impl_->http.widen_listen_backlog();
  return port;
}

Status HubServer::run() {
  if (!impl_->http.listen_after_bind()) return make_error("serve", "server stopped with an error");
  return Status::Ok();
}

void HubServer::stop() {
  if (!impl_) return;
  impl_->overdue_notifier->stop();
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<int> HubServer::start_background() {
  LV_ASSIGN_OR_RETURN(int port, bind());
  impl_->thread = std::thread([this] { (void)impl_->http.listen_after_bind(); });
  while (!impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

}  // namespace lv::hub
