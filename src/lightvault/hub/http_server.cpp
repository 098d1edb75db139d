// The hub's HTTP server (see http_server.h for the routes). This is the only library file
// that includes httplib's server side.
#include "lightvault/hub/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "lightvault/hub/blob_gc.h"
#include "lightvault/hub/catalog_audit.h"
#include "lightvault/hub/model_card.h"
#include "lightvault/hub/tokens.h"

namespace lv::hub {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxHeaderBytes = 16 * 1024;   // all request headers together
constexpr size_t kMaxHeaderValue = 8 * 1024;    // one header value
constexpr size_t kMaxJsonBody = 4 * 1024 * 1024;
constexpr uint64_t kReadChunk = 4 * 1024 * 1024;

std::string iso_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct Principal {
  std::optional<User> user;
  std::optional<Token> token;
  unsigned scopes = 0;
  bool authenticated() const { return user.has_value(); }
  std::string name() const { return user ? user->name : ""; }
};

struct Ctx {
  const httplib::Request& req;
  httplib::Response& res;
  std::string request_id;
  std::string client;
  Principal who;
};

// Parsed single byte range of a request (we parse Range ourselves; see pre-routing).
struct ByteRange {
  bool present = false;
  bool multiple = false;
  bool valid = true;
  std::optional<uint64_t> first, last;  // "a-b", "a-", "-n" (suffix: first unset, last = n)
};

ByteRange parse_range(const std::string& header) {
  ByteRange r;
  if (header.empty()) return r;
  r.present = true;
  if (header.rfind("bytes=", 0) != 0) {
    r.valid = false;
    return r;
  }
  std::string spec = header.substr(6);
  if (spec.find(',') != std::string::npos) {
    r.multiple = true;
    return r;
  }
  auto dash = spec.find('-');
  if (dash == std::string::npos) {
    r.valid = false;
    return r;
  }
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto digits = [](const std::string& s) { return !s.empty() && s.size() < 20 && std::all_of(s.begin(), s.end(), ::isdigit); };
  if (a.empty() && digits(b)) {
    r.last = std::stoull(b);
  } else if (digits(a) && b.empty()) {
    r.first = std::stoull(a);
  } else if (digits(a) && digits(b)) {
    r.first = std::stoull(a);
    r.last = std::stoull(b);
    if (*r.last < *r.first) r.valid = false;
  } else {
    r.valid = false;
  }
  return r;
}

}  // namespace

struct HubServer::Impl {
  ServerOptions opt;
  std::unique_ptr<Catalog> catalog;
  std::shared_ptr<MasterKeyring> keyring;
  std::unique_ptr<BlobStore> blobs;
  std::shared_ptr<CatalogAuditStore> audit_store;
  std::unique_ptr<AuditLog> audit;
  crypto::Key256 audit_key{};
  std::string bootstrap_token;
  httplib::Server http;
  std::thread thread;
  std::atomic<uint64_t> request_counter{0};
  std::string instance = random_hex(4);

  // ---- plumbing

  Ctx begin(const httplib::Request& req, httplib::Response& res) {
    Ctx ctx{req, res, res.get_header_value("X-Request-Id"), req.remote_addr + ":" + std::to_string(req.remote_port), {}};
    if (ctx.request_id.empty()) {
      ctx.request_id = instance + "-" + std::to_string(++request_counter);
      res.set_header("X-Request-Id", ctx.request_id);
    }
    return ctx;
  }

