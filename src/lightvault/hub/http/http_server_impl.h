#pragma once
// Inside the hub's HTTP server, shared by the files that implement it and by nothing else:
//   http_server.cpp        request plumbing (authentication, errors, audit of refusals), request
//                          hygiene, routing, start and stop
//   http_hf_api.cpp        the Hugging Face-compatible read API
//   http_repo_routes.cpp   repositories: creation, uploads, commits, tags, grants, settings
//   http_admin_routes.cpp  identities, tokens, master keys, garbage collection, audit
//   http_content_routes.cpp  marking and detecting AI-generated content, watermark keys
//   http_compliance_routes.cpp  compliance reports, organizations' policies
// Only these files include httplib's server side. The rules (who may do what, what is audited,
// which transaction) live in the service layer (service/hub_service.h); the handlers here parse
// requests, call one use case, and map its result or error code to a status and JSON.
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "lightvault/hub/audit/catalog_audit.h"
#include "lightvault/hub/http/client_rate_limiter.h"
#include "lightvault/hub/http/http_connections.h"
#include "lightvault/hub/http/overdue_notifier.h"
#include "lightvault/hub/http/http_server.h"
#include "lightvault/hub/access/permissions.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/service/content_service.h"
#include "lightvault/hub/service/complaint_service.h"
#include "lightvault/hub/service/hub_service.h"
#include "lightvault/hub/access/tokens.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub {

namespace web {
class WebUi;
}

using json = nlohmann::json;

// The Content-Disposition of a download named `name` (RFC 6266, with RFC 5987 filename*).
std::string content_disposition(const std::string& name);

// "2026-01-31T12:00:00.000Z", as the Hugging Face Hub writes times.

// The HTTP status of a service error code.
int http_status(ErrorCode code);

// POST /api/lv/mark and /api/lv/detect: their bodies are content (images, text), not JSON.
bool is_content_route(const httplib::Request& req);

