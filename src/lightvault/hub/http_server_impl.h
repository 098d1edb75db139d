#pragma once
// Inside the hub's HTTP server, shared by the files that implement it and by nothing else:
//   http_server.cpp        request plumbing (authentication, authorization, audit), request
//                          hygiene, routing, start and stop
//   http_hf_api.cpp        the Hugging Face-compatible read API
//   http_repo_routes.cpp   repositories: creation, uploads, commits, tags, grants, settings
//   http_admin_routes.cpp  identities, tokens, master keys, garbage collection, audit
// Only these files include httplib's server side.
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

#include "lightvault/hub/catalog_audit.h"
#include "lightvault/hub/http_connections.h"
#include "lightvault/hub/http_server.h"
#include "lightvault/hub/permissions.h"
#include "lightvault/hub/crypto.h"
#include "lightvault/hub/tokens.h"

namespace lv::hub {

namespace web {
class WebUi;
}

using json = nlohmann::json;

// The Content-Disposition of a download named `name` (RFC 6266, with RFC 5987 filename*).
std::string content_disposition(const std::string& name);

// "2026-01-31T12:00:00.000Z", as the Hugging Face Hub writes times.
std::string iso_time(int64_t unix_seconds);

// Who is calling: the user and token behind a valid bearer token, or nobody.
struct Principal {
  std::optional<User> user;
  std::optional<Token> token;
  unsigned scopes = 0;
  bool authenticated() const { return user.has_value(); }
  std::string name() const { return user ? user->name : ""; }
};

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
};

struct HubServer::Impl {
  ServerOptions opt;
  std::unique_ptr<Catalog> catalog;
  std::shared_ptr<MasterKeyring> keyring;
  std::unique_ptr<BlobStore> blobs;
  std::shared_ptr<CatalogAuditStore> audit_store;
  std::unique_ptr<AuditLog> audit;
  crypto::Key256 audit_key{};
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
  AuditEntry entry(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                   json details = json::object(), const std::string& org = "");
  // Appends to the chain inside the catalog's lock (lock order: catalog, then audit log).
  Status append_audit(AuditEntry e);
  // The transaction that carried an audit append did not commit: the audit log's cached head
  // is ahead of the stored chain, so start a fresh log that reloads the head from the store.
  // Every use of `audit` happens under the catalog's lock, which this takes too.
  void reset_audit_head();
  // Appends an entry; a failure to append is logged on stderr, not answered.
  void audit_event(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                   json details = json::object(), const std::string& org = "");
  // deny() for callers without a valid token: their audit entries come from a budget
  // (unauthenticated_audits), so flooding costs a bounded number of audit transactions.
  void deny_budgeted(Ctx& ctx, int status, const std::string& action, const std::string& resource,
                     const std::string& message, const std::string& code = "");
  // Refuses a request: audited as denied, answered with a JSON error.
  void deny(Ctx& ctx, int status, const std::string& action, const std::string& resource, const std::string& message,
            const std::string& code = "", const std::string& org = "");
  // A state change: `fn` runs in one transaction with its audit entry, so either both land or
  // neither does.
  Status change(Ctx& ctx, const std::string& action, const std::string& resource, const std::string& org,
                const std::function<Status(json& details)>& fn);
  // A rejected change (validation, conflict): audited as an error, answered 400 or 409.
  void fail_change(Ctx& ctx, const std::string& action, const std::string& resource, const Error& e,
                   const std::string& org = "");

  // Bearer token -> principal. No header: anonymous (true). A bad token: 401, audited (false).
  // The pre-routing handler checks the token of every request before its body is read; a
  // handler's call then takes that result instead of checking again.
  bool authenticate(Ctx& ctx);
  bool check_token(Ctx& ctx);
  // Before routing: refuses a request whose body must not be read (compressed, oversized,
  // without a length on a JSON route, from an anonymous caller, ...). True if it answered.
  bool refuse_body(Ctx& ctx);
  // False, after answering 401, for an anonymous caller.
  bool require_login(Ctx& ctx, const std::string& action, const std::string& resource);
  Result<PrincipalFacts> facts_for(const Principal& who, const Repo& repo);
  Result<RepoRole> role_on(const Principal& who, const Repo& repo);
  // Finds a repository and checks the caller may do `action` on it. Unknown repositories and
  // repositories the caller cannot read look the same (404), so names don't leak.
  std::optional<Repo> open_repo(Ctx& ctx, const std::string& owner, const std::string& name, Action action,
                                const std::string& audit_action);
  bool site_admin(const Ctx& ctx) const;
  // Admin actions on an organization: site admin, or org owner/admin with an admin-scoped token.
  bool org_admin(Ctx& ctx, const Org& org, bool need_owner = false);
  static std::string repo_org(const Repo& r) { return r.owner_kind == OwnerKind::kOrg ? r.owner : ""; }

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
  // The model card's front matter of a commit's README.md as JSON (null without one).
  json read_card(const Repo& repo, const Commit& commit);

  // ---- repositories (http_repo_routes.cpp)
  void repo_routes();
  void create_repo(Ctx& ctx);
  void upload(Ctx& ctx, const httplib::ContentReader& reader, const std::string& owner, const std::string& name);
  void commit(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& branch);

  // ---- identities, tokens, keys, garbage collection, audit (http_admin_routes.cpp)
  void admin_routes();
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