  static void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }

  static void send_error(httplib::Response& res, int status, const std::string& message, const std::string& code = "") {
    res.status = status;
    if (!code.empty()) res.set_header("X-Error-Code", code);
    if (!code.empty()) res.set_header("X-Error-Message", message);
    res.set_content(json{{"error", message}}.dump(), "application/json");
  }

  AuditEntry entry(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                   json details = json::object(), const std::string& org = "") {
    AuditEntry e;
    e.actor = ctx.who.name();
    e.token_id = ctx.who.token ? ctx.who.token->id : "";
    e.action = action;
    e.resource = resource;
    e.outcome = outcome;
    e.client = ctx.client;
    e.request_id = ctx.request_id;
    e.org = org;
    e.details = std::move(details);
    return e;
  }

  // Appends to the chain inside the catalog's lock (lock order: catalog, then audit log).
  Status append_audit(AuditEntry e) {
    bool appended = false;
    Status st = catalog->transaction([&]() -> Status {
      auto r = audit->append(std::move(e));
      if (!r.ok()) return r.error();
      appended = true;
      return Status::Ok();
    });
    if (!st.ok() && appended) reset_audit_head();
    return st;
  }

  // The transaction that carried an audit append did not commit: the audit log's cached head
  // is ahead of the stored chain, so start a fresh log that reloads the head from the store.
  // Every use of `audit` happens under the catalog's lock, which this takes too.
  void reset_audit_head() {
    (void)catalog->transaction([&]() -> Status {
      audit = std::make_unique<AuditLog>(audit_key, audit_store);
      return Status::Ok();
    });
  }

  void audit_event(Ctx& ctx, const std::string& action, const std::string& resource, const char* outcome,
                   json details = json::object(), const std::string& org = "") {
    Status st = append_audit(entry(ctx, action, resource, outcome, std::move(details), org));
    if (!st.ok()) std::cerr << "audit append failed: " << st.error().message << "\n";
  }

  // Refuses a request: audited as denied, answered with a JSON error.
  void deny(Ctx& ctx, int status, const std::string& action, const std::string& resource, const std::string& message,
            const std::string& code = "", const std::string& org = "") {
    audit_event(ctx, action, resource, kAuditDenied, json{{"reason", message}, {"status", status}}, org);
    send_error(ctx.res, status, message, code);
  }

  // A state change: `fn` runs in one transaction with its audit entry, so either both land or
  // neither does.
  Status change(Ctx& ctx, const std::string& action, const std::string& resource, const std::string& org,
                const std::function<Status(json& details)>& fn) {
    bool appended = false;
    Status st = catalog->transaction([&]() -> Status {
      json details = json::object();
      LV_RETURN_IF_ERROR(fn(details));
      auto r = audit->append(entry(ctx, action, resource, kAuditAllowed, details, org));
      if (!r.ok()) return r.error();
      appended = true;
      return Status::Ok();
    });
    if (!st.ok() && appended) reset_audit_head();
    return st;
  }

  // Bearer token -> principal. No header: anonymous (ok). A bad token: 401, audited.
  bool authenticate(Ctx& ctx) {
    std::string auth = ctx.req.get_header_value("Authorization");
    if (auth.empty()) return true;
    std::string secret;
    if (lower(auth.substr(0, 7)) == "bearer ") secret = auth.substr(7);
    while (!secret.empty() && secret.back() == ' ') secret.pop_back();
    if (secret.empty()) {
      deny(ctx, 401, "auth.token", ctx.req.path, "malformed Authorization header (expected: Bearer TOKEN)", "Unauthorized");
      return false;
    }
    auto a = authenticate_token(*catalog, secret);
    if (!a.ok()) {
      send_error(ctx.res, 500, a.error().message);
      return false;
    }
    if (a->check != TokenCheck::kOk) {
      const char* why = a->check == TokenCheck::kExpired ? "token expired"
                        : a->check == TokenCheck::kRevoked ? "token revoked"
                                                           : "invalid token";
      if (a->token) ctx.who.token = a->token;  // audit which token was tried (never the secret)
      deny(ctx, 401, "auth.token", ctx.req.path, why, "Unauthorized");
      ctx.who = {};
      return false;
    }
    ctx.who.user = a->user;
    ctx.who.token = a->token;
    ctx.who.scopes = a->token->scopes;
    return true;
  }

  bool require_login(Ctx& ctx, const std::string& action, const std::string& resource) {
    if (ctx.who.authenticated()) return true;
    deny(ctx, 401, action, resource, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized");
    return false;
  }

  Result<PrincipalFacts> facts_for(const Principal& who, const Repo& repo) {
    PrincipalFacts p;
    if (!who.authenticated()) return p;
    p.authenticated = true;
    p.user_id = who.user->id;
    p.site_admin = who.user->site_admin;
    p.scope_cap = scope_cap(who.scopes);
    if (repo.owner_kind == OwnerKind::kOrg) {
      LV_ASSIGN_OR_RETURN(p.org_role, catalog->org_role(repo.owner_id, who.user->id));
    }
    LV_ASSIGN_OR_RETURN(p.team_ids, catalog->team_ids_of(who.user->id));
    return p;
  }

  Result<RepoRole> role_on(const Principal& who, const Repo& repo) {
    LV_ASSIGN_OR_RETURN(auto p, facts_for(who, repo));
    LV_ASSIGN_OR_RETURN(auto grants, catalog->list_grants(repo.id));
    std::vector<GrantFact> g;
    for (auto& x : grants) g.push_back({x.subject, x.subject_id, x.role});
    return effective_role(p, RepoFacts{repo.owner_kind, repo.owner_id, repo.visibility}, g);
  }

  static std::string repo_org(const Repo& r) { return r.owner_kind == OwnerKind::kOrg ? r.owner : ""; }

  // Finds a repository and checks the caller may do `action` on it. Unknown repositories and
  // repositories the caller cannot read look the same (404), so names don't leak.
  std::optional<Repo> open_repo(Ctx& ctx, const std::string& owner, const std::string& name, Action action,
                                const std::string& audit_action) {
    std::string resource = owner + "/" + name;
    auto repo = catalog->find_repo(owner, name);
    if (!repo.ok()) {
      send_error(ctx.res, 500, repo.error().message);
      return std::nullopt;
    }
    if (!repo->has_value()) {
      if (!ctx.who.authenticated()) {
        deny(ctx, 401, audit_action, resource, "authentication required (Authorization: Bearer TOKEN)", "RepoNotFound");
      } else {
        deny(ctx, 404, audit_action, resource, "repository " + resource + " not found", "RepoNotFound");
      }
      return std::nullopt;
    }
    const Repo& r = **repo;
    auto role = role_on(ctx.who, r);
    if (!role.ok()) {
      send_error(ctx.res, 500, role.error().message);
      return std::nullopt;
    }
    if (*role >= required_role(action)) return r;
    if (!ctx.who.authenticated()) {
      deny(ctx, 401, audit_action, resource, "authentication required (Authorization: Bearer TOKEN)", "RepoNotFound", repo_org(r));
    } else if (*role == RepoRole::kNone) {
      deny(ctx, 404, audit_action, resource, "repository " + resource + " not found", "RepoNotFound", repo_org(r));
    } else {
      deny(ctx, 403, audit_action, resource,
           std::string("forbidden: ") + std::string(to_string(action)) + " on " + resource + " needs role " +
               std::string(to_string(required_role(action))) + ", caller has " + std::string(to_string(*role)),
           "Forbidden", repo_org(r));
    }
    return std::nullopt;
  }

  std::optional<json> parse_body(Ctx& ctx, const std::string& action) {
    if (ctx.req.body.size() > kMaxJsonBody) {
      deny(ctx, 413, action, ctx.req.path, "request body too large");
      return std::nullopt;
    }
    json body = json::parse(ctx.req.body.empty() ? std::string("{}") : ctx.req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      deny(ctx, 400, action, ctx.req.path, "request body must be a JSON object");
      return std::nullopt;
    }
    return body;
  }

  static std::string str(const json& j, const char* key, const std::string& def = "") {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : def;
  }

  bool site_admin(const Ctx& ctx) const {
    return ctx.who.authenticated() && ctx.who.user->site_admin && (ctx.who.scopes & kScopeAdmin);
  }

  // Admin actions on an organization: site admin, or org owner/admin with an admin-scoped token.
  bool org_admin(Ctx& ctx, const Org& org, bool need_owner = false) {
    if (site_admin(ctx)) return true;
    if (!ctx.who.authenticated() || !(ctx.who.scopes & kScopeAdmin)) return false;
    auto role = catalog->org_role(org.id, ctx.who.user->id);
    if (!role.ok() || !role->has_value()) return false;
    if (need_owner) return **role == OrgRole::kOwner;
    return **role == OrgRole::kOwner || **role == OrgRole::kAdmin;
  }

  void fail_change(Ctx& ctx, const std::string& action, const std::string& resource, const Error& e, const std::string& org = "") {
    // A rejected change (validation, conflict): audited as an error, answered 400/409.
    int status = e.message.find("already") != std::string::npos || e.message.find("moved") != std::string::npos ? 409 : 400;
    audit_event(ctx, action, resource, kAuditError, json{{"reason", e.message}}, org);
    send_error(ctx.res, status, e.message);
  }

  // ---- setup

  Status bootstrap_admin() {
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
        auto r = audit->append(e);
        if (!r.ok()) return r.error();
        if (env_token.empty()) {
          LV_ASSIGN_OR_RETURN(auto issued, issue_token(*catalog, *admin, "bootstrap", kScopeRead | kScopeWrite | kScopeAdmin, 0));
          bootstrap_token = issued.secret;
          AuditEntry t = base;
          t.action = "token.create";
          t.resource = "admin";
          t.outcome = kAuditAllowed;
          t.details = json{{"token_id", issued.token.id}, {"scopes", "admin"}, {"bootstrap", true}};
          auto r2 = audit->append(t);
          if (!r2.ok()) return r2.error();
        }
      }
      if (!env_token.empty()) {
        LV_ASSIGN_OR_RETURN(auto existing, catalog->find_token_by_hash(sha256_hex(env_token)));
        if (!existing) {
          LV_ASSIGN_OR_RETURN(auto issued, issue_token(*catalog, *admin, "LIGHTVAULT_ADMIN_TOKEN",
                                                       kScopeRead | kScopeWrite | kScopeAdmin, 0, env_token));
          AuditEntry t = base;
          t.action = "token.create";
          t.resource = "admin";
          t.outcome = kAuditAllowed;
          t.details = json{{"token_id", issued.token.id}, {"scopes", "admin"}, {"source", "LIGHTVAULT_ADMIN_TOKEN"}};
          auto r = audit->append(t);
          if (!r.ok()) return r.error();
        } else if (existing->user_id != admin->id) {
          return make_error("LIGHTVAULT_ADMIN_TOKEN", "this token belongs to user " + existing->user + ", not admin");
        }
      }
      return Status::Ok();
    });
  }

  json read_card(const Repo& repo, const Commit& commit) {
    for (auto& f : commit.files) {
      if (f.path != "README.md" || f.size > (1u << 20)) continue;
      auto reader = blobs->open_reader(repo.owner, f.sha256);
      if (!reader.ok() || !*reader) return nullptr;
      std::string text((*reader)->size(), '\0');
      if (!(*reader)->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size())).ok()) return nullptr;
      auto parsed = parse_model_card(text);
      if (!parsed.ok()) return json{{"error", parsed.error().message}};
      return parsed->metadata;
    }
    return nullptr;
  }

  void install_routes();
  // handlers
  void whoami(Ctx& ctx);
  void list_models(Ctx& ctx);
  void model_info(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, bool explicit_rev);
  void tree(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);
  void resolve(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev, const std::string& path);
  void create_repo(Ctx& ctx);
  void upload(Ctx& ctx, const httplib::ContentReader& reader, const std::string& owner, const std::string& name);
  void commit(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& branch);
  void admin_routes();
  void repo_admin_routes();
};

// ------------------------------------------------------------------------------------------
// Hugging Face-compatible read API

void HubServer::Impl::whoami(Ctx& ctx) {
  if (!require_login(ctx, "auth.whoami", "whoami")) return;
  json orgs = json::array();
  auto ms = catalog->memberships_of(ctx.who.user->id);
  if (ms.ok()) {
    for (auto& m : *ms) orgs.push_back({{"type", "org"}, {"name", m.org}, {"roleInOrg", std::string(to_string(m.role))}});
  }
  std::string role = ctx.who.scopes & kScopeAdmin ? "admin" : ctx.who.scopes & kScopeWrite ? "write" : "read";
  send_json(ctx.res, 200,
            {{"type", "user"},
             {"id", std::to_string(ctx.who.user->id)},
             {"name", ctx.who.user->name},
             {"fullname", ctx.who.user->name},
             {"isAdmin", ctx.who.user->site_admin},
             {"orgs", orgs},
             {"auth",
              {{"type", "access_token"},
               {"accessToken", {{"displayName", ctx.who.token->name}, {"role", role}, {"id", ctx.who.token->id},
                                {"scopes", scopes_to_string(ctx.who.scopes)}}}}}});
}