// A request body field of the wrong type. Thrown by HubServer::Impl::field, answered 400 with
// its message by the server's exception handler.
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Requests with a bad token are audited, but at most `per_second` of them get an entry (and an
// fsynced transaction) each second; the ones over that budget are counted, and the count goes
// into the next entry written, so the trail still says how many there were.
class AuditBudget {
 public:
  explicit AuditBudget(int per_second) : per_second_(per_second) {}
  // True if this event gets an entry; `suppressed` is then the number of events dropped since
  // the last entry. Thread-safe.
  bool admit(int64_t now_seconds, uint64_t& suppressed);

 private:
  const int per_second_;
  std::mutex mu_;
  int64_t second_ = 0;
  int used_ = 0;
  uint64_t dropped_ = 0;
};

// One request as the handlers see it.
struct Ctx {
  const httplib::Request& req;
  httplib::Response& res;
  std::string request_id;
  std::string client;  // address:port
  Principal who;
  Caller caller() const { return Caller{who, client, request_id}; }
};

struct HubServer::Impl {
  ServerOptions opt;
  std::unique_ptr<Catalog> catalog;
  std::shared_ptr<MasterKeyring> keyring;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<AuditWriter> audit;
  std::unique_ptr<HubService> service;
  std::unique_ptr<ContentService> content;
  std::unique_ptr<ComplaintService> complaints;
  std::unique_ptr<ClientRateLimiter> complaint_limiter;
  std::unique_ptr<OverdueNotifier> overdue_notifier;  // after `complaints`: stops before it goes
  std::string bootstrap_token;
  GatedHttpServer http;
  // Denials of callers without a valid token (bad tokens, refused requests) share this budget.
  AuditBudget unauthenticated_audits{20};
  std::thread thread;
  std::atomic<uint64_t> request_counter{0};
  std::string instance = crypto::random_hex(4);
  // The web interface (routes, sessions); see web/web_ui.h.
  std::unique_ptr<web::WebUi> web;
  ~Impl();

  // ---- plumbing (http_server.cpp)
  Ctx begin(const httplib::Request& req, httplib::Response& res);  // assigns the request id
  static std::string dump(const json& body);  // invalid UTF-8 replaced, never thrown
  static void send_json(httplib::Response& res, int status, const json& body);
  static void send_error(httplib::Response& res, int status, const std::string& message, const std::string& code = "");
  // Answers a service error: its code's status, its message, and its reason as X-Error-Code.
  static void send_failure(httplib::Response& res, const ServiceError& e);
  // Appends an entry; a failure to append is logged on stderr, not answered.
  void audit_event(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                   json details = json::object(), const std::string& org = "");
  // deny() for callers without a valid token: their audit entries come from a budget
  // (unauthenticated_audits), so flooding costs a bounded number of audit transactions.
  void deny_budgeted(Ctx& ctx, int status, const std::string& action, const std::string& resource,
                     const std::string& message, const std::string& code = "");
  // Refuses a request the adapter could not read (body, parameters): audited as denied through
  // the service, answered with a JSON error.
  void deny(Ctx& ctx, ServiceError error, const std::string& action, const std::string& resource,
            const std::string& org = "");

  // Bearer token -> principal. No header: anonymous (true). A bad token: 401, audited (false).
  // The pre-routing handler checks the token of every request before its body is read; a
  // handler's call then takes that result instead of checking again.
  bool authenticate(Ctx& ctx);
  bool check_token(Ctx& ctx);
  // Before routing: refuses a request whose body must not be read (compressed, oversized,
  // without a length on a JSON route, from an anonymous caller, ...). True if it answered.
  bool refuse_body(Ctx& ctx);
  // The request's JSON object body; nullopt after answering 413 or 400 (not JSON, not an
  // object, or nested deeper than kMaxJsonDepth).
  std::optional<json> parse_body(Ctx& ctx, const std::string& action);
  // j[key] if it is a string, else `def`.
  static std::string str(const json& j, const char* key, const std::string& def = "");
  // j[key] as T (bool, int64_t, uint64_t, std::string, json for an array/object), `def` when
  // absent or null; throws BadField naming the field when it has another type.
  template <class T>
  static T field(const json& j, const char* key, T def);

  // ---- setup (http_server.cpp)
  // Creates the user `admin` on the first start, with a token printed once or the one in
  // LIGHTVAULT_ADMIN_TOKEN.
  Status bootstrap_admin();
  void install_routes();  // request hygiene, then the three groups below

  // ---- the Hugging Face-compatible read API (http_hf_api.cpp)
  void hf_routes();
  void whoami(Ctx& ctx);
  void list_models(Ctx& ctx);
  void model_info(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, bool explicit_rev);
  void tree(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);
  void resolve(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);

  // ---- repositories (http_repo_routes.cpp)
  void repo_routes();
  void create_repo(Ctx& ctx);
  void upload(Ctx& ctx, const httplib::ContentReader& reader, const std::string& owner, const std::string& name);
  void commit(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& branch);
  void set_grant(Ctx& ctx, const std::string& owner, const std::string& name);

  // ---- identities, tokens, keys, garbage collection, audit (http_admin_routes.cpp)
  void admin_routes();

  // ---- content: mark, detect, watermark keys (http_content_routes.cpp)
  void content_routes();
  // ---- complaints (http_complaint_routes.cpp)
  void complaint_routes();
  // ---- compliance reports and organizations' policies (http_compliance_routes.cpp)
  void compliance_routes();
};

template <class T>
T HubServer::Impl::field(const json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  const char* want = nullptr;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) want = "true or false";
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->template get<uint64_t>() > INT64_MAX)) {
      want = "an integer";
    }
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    if (!it->is_number_unsigned()) want = "a non-negative integer";
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) want = "a string";
  } else {
    static_assert(std::is_same_v<T, json>);
    if (def.is_array() && !it->is_array()) want = "an array";
    if (def.is_object() && !it->is_object()) want = "an object";
  }
  if (want) throw BadField(std::string("request body: field '") + key + "' must be " + want);
  return it->template get<T>();
}

}  // namespace lv::hub