namespace {
json repo_summary(const Repo& r, const std::optional<Commit>& head) {
  char id[32];
  std::snprintf(id, sizeof id, "%024llx", static_cast<unsigned long long>(r.id));
  return json{{"_id", id},
              {"id", r.full_name()},
              {"modelId", r.full_name()},
              {"author", r.owner},
              {"private", r.visibility == Visibility::kPrivate},
              {"visibility", std::string(to_string(r.visibility))},
              {"gated", false},
              {"disabled", false},
              {"downloads", 0},
              {"likes", 0},
              {"tags", json::array()},
              {"sha", head ? json(head->id) : json(nullptr)},
              {"createdAt", iso_time(r.created_at)},
              {"lastModified", iso_time(head ? head->created_at : r.created_at)}};
}
}  // namespace

void HubServer::Impl::list_models(Ctx& ctx) {
  if (!require_login(ctx, "model.list", "models")) return;
  auto repos = catalog->list_repos();
  if (!repos.ok()) return send_error(ctx.res, 500, repos.error().message);
  std::string author = ctx.req.get_param_value("author");
  json out = json::array();
  for (auto& r : *repos) {
    if (!author.empty() && r.owner != author) continue;
    auto role = role_on(ctx.who, r);
    if (!role.ok() || *role < RepoRole::kRead) continue;
    auto head = catalog->resolve(r.id, "main");
    out.push_back(repo_summary(r, head.ok() ? *head : std::nullopt));
  }
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::model_info(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                                 bool explicit_rev) {
  auto repo = open_repo(ctx, owner, name, Action::kRead, "model.info");
  if (!repo) return;
  auto commit = catalog->resolve(repo->id, rev);
  if (!commit.ok()) return send_error(ctx.res, 500, commit.error().message);
  if (!commit->has_value() && (explicit_rev && rev != "main" && rev != "HEAD")) {
    return send_error(ctx.res, 404, "revision " + rev + " not found in " + repo->full_name(), "RevisionNotFound");
  }
  json out = repo_summary(*repo, *commit);
  bool blobs = ctx.req.get_param_value("blobs") == "true" || ctx.req.get_param_value("blobs") == "1";
  json siblings = json::array();
  if (commit->has_value()) {
    for (auto& f : (*commit)->files) {
      json s{{"rfilename", f.path}};
      if (blobs) {
        s["size"] = f.size;
        s["blobId"] = f.sha256;
        s["lfs"] = {{"sha256", f.sha256}, {"size", f.size}, {"pointerSize", 134}};
      }
      siblings.push_back(s);
    }
    // Model card: README.md's front matter, decrypted on request (the catalog keeps no
    // plaintext of uploaded files, so the card is not cached there).
    json card = read_card(*repo, **commit);
    if (!card.is_null()) {
      {
        out["cardData"] = card;
        if (card.contains("license") && card["license"].is_string()) out["tags"].push_back("license:" + card["license"].get<std::string>());
        if (card.contains("pipeline_tag")) out["pipeline_tag"] = card["pipeline_tag"];
        if (card.contains("library_name")) out["library_name"] = card["library_name"];
      }
    }
  }
  out["siblings"] = siblings;
  out["spaces"] = json::array();
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::tree(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                           const std::string& path) {
  auto repo = open_repo(ctx, owner, name, Action::kRead, "model.info");
  if (!repo) return;
  auto commit = catalog->resolve(repo->id, rev);
  if (!commit.ok()) return send_error(ctx.res, 500, commit.error().message);
  if (!commit->has_value()) {
    return send_error(ctx.res, 404, "revision " + rev + " not found in " + repo->full_name(), "RevisionNotFound");
  }
  bool recursive = ctx.req.get_param_value("recursive") == "true" || ctx.req.get_param_value("recursive") == "1";
  std::string prefix = path.empty() ? "" : path + "/";
  json out = json::array();
  std::set<std::string> dirs;
  bool found = path.empty();
  for (auto& f : (*commit)->files) {
    if (f.path.rfind(prefix, 0) != 0) continue;
    found = true;
    std::string rest = f.path.substr(prefix.size());
    // directories on the way
    size_t slash = rest.find('/');
    while (slash != std::string::npos) {
      std::string dir = prefix + rest.substr(0, slash);
      if (dirs.insert(dir).second) out.push_back({{"type", "directory"}, {"oid", sha256_hex(dir).substr(0, 40)}, {"size", 0}, {"path", dir}});
      if (!recursive) break;
      slash = rest.find('/', slash + 1);
    }
    if (!recursive && rest.find('/') != std::string::npos) continue;
    out.push_back({{"type", "file"},
                   {"oid", f.sha256.substr(0, 40)},
                   {"size", f.size},
                   {"path", f.path},
                   {"lfs", {{"oid", f.sha256}, {"size", f.size}, {"pointerSize", 134}}}});
  }
  if (!found) return send_error(ctx.res, 404, "path " + path + " not found in " + repo->full_name() + "@" + rev, "EntryNotFound");
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::resolve(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                              const std::string& path) {
  bool head_only = ctx.req.method == "HEAD";
  std::string action = head_only ? "model.info" : "model.download";
  std::string resource = owner + "/" + name + "/resolve/" + rev + "/" + path;
  auto repo = open_repo(ctx, owner, name, Action::kRead, action);
  if (!repo) return;
  std::string org = repo_org(*repo);
  auto commit = catalog->resolve(repo->id, rev);
  if (!commit.ok()) return send_error(ctx.res, 500, commit.error().message);
  if (!commit->has_value()) {
    return deny(ctx, 404, action, resource, "revision " + rev + " not found in " + repo->full_name(), "RevisionNotFound", org);
  }
  const FileEntry* file = nullptr;
  for (auto& f : (*commit)->files) {
    if (f.path == path) file = &f;
  }
  if (!file) {
    return deny(ctx, 404, action, resource, "entry " + path + " not found in " + repo->full_name() + "@" + rev, "EntryNotFound", org);
  }
  auto reader = blobs->open_reader(repo->owner, file->sha256);
  if (!reader.ok() || !*reader) {
    std::string why = reader.ok() ? "blob missing from the blob store" : reader.error().message;
    audit_event(ctx, action, resource, kAuditError, json{{"reason", why}}, org);
    return send_error(ctx.res, 500, "cannot read " + resource + ": " + why);
  }
  std::shared_ptr<BlobReader> blob(std::move(*reader));
  uint64_t size = blob->size();
  std::string etag = "\"" + file->sha256 + "\"";
  auto& res = ctx.res;
  res.set_header("ETag", etag);
  res.set_header("X-Linked-Etag", etag);
  res.set_header("X-Linked-Size", std::to_string(size));
  res.set_header("X-Repo-Commit", (*commit)->id);
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "private, max-age=0, must-revalidate");
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  res.set_header("Content-Disposition", "attachment; filename=\"" + base + "\"");

  if (ctx.req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  // httplib's own range handling is switched off in pre-routing; we answer Range here.
  ByteRange range = parse_range(ctx.req.get_header_value("Range"));
  uint64_t first = 0, length = size;
  int status = 200;
  if (range.present && !range.multiple) {
    if (!range.valid) {
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return deny(ctx, 416, action, resource, "invalid Range header", "RangeNotSatisfiable", org);
    }
    uint64_t last;
    if (!range.first) {  // suffix
      uint64_t n = std::min<uint64_t>(*range.last, size);
      first = size - n;
      last = size - 1;
      if (n == 0) first = size;  // unsatisfiable
    } else {
      first = *range.first;
      last = range.last ? std::min<uint64_t>(*range.last, size ? size - 1 : 0) : (size ? size - 1 : 0);
    }
    if (first >= size) {
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return deny(ctx, 416, action, resource,
                  "range " + ctx.req.get_header_value("Range") + " is past the end of " + path + " (size " + std::to_string(size) + ")",
                  "RangeNotSatisfiable", org);
    }
    length = last - first + 1;
    status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
  }
  if (!head_only) {
    json details{{"commit", (*commit)->id}, {"sha256", file->sha256}, {"size", size}};
    if (status == 206) details["range"] = {first, first + length - 1};
    audit_event(ctx, "model.download", resource, kAuditAllowed, details, org);
  }
  res.status = status;
  if (length == 0) {
    res.set_content("", "application/octet-stream");
    return;
  }
  res.set_content_provider(
      length, "application/octet-stream",
      [blob, first](size_t offset, size_t len, httplib::DataSink& sink) -> bool {
        uint64_t n = std::min<uint64_t>(len, kReadChunk);
        Status st = blob->read(first + offset, n, [&](std::span<const uint8_t> bytes) -> Status {
          if (!sink.write(reinterpret_cast<const char*>(bytes.data()), bytes.size())) return make_error("download", "client disconnected");
          return Status::Ok();
        });
        if (!st.ok()) std::cerr << "download: " << st.error().message << "\n";
        return st.ok();
      });
}

// ------------------------------------------------------------------------------------------
// Writing: repositories, uploads, commits

void HubServer::Impl::create_repo(Ctx& ctx) {
  if (!require_login(ctx, "repo.create", "repos")) return;
  auto body = parse_body(ctx, "repo.create");
  if (!body) return;
  std::string name = str(*body, "name");
  std::string owner = str(*body, "organization", str(*body, "owner", ctx.who.name()));
  if (name.find('/') != std::string::npos) {  // HF style "owner/name"
    owner = name.substr(0, name.find('/'));
    name = name.substr(name.find('/') + 1);
  }
  Visibility vis = Visibility::kPrivate;
  if (body->contains("visibility")) {
    auto v = parse_visibility(str(*body, "visibility"));
    if (!v) return deny(ctx, 400, "repo.create", owner + "/" + name, "visibility must be private or internal");
    vis = *v;
  } else if (body->contains("private") && (*body)["private"].is_boolean() && !(*body)["private"].get<bool>()) {
    vis = Visibility::kInternal;  // there are no public repositories: "not private" means internal
  }
  std::string resource = owner + "/" + name;
  if (!(ctx.who.scopes & kScopeWrite)) return deny(ctx, 403, "repo.create", resource, "token scope does not allow writing", "Forbidden");
  // Who may create in `owner`: the user itself, an org owner/admin, or a site admin.
  bool may = site_admin(ctx) || owner == ctx.who.name();
  std::string org_name;
  auto org = catalog->find_org(owner);
  if (org.ok() && org->has_value()) {
    org_name = owner;
    auto role = catalog->org_role((*org)->id, ctx.who.user->id);
    if (role.ok() && role->has_value() && (**role == OrgRole::kOwner || **role == OrgRole::kAdmin)) may = true;
  }
  if (!may) return deny(ctx, 403, "repo.create", resource, "cannot create repositories in " + owner, "Forbidden", org_name);
  Repo repo;
  Status st = change(ctx, "repo.create", resource, org_name, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(repo, catalog->create_repo(owner, name, vis));
    d["visibility"] = std::string(to_string(vis));
    return Status::Ok();
  });
  if (!st.ok()) return fail_change(ctx, "repo.create", resource, st.error(), org_name);
  send_json(ctx.res, 200, {{"url", "/" + resource}, {"name", resource}, {"id", resource}, {"visibility", std::string(to_string(vis))}});
}

void HubServer::Impl::upload(Ctx& ctx, const httplib::ContentReader& reader, const std::string& owner, const std::string& name) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(ctx, owner, name, Action::kWrite, "blob.upload");
  if (!repo) {
    ctx.res.set_header("Connection", "close");  // the body was not read
    return;
  }
  std::string org = repo_org(*repo);
  BlobWriteOptions wopt;
  wopt.expected_sha256 = ctx.req.get_param_value("sha256");
  if (!wopt.expected_sha256.empty() && !crypto::is_sha256_hex(wopt.expected_sha256)) {
    ctx.res.set_header("Connection", "close");
    return deny(ctx, 400, "blob.upload", resource, "sha256 must be 64 lowercase hex digits", "", org);
  }
  if (ctx.req.has_param("size")) {
    try {
      wopt.expected_size = std::stoull(ctx.req.get_param_value("size"));
    } catch (...) {
      ctx.res.set_header("Connection", "close");
      return deny(ctx, 400, "blob.upload", resource, "size must be a number", "", org);
    }
  }
  auto writer = blobs->create_writer(repo->owner, wopt);
  if (!writer.ok()) return send_error(ctx.res, 500, writer.error().message);
  Status write_status;
  bool read_ok = reader([&](const char* data, size_t n) -> bool {
    write_status = (*writer)->write(data, n);
    return write_status.ok();
  });
  if (!write_status.ok() || !read_ok) {
    (*writer)->abort();
    std::string why = !write_status.ok() ? write_status.error().message : "upload interrupted";
    audit_event(ctx, "blob.upload", resource, kAuditError, json{{"reason", why}}, org);
    ctx.res.set_header("Connection", "close");
    return send_error(ctx.res, 400, why);
  }
  auto info = (*writer)->commit();
  if (!info.ok()) {
    audit_event(ctx, "blob.upload", resource, kAuditError, json{{"reason", info.error().message}}, org);
    return send_error(ctx.res, 400, info.error().message);
  }
  Status st = change(ctx, "blob.upload", resource, org, [&](json& d) -> Status {
    LV_RETURN_IF_ERROR(register_upload(*catalog, *blobs, *info));
    d["sha256"] = info->sha256;
    d["size"] = info->size;
    d["deduplicated"] = info->deduplicated;
    return Status::Ok();
  });
  if (!st.ok()) return send_error(ctx.res, 500, st.error().message);
  send_json(ctx.res, 200, {{"sha256", info->sha256}, {"size", info->size}, {"deduplicated", info->deduplicated}});
}

void HubServer::Impl::commit(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& branch) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(ctx, owner, name, Action::kWrite, "model.upload");
  if (!repo) return;
  std::string org = repo_org(*repo);
  auto body = parse_body(ctx, "model.upload");
  if (!body) return;
  std::optional<std::string> parent;
  if (body->contains("parent") && (*body)["parent"].is_string()) parent = (*body)["parent"].get<std::string>();
  bool replace = body->value("replace", false);
  std::map<std::string, FileEntry> tree;
  auto head = catalog->resolve(repo->id, branch);
  if (!head.ok()) return send_error(ctx.res, 500, head.error().message);
  if (!replace && head->has_value()) {
    for (auto& f : (*head)->files) tree[f.path] = f;
  }
  json added = json::array(), deleted = json::array();
  for (auto& a : body->value("add", json::array())) {
    if (!a.is_object() || !a.contains("path") || !a.contains("sha256") || !a.contains("size") || !a["path"].is_string() ||
        !a["sha256"].is_string() || !a["size"].is_number_unsigned()) {
      return deny(ctx, 400, "model.upload", resource, "each added file needs path, sha256 and size", "", org);
    }
    FileEntry f{a["path"].get<std::string>(), a["sha256"].get<std::string>(), a["size"].get<uint64_t>()};
    if (!valid_repo_path(f.path)) return deny(ctx, 400, "model.upload", resource, "invalid file path '" + f.path + "'", "", org);
    added.push_back(f.path);
    tree[f.path] = f;
  }
  for (auto& d : body->value("delete", json::array())) {
    if (!d.is_string() || !tree.count(d.get<std::string>())) {
      return deny(ctx, 400, "model.upload", resource, "cannot delete a file that is not in " + branch, "", org);
    }
    tree.erase(d.get<std::string>());
    deleted.push_back(d);
  }
  std::vector<FileEntry> files;
  for (auto& [p, f] : tree) files.push_back(f);
  std::string message = str(*body, "message", "Upload files");
  Commit c;
  Status st = change(ctx, "model.upload", resource, org, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(c, catalog->create_commit(*repo, branch, parent, message, ctx.who.name(), files));
    d = json{{"commit", c.id}, {"branch", branch}, {"added", added}, {"deleted", deleted}, {"message", message}};
    return Status::Ok();
  });
  if (!st.ok()) return fail_change(ctx, "model.upload", resource, st.error(), org);
  send_json(ctx.res, 200, {{"commit", c.id}, {"parent", c.parent}, {"files", c.files.size()}});
}

}  // namespace lv::hub

namespace lv::hub {

// ------------------------------------------------------------------------------------------
// Repository administration: grants, tags, settings, delete, lifecycle events

void HubServer::Impl::repo_admin_routes() {
  const std::string repo_re = R"(/api/lv/models/([^/]+)/([^/]+))";

  http.Get(repo_re + "/grants", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kAdmin, "grant.list");
    if (!repo) return;
    auto grants = catalog->list_grants(repo->id);
    if (!grants.ok()) return send_error(res, 500, grants.error().message);
    json out = json::array();
    for (auto& g : *grants) out.push_back({{"subject", std::string(to_string(g.subject)) + ":" + g.subject_name}, {"role", std::string(to_string(g.role))}});
    send_json(res, 200, out);
  });

  http.Post(repo_re + "/grants", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kAdmin, "grant.set");
    if (!repo) return;
    std::string org = repo_org(*repo);
    auto body = parse_body(ctx, "grant.set");
    if (!body) return;
    std::string subject = str(*body, "subject");
    auto role = parse_repo_role(str(*body, "role"));
    if (!role) return deny(ctx, 400, "grant.set", resource, "role must be read, write, admin or none", "", org);
    auto colon = subject.find(':');
    auto kind = parse_subject_kind(subject.substr(0, colon == std::string::npos ? 0 : colon));
    if (!kind) return deny(ctx, 400, "grant.set", resource, "subject must be user:NAME or team:ORG/TEAM", "", org);
    std::string who = subject.substr(colon + 1);
    int64_t subject_id = 0;
    if (*kind == SubjectKind::kUser) {
      auto u = catalog->find_user(who);
      if (!u.ok() || !u->has_value()) return deny(ctx, 404, "grant.set", resource, "no user " + who, "", org);
      subject_id = (*u)->id;
    } else {
      auto slash = who.find('/');
      auto t = slash == std::string::npos ? Result<std::optional<Team>>(std::optional<Team>())
                                          : catalog->find_team(who.substr(0, slash), who.substr(slash + 1));
      if (!t.ok() || !t->has_value()) return deny(ctx, 404, "grant.set", resource, "no team " + who, "", org);
      subject_id = (*t)->id;
    }
    Status st = change(ctx, *role == RepoRole::kNone ? "grant.remove" : "grant.set", resource, org, [&](json& d) -> Status {
      d = json{{"subject", subject}, {"role", std::string(to_string(*role))}};
      return catalog->set_grant(repo->id, *kind, subject_id, *role);
    });
    if (!st.ok()) return fail_change(ctx, "grant.set", resource, st.error(), org);
    send_json(res, 200, {{"subject", subject}, {"role", std::string(to_string(*role))}});
  });

  http.Post(repo_re + "/tags", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kWrite, "tag.create");
    if (!repo) return;
    std::string org = repo_org(*repo);
    auto body = parse_body(ctx, "tag.create");
    if (!body) return;
    std::string tag = str(*body, "tag"), rev = str(*body, "revision", "main");
    auto c = catalog->resolve(repo->id, rev);
    if (!c.ok() || !c->has_value()) return deny(ctx, 404, "tag.create", resource, "revision " + rev + " not found", "RevisionNotFound", org);
    Status st = change(ctx, "tag.create", resource, org, [&](json& d) -> Status {
      d = json{{"tag", tag}, {"commit", (*c)->id}};
      return catalog->set_tag(repo->id, tag, (*c)->id);
    });
    if (!st.ok()) return fail_change(ctx, "tag.create", resource, st.error(), org);
    send_json(res, 200, {{"tag", tag}, {"commit", (*c)->id}});
  });

  http.Delete(repo_re + "/tags/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kWrite, "tag.delete");
    if (!repo) return;
    std::string tag = req.matches[3];
    Status st = change(ctx, "tag.delete", resource, repo_org(*repo), [&](json& d) -> Status {
      d = json{{"tag", tag}};
      return catalog->delete_tag(repo->id, tag);
    });
    if (!st.ok()) return fail_change(ctx, "tag.delete", resource, st.error(), repo_org(*repo));
    send_json(res, 200, {{"deleted", tag}});
  });

  http.Put(repo_re + "/settings", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kAdmin, "repo.settings");
    if (!repo) return;
    auto body = parse_body(ctx, "repo.settings");
    if (!body) return;
    auto vis = parse_visibility(str(*body, "visibility"));
    if (!vis) return deny(ctx, 400, "repo.settings", resource, "visibility must be private or internal", "", repo_org(*repo));
    Status st = change(ctx, "repo.settings", resource, repo_org(*repo), [&](json& d) -> Status {
      d = json{{"visibility", std::string(to_string(*vis))}};
      return catalog->set_visibility(repo->id, *vis);
    });
    if (!st.ok()) return fail_change(ctx, "repo.settings", resource, st.error(), repo_org(*repo));
    send_json(res, 200, {{"visibility", std::string(to_string(*vis))}});
  });

  http.Delete(repo_re, [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kAdmin, "model.delete");
    if (!repo) return;
    Status st = change(ctx, "model.delete", resource, repo_org(*repo), [&](json&) -> Status { return catalog->delete_repo(repo->id); });
    if (!st.ok()) return fail_change(ctx, "model.delete", resource, st.error(), repo_org(*repo));
    send_json(res, 200, {{"deleted", resource}});
  });

  http.Get(repo_re + "/commits", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kRead, "model.info");
    if (!repo) return;
    auto commits = catalog->list_commits(repo->id, req.has_param("branch") ? req.get_param_value("branch") : "main");
    if (!commits.ok()) return send_error(res, 500, commits.error().message);
    json out = json::array();
    for (auto& c : *commits) {
      out.push_back({{"id", c.id}, {"parent", c.parent}, {"message", c.message}, {"author", c.author}, {"date", iso_time(c.created_at)},
                     {"files", c.files.size()}});
    }
    send_json(res, 200, out);
  });

  // Lifecycle events reported by other tools: model.finetune (with the base model) and
  // model.deploy (with the target). Anyone who can read the model may report them.
  http.Post(repo_re + "/events", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto body = parse_body(ctx, "model.event");
    if (!body) return;
    std::string action = str(*body, "action");
    json details = body->value("details", json::object());
    if (!details.is_object()) details = json::object();
    if (action != "model.finetune" && action != "model.deploy") {
      return deny(ctx, 400, "model.event", resource, "action must be model.finetune or model.deploy");
    }
    auto repo = open_repo(ctx, req.matches[1], req.matches[2], Action::kRead, action);
    if (!repo) return;
    const char* need = action == "model.finetune" ? "base_model" : "target";
    if (!details.contains(need) || !details[need].is_string() || details[need].get<std::string>().empty()) {
      return deny(ctx, 400, action, resource, action + " needs details." + need, "", repo_org(*repo));
    }
    Status st = change(ctx, action, resource, repo_org(*repo), [&](json& d) -> Status {
      d = details;
      return Status::Ok();
    });
    if (!st.ok()) return send_error(res, 500, st.error().message);
    send_json(res, 200, {{"recorded", action}});
  });
}

// ------------------------------------------------------------------------------------------
// Identities: users, organizations, memberships, teams, tokens; keys; audit

void HubServer::Impl::admin_routes() {
  http.Get("/api/lv/users", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "user.list", "users")) return;
    auto users = catalog->list_users();
    if (!users.ok()) return send_error(res, 500, users.error().message);
    json out = json::array();
    for (auto& u : *users) out.push_back({{"name", u.name}, {"site_admin", u.site_admin}, {"created", iso_time(u.created_at)}});
    send_json(res, 200, out);
  });

  http.Post("/api/lv/users", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "user.create", "users")) return;
    auto body = parse_body(ctx, "user.create");
    if (!body) return;
    std::string name = str(*body, "name");
    if (!site_admin(ctx)) return deny(ctx, 403, "user.create", name, "only a site administrator can create users", "Forbidden");
    bool admin = body->value("site_admin", false);
    Status st = change(ctx, "user.create", name, "", [&](json& d) -> Status {
      d = json{{"site_admin", admin}};
      auto u = catalog->create_user(name, admin);
      return u.ok() ? Status::Ok() : Status(u.error());
    });
    if (!st.ok()) return fail_change(ctx, "user.create", name, st.error());
    send_json(res, 200, {{"name", name}, {"site_admin", admin}});
  });

  http.Get("/api/lv/orgs", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "org.list", "orgs")) return;
    auto orgs = catalog->list_orgs();
    if (!orgs.ok()) return send_error(res, 500, orgs.error().message);
    json out = json::array();
    for (auto& o : *orgs) {
      json members = json::array(), teams = json::array();
      if (auto ms = catalog->list_memberships(o.id); ms.ok())
        for (auto& m : *ms) members.push_back({{"user", m.user}, {"role", std::string(to_string(m.role))}});
      if (auto ts = catalog->list_teams(o.id); ts.ok())
        for (auto& t : *ts) teams.push_back(t.name);
      out.push_back({{"name", o.name}, {"members", members}, {"teams", teams}});
    }
    send_json(res, 200, out);
  });

  http.Post("/api/lv/orgs", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "org.create", "orgs")) return;
    auto body = parse_body(ctx, "org.create");
    if (!body) return;
    std::string name = str(*body, "name");
    // Any user with an admin-scoped token may found an organization and becomes its owner;
    // a site admin may name another owner.
    if (!(ctx.who.scopes & kScopeAdmin)) return deny(ctx, 403, "org.create", name, "needs a token with admin scope", "Forbidden");
    std::string owner = str(*body, "owner", ctx.who.name());
    if (owner != ctx.who.name() && !site_admin(ctx)) {
      return deny(ctx, 403, "org.create", name, "only a site administrator can name another owner", "Forbidden");
    }
    Status st = change(ctx, "org.create", name, name, [&](json& d) -> Status {
      LV_ASSIGN_OR_RETURN(auto org, catalog->create_org(name));
      LV_ASSIGN_OR_RETURN(auto u, catalog->find_user(owner));
      if (!u) return make_error("organization " + name, "no user " + owner);
      d = json{{"owner", owner}};
      return catalog->set_membership(org.id, u->id, OrgRole::kOwner);
    });
    if (!st.ok()) return fail_change(ctx, "org.create", name, st.error(), name);
    send_json(res, 200, {{"name", name}, {"owner", owner}});
  });

  // Memberships: owner/admin of the org (only an owner grants or removes ownership) or site admin.
  http.Post(R"(/api/lv/orgs/([^/]+)/members)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string org_name = req.matches[1];
    if (!authenticate(ctx) || !require_login(ctx, "member.add", org_name)) return;
    auto body = parse_body(ctx, "member.add");
    if (!body) return;
    std::string user = str(*body, "user");
    auto role = parse_org_role(str(*body, "role", "member"));
    std::string resource = org_name + "/members/" + user;
    if (!role) return deny(ctx, 400, "member.add", resource, "role must be owner, admin or member", "", org_name);
    auto org = catalog->find_org(org_name);
    if (!org.ok() || !org->has_value()) return deny(ctx, 404, "member.add", resource, "no organization " + org_name);
    auto current = catalog->find_user(user);
    if (!current.ok() || !current->has_value()) return deny(ctx, 404, "member.add", resource, "no user " + user, "", org_name);
    auto existing = catalog->org_role((*org)->id, (*current)->id);
    bool touches_owner = *role == OrgRole::kOwner || (existing.ok() && existing->has_value() && **existing == OrgRole::kOwner);
    if (!org_admin(ctx, **org, touches_owner)) {
      return deny(ctx, 403, "member.add", resource, touches_owner ? "only an organization owner can change owners" : "needs organization admin", "Forbidden", org_name);
    }
    Status st = change(ctx, "member.add", resource, org_name, [&](json& d) -> Status {
      d = json{{"user", user}, {"role", std::string(to_string(*role))}};
      return catalog->set_membership((*org)->id, (*current)->id, *role);
    });
    if (!st.ok()) return fail_change(ctx, "member.add", resource, st.error(), org_name);
    send_json(res, 200, {{"org", org_name}, {"user", user}, {"role", std::string(to_string(*role))}});
  });

  http.Delete(R"(/api/lv/orgs/([^/]+)/members/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string org_name = req.matches[1], user = req.matches[2];
    std::string resource = org_name + "/members/" + user;
    if (!authenticate(ctx) || !require_login(ctx, "member.remove", resource)) return;
    auto org = catalog->find_org(org_name);
    if (!org.ok() || !org->has_value()) return deny(ctx, 404, "member.remove", resource, "no organization " + org_name);
    auto u = catalog->find_user(user);
    if (!u.ok() || !u->has_value()) return deny(ctx, 404, "member.remove", resource, "no user " + user, "", org_name);
    auto existing = catalog->org_role((*org)->id, (*u)->id);
    bool touches_owner = existing.ok() && existing->has_value() && **existing == OrgRole::kOwner;
    if (!org_admin(ctx, **org, touches_owner)) return deny(ctx, 403, "member.remove", resource, "needs organization admin", "Forbidden", org_name);
    Status st = change(ctx, "member.remove", resource, org_name, [&](json& d) -> Status {
      d = json{{"user", user}};
      return catalog->remove_membership((*org)->id, (*u)->id);
    });
    if (!st.ok()) return fail_change(ctx, "member.remove", resource, st.error(), org_name);
    send_json(res, 200, {{"removed", user}});
  });

  http.Post(R"(/api/lv/orgs/([^/]+)/teams)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string org_name = req.matches[1];
    if (!authenticate(ctx) || !require_login(ctx, "team.create", org_name)) return;
    auto body = parse_body(ctx, "team.create");
    if (!body) return;
    std::string team = str(*body, "name");
    std::string resource = org_name + "/teams/" + team;
    auto org = catalog->find_org(org_name);
    if (!org.ok() || !org->has_value()) return deny(ctx, 404, "team.create", resource, "no organization " + org_name);
    if (!org_admin(ctx, **org)) return deny(ctx, 403, "team.create", resource, "needs organization admin", "Forbidden", org_name);
    Status st = change(ctx, "team.create", resource, org_name, [&](json&) -> Status {
      auto t = catalog->create_team((*org)->id, team);
      return t.ok() ? Status::Ok() : Status(t.error());
    });
    if (!st.ok()) return fail_change(ctx, "team.create", resource, st.error(), org_name);
    send_json(res, 200, {{"org", org_name}, {"team", team}});
  });

  auto team_member = [this](bool add) {
    return [this, add](const httplib::Request& req, httplib::Response& res) {
      Ctx ctx = begin(req, res);
      std::string org_name = req.matches[1], team_name = req.matches[2];
      std::string action = add ? "team.member.add" : "team.member.remove";
      if (!authenticate(ctx) || !require_login(ctx, action, org_name + "/teams/" + team_name)) return;
      std::string user;
      if (add) {
        auto body = parse_body(ctx, action);
        if (!body) return;
        user = str(*body, "user");
      } else {
        user = req.matches[3];
      }
      std::string resource = org_name + "/teams/" + team_name + "/members/" + user;
      auto org = catalog->find_org(org_name);
      if (!org.ok() || !org->has_value()) return deny(ctx, 404, action, resource, "no organization " + org_name);
      auto team = catalog->find_team(org_name, team_name);
      if (!team.ok() || !team->has_value()) return deny(ctx, 404, action, resource, "no team " + org_name + "/" + team_name, "", org_name);
      auto u = catalog->find_user(user);
      if (!u.ok() || !u->has_value()) return deny(ctx, 404, action, resource, "no user " + user, "", org_name);
      if (!org_admin(ctx, **org)) return deny(ctx, 403, action, resource, "needs organization admin", "Forbidden", org_name);
      if (add) {
        auto role = catalog->org_role((*org)->id, (*u)->id);
        if (!role.ok() || !role->has_value()) {
          return deny(ctx, 400, action, resource, user + " is not a member of " + org_name + " (add the membership first)", "", org_name);
        }
      }
      Status st = change(ctx, action, resource, org_name, [&](json& d) -> Status {
        d = json{{"user", user}, {"team", team_name}};
        return add ? catalog->add_team_member((*team)->id, (*u)->id) : catalog->remove_team_member((*team)->id, (*u)->id);
      });
      if (!st.ok()) return fail_change(ctx, action, resource, st.error(), org_name);
      send_json(res, 200, {{"team", org_name + "/" + team_name}, {"user", user}, {"member", add}});
    };
  };
  http.Post(R"(/api/lv/orgs/([^/]+)/teams/([^/]+)/members)", team_member(true));
  http.Delete(R"(/api/lv/orgs/([^/]+)/teams/([^/]+)/members/([^/]+))", team_member(false));

  // Tokens: anyone for themselves (scopes no wider than the calling token's); a site admin for anyone.
  http.Post("/api/lv/tokens", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "token.create", "tokens")) return;
    auto body = parse_body(ctx, "token.create");
    if (!body) return;
    std::string user = str(*body, "user", ctx.who.name());
    std::string name = str(*body, "name", "token");
    auto scopes = parse_scopes(str(*body, "scopes", "read"));
    int64_t ttl = body->value("expires_in", int64_t(0));
    if (!scopes || *scopes == 0) return deny(ctx, 400, "token.create", user, "scopes must be read, write or admin");
    if (ttl < 0) return deny(ctx, 400, "token.create", user, "expires_in must be >= 0 seconds");
    if (user != ctx.who.name() && !site_admin(ctx)) {
      return deny(ctx, 403, "token.create", user, "only a site administrator can create tokens for other users", "Forbidden");
    }
    if ((*scopes & ~ctx.who.scopes) != 0 && !site_admin(ctx)) {
      return deny(ctx, 403, "token.create", user, "cannot create a token with wider scopes than the calling token", "Forbidden");
    }
    auto u = catalog->find_user(user);
    if (!u.ok() || !u->has_value()) return deny(ctx, 404, "token.create", user, "no user " + user);
    IssuedToken issued;
    Status st = change(ctx, "token.create", user, "", [&](json& d) -> Status {
      LV_ASSIGN_OR_RETURN(issued, issue_token(*catalog, **u, name, *scopes, ttl));
      d = json{{"token_id", issued.token.id}, {"name", name}, {"scopes", scopes_to_string(*scopes)}, {"expires_at", issued.token.expires_at}};
      return Status::Ok();
    });
    if (!st.ok()) return fail_change(ctx, "token.create", user, st.error());
    send_json(res, 200, {{"id", issued.token.id}, {"token", issued.secret}, {"user", user}, {"name", name},
                         {"scopes", scopes_to_string(*scopes)}, {"expires_at", issued.token.expires_at}});
  });

  http.Get("/api/lv/tokens", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "token.list", "tokens")) return;
    std::string user = req.has_param("user") ? req.get_param_value("user") : ctx.who.name();
    if (user != ctx.who.name() && !site_admin(ctx)) return deny(ctx, 403, "token.list", user, "forbidden", "Forbidden");
    auto u = catalog->find_user(user);
    if (!u.ok() || !u->has_value()) return deny(ctx, 404, "token.list", user, "no user " + user);
    auto tokens = catalog->list_tokens((*u)->id);
    if (!tokens.ok()) return send_error(res, 500, tokens.error().message);
    json out = json::array();
    for (auto& t : *tokens) {
      out.push_back({{"id", t.id}, {"name", t.name}, {"scopes", scopes_to_string(t.scopes)}, {"created", iso_time(t.created_at)},
                     {"expires_at", t.expires_at}, {"revoked", t.revoked_at != 0}});
    }
    send_json(res, 200, out);
  });

  http.Delete(R"(/api/lv/tokens/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string id = req.matches[1];
    if (!authenticate(ctx) || !require_login(ctx, "token.revoke", id)) return;
    auto t = catalog->find_token(id);
    if (!t.ok() || !t->has_value()) return deny(ctx, 404, "token.revoke", id, "no token " + id);
    if ((*t)->user_id != ctx.who.user->id && !site_admin(ctx)) return deny(ctx, 404, "token.revoke", id, "no token " + id);
    Status st = change(ctx, "token.revoke", (*t)->user, "", [&](json& d) -> Status {
      d = json{{"token_id", id}};
      return catalog->revoke_token(id);
    });
    if (!st.ok()) return fail_change(ctx, "token.revoke", id, st.error());
    send_json(res, 200, {{"revoked", id}});
  });

  http.Post("/api/lv/admin/rotate-key", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "key.rotate", "master-key")) return;
    if (!site_admin(ctx)) return deny(ctx, 403, "key.rotate", "master-key", "only a site administrator can rotate the master key", "Forbidden");
    std::string old_id = keyring->active_id();
    auto new_id = keyring->rotate();
    if (!new_id.ok()) {
      audit_event(ctx, "key.rotate", "master-key", kAuditError, json{{"reason", new_id.error().message}});
      return send_error(res, 500, new_id.error().message);
    }
    auto stats = blobs->rewrap_all();
    if (!stats.ok()) {
      audit_event(ctx, "key.rotate", "master-key", kAuditError, json{{"reason", stats.error().message}, {"new_key_id", *new_id}});
      return send_error(res, 500, stats.error().message);
    }
    json d{{"old_key_id", old_id}, {"new_key_id", *new_id}, {"blobs", stats->total}, {"rewrapped", stats->rewrapped}};
    audit_event(ctx, "key.rotate", "master-key", kAuditAllowed, d);
    send_json(res, 200, d);
  });

  http.Post("/api/lv/admin/gc", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "blob.gc", "blobs")) return;
    if (!site_admin(ctx)) return deny(ctx, 403, "blob.gc", "blobs", "only a site administrator can collect garbage", "Forbidden");
    auto body = parse_body(ctx, "blob.gc");
    if (!body) return;
    GcOptions options;
    auto dry_run = body->find("dry_run");
    if (dry_run != body->end()) {
      if (!dry_run->is_boolean()) return deny(ctx, 400, "blob.gc", "blobs", "dry_run must be true or false");
      options.dry_run = dry_run->get<bool>();
    }
    auto grace = body->find("grace_seconds");
    if (grace != body->end()) {
      constexpr uint64_t kCentury = uint64_t(100) * 366 * 24 * 3600;
      if (!grace->is_number_unsigned() || grace->get<uint64_t>() > kCentury) {
        return deny(ctx, 400, "blob.gc", "blobs", "grace_seconds must be a number of seconds from 0 to 100 years");
      }
      options.grace_seconds = static_cast<int64_t>(grace->get<uint64_t>());
    }
    auto stats = collect_garbage(*catalog, *blobs, options);
    if (!stats.ok()) {
      audit_event(ctx, "blob.gc", "blobs", kAuditError, json{{"reason", stats.error().message}});
      return send_error(res, 500, stats.error().message);
    }
    json d{{"dry_run", options.dry_run}, {"grace_seconds", options.grace_seconds}, {"blobs", stats->blobs},
           {"bytes", stats->bytes}, {"unregistered", stats->unregistered}};
    audit_event(ctx, "blob.gc", "blobs", kAuditAllowed, d);
    send_json(res, 200, d);
  });

  // The caller's visible trail: everything for a site admin, its organizations' entries for an
  // organization owner/admin.
  http.Get("/api/lv/audit/export", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "audit.export", "audit")) return;
    std::set<std::string> orgs;
    bool all = site_admin(ctx);
    if (!all) {
      if (!(ctx.who.scopes & kScopeAdmin)) return deny(ctx, 403, "audit.export", "audit", "needs a token with admin scope", "Forbidden");
      auto ms = catalog->memberships_of(ctx.who.user->id);
      if (ms.ok())
        for (auto& m : *ms)
          if (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin) orgs.insert(m.org);
      if (orgs.empty()) return deny(ctx, 403, "audit.export", "audit", "only a site or organization administrator can export the audit trail", "Forbidden");
    }
    audit_event(ctx, "audit.export", "audit", kAuditAllowed, json{{"scope", all ? json("all") : json(orgs)}});
    // Streamed in pages of about 256 KiB, up to this export's own entry: constant memory
    // however long the trail, and no lock held while a slow client reads.
    struct Export {
      int64_t next = 1, last = 0;
      std::function<bool(const AuditRecord&)> filter;
    };
    auto e = std::make_shared<Export>();
    Status st = catalog->transaction([&]() -> Status {
      LV_ASSIGN_OR_RETURN(auto last, audit->store().last());
      if (last) e->last = last->seq;
      return Status::Ok();
    });
    if (!st.ok()) return send_error(res, 500, st.error().message);
    if (!all) e->filter = [orgs](const AuditRecord& r) { return orgs.count(r.org) > 0; };
    res.status = 200;
    res.set_chunked_content_provider("application/x-ndjson", [this, e](size_t, httplib::DataSink& sink) {
      std::string page;
      Status st = catalog->transaction([&]() -> Status {
        LV_ASSIGN_OR_RETURN(e->next, audit->export_page(e->next, e->last, 256 * 1024, e->filter, page));
        return Status::Ok();
      });
      if (!st.ok()) return false;  // the client sees a truncated response, not a short trail
      if (!page.empty() && !sink.write(page.data(), page.size())) return false;
      if (e->next > e->last) sink.done();
      return true;
    });
  });

  http.Post("/api/lv/audit/verify", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "audit.verify", "audit")) return;
    if (!site_admin(ctx)) return deny(ctx, 403, "audit.verify", "audit", "only a site administrator can verify the live chain", "Forbidden");
    Result<VerifyReport> report = Error{};
    (void)catalog->transaction([&]() -> Status {
      report = audit->verify();
      return Status::Ok();
    });
    if (!report.ok()) return send_error(res, 500, report.error().message);
    send_json(res, 200, {{"ok", report->ok}, {"problem", audit_problem_name(report->problem)}, {"bad_seq", report->bad_seq},
                         {"message", report->message}, {"entries", report->entries}, {"head_mac", report->head_mac}});
  });
}

// ------------------------------------------------------------------------------------------
// Routing and request hygiene

void HubServer::Impl::install_routes() {
  // Every request: a request id; path traversal, encoded slashes and oversized headers refused
  // before any handler runs (audited); httplib's own Range handling switched off (we answer
  // Range in the download handler, with 416 past the end).
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    const_cast<httplib::Request&>(req).ranges.clear();
    size_t total = 0;
    for (auto& [k, v] : req.headers) {
      total += k.size() + v.size() + 4;
      if (v.size() > kMaxHeaderValue) {
        deny(ctx, 431, "http.request", req.path, "request header " + k + " too large");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (total > kMaxHeaderBytes) {
      deny(ctx, 431, "http.request", req.path, "request headers too large");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string raw_path = lower(req.target.substr(0, req.target.find('?')));
    if (raw_path.find("%2f") != std::string::npos || raw_path.find("%5c") != std::string::npos ||
        raw_path.find("%00") != std::string::npos) {
      deny(ctx, 400, "http.request", req.target, "encoded slash, backslash or NUL in the request path", "BadPath");
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
      deny(ctx, 400, "http.request", req.target, "path traversal ('.' or '..' segment) in the request path", "BadPath");
      return httplib::Server::HandlerResponse::Handled;
    }
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
      Ctx ctx = begin(req, res);
      audit_event(ctx, "http.request", req.path.empty() ? req.target : req.path, kAuditDenied,
                  json{{"status", res.status}, {"reason", "rejected by the HTTP layer"}});
    }
    std::string msg = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                      : res.status == 431 ? "request header line too large"
                      : res.status == 400 ? "bad request (malformed request line or headers)"
                      : res.status == 413 ? "payload too large"
                      : res.status == 414 ? "request URI too long"
                      : res.status == 416 ? "invalid Range header"
                                          : "request failed";
    if (res.status == 404 && !res.has_header("X-Error-Code")) res.set_header("X-Error-Code", "EndpointNotFound");
    res.set_content(json{{"error", msg}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
    send_error(res, 500, what);
  });

  if (!opt.quiet) {
    http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::cerr << req.remote_addr << " " << req.method << " " << req.path << " " << res.status << " "
                << res.get_header_value("X-Request-Id") << "\n";
    });
  }

  http.Get("/api/whoami-v2", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) whoami(ctx);
  });
  http.Get("/api/models", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) list_models(ctx);
  });
  http.Get(R"(/api/models/([^/]+)/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) model_info(ctx, req.matches[1], req.matches[2], "main", false);
  });
  http.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) model_info(ctx, req.matches[1], req.matches[2], req.matches[3], true);
  });
  http.Get(R"(/api/models/([^/]+)/([^/]+)/tree/([^/]+)(?:/(.+))?)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) tree(ctx, req.matches[1], req.matches[2], req.matches[3], req.matches[4]);
  });
  http.Get(R"(/([^/]+)/([^/]+)/(?:resolve|raw)/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) resolve(ctx, req.matches[1], req.matches[2], req.matches[3], req.matches[4]);
  });
  http.Post("/api/repos/create", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) create_repo(ctx);
  });
  http.Post(R"(/api/lv/models/([^/]+)/([^/]+)/upload)",
            [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              Ctx ctx = begin(req, res);
              if (!authenticate(ctx)) {
                res.set_header("Connection", "close");
                return;
              }
              upload(ctx, reader, req.matches[1], req.matches[2]);
            });
  http.Post(R"(/api/lv/models/([^/]+)/([^/]+)/commit/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) commit(ctx, req.matches[1], req.matches[2], req.matches[3]);
  });
  repo_admin_routes();
  admin_routes();
}

// ------------------------------------------------------------------------------------------

HubServer::HubServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HubServer::~HubServer() {
  stop();
  if (impl_) crypto::secure_zero(impl_->audit_key.data(), impl_->audit_key.size());
}

Result<std::unique_ptr<HubServer>> HubServer::open(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  LV_ASSIGN_OR_RETURN(impl->catalog, Catalog::open(options.data_dir, options.catalog_url));
  KeyringOptions kopt;
  kopt.data_dir = options.data_dir;
  kopt.key_file = options.master_key_file;
  LV_ASSIGN_OR_RETURN(impl->keyring, MasterKeyring::open(kopt));
  BlobStoreOptions bopt;
  bopt.data_dir = options.data_dir;
  bopt.segment_size = options.segment_size;
  bopt.fsync = options.fsync;
  LV_ASSIGN_OR_RETURN(impl->blobs, BlobStore::open(bopt, impl->keyring));
  LV_ASSIGN_OR_RETURN(auto audit_key, load_audit_key(options.data_dir, true));
  impl->audit_store = std::make_shared<CatalogAuditStore>(*impl->catalog);
  impl->audit_key = audit_key;
  impl->audit = std::make_unique<AuditLog>(audit_key, impl->audit_store);
  crypto::secure_zero(audit_key.data(), audit_key.size());
  LV_RETURN_IF_ERROR(impl->bootstrap_admin());
  int threads = std::max(4, options.threads);
  impl->http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl->http.set_keep_alive_max_count(1000);
  impl->http.set_read_timeout(60);
  impl->http.set_write_timeout(60);
  impl->install_routes();
  return std::unique_ptr<HubServer>(new HubServer(std::move(impl)));
}

const std::string& HubServer::bootstrap_token() const { return impl_->bootstrap_token; }
Catalog& HubServer::catalog() { return *impl_->catalog; }
BlobStore& HubServer::blobs() { return *impl_->blobs; }
AuditLog& HubServer::audit() { return *impl_->audit; }

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
    return p;
  }
  if (!impl_->http.bind_to_port(host, port)) return make_error("--listen " + listen, "cannot bind (address in use?)");
  return port;
}

Status HubServer::run() {
  if (!impl_->http.listen_after_bind()) return make_error("serve", "server stopped with an error");
  return Status::Ok();
}

void HubServer::stop() {
  if (!impl_) return;
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
