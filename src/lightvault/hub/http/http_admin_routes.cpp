// The hub's administration routes: identities, tokens, master keys, garbage collection, audit.
// Each reads its request, calls one use case of the service layer and writes its answer.
#include "lightvault/hub/http/http_server_impl.h"

namespace lv::hub {

namespace {

json org_json(const OrgView& v) {
  json members = json::array(), teams = json::array();
  for (auto& m : v.members) members.push_back({{"user", m.user}, {"role", std::string(to_string(m.role))}});
  for (auto& t : v.teams) teams.push_back(t.name);
  return json{{"name", v.org.name}, {"members", members}, {"teams", teams}};
}

}  // namespace

void HubServer::Impl::admin_routes() {
  http.Get("/api/lv/users", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto users = service->list_users(ctx.caller());
    if (!users.ok()) return send_failure(res, users.error());
    json out = json::array();
    for (auto& u : *users) out.push_back({{"name", u.name}, {"site_admin", u.site_admin}, {"created", utc_rfc3339(u.created_at, true)}});
    send_json(res, 200, out);
  });

  http.Post("/api/lv/users", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    if (!ctx.who.authenticated()) return send_failure(res, service->create_user(ctx.caller(), "", false).error());
    auto body = parse_body(ctx, "user.create");
    if (!body) return;
    std::string name = str(*body, "name");
    // Only a site admin gets as far as the site_admin field's type check.
    bool admin = ctx.who.site_admin() ? field(*body, "site_admin", false) : false;
    auto user = service->create_user(ctx.caller(), name, admin);
    if (!user.ok()) return send_failure(res, user.error());
    send_json(res, 200, {{"name", name}, {"site_admin", admin}});
  });

  http.Get("/api/lv/orgs", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    // Only the organizations the caller may administer, with their members and teams.
    auto orgs = service->list_admin_orgs(ctx.caller());
    if (!orgs.ok()) return send_failure(res, orgs.error());
    json out = json::array();
    for (auto& o : *orgs) out.push_back(org_json(o));
    send_json(res, 200, out);
  });

  http.Post("/api/lv/orgs", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    if (!ctx.who.authenticated()) return send_failure(res, service->create_org(ctx.caller(), "", "").error());
    auto body = parse_body(ctx, "org.create");
    if (!body) return;
    std::string name = str(*body, "name");
    std::string owner = str(*body, "owner", ctx.who.name());
    auto org = service->create_org(ctx.caller(), name, owner);
    if (!org.ok()) return send_failure(res, org.error());
    send_json(res, 200, {{"name", name}, {"owner", owner}});
  });

  http.Post(R"(/api/lv/orgs/([^/]+)/members)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string org_name = req.matches[1];
    if (!authenticate(ctx)) return;
    if (!ctx.who.authenticated()) return send_failure(res, service->set_member(ctx.caller(), org_name, "", "").error());
    auto body = parse_body(ctx, "member.add");
    if (!body) return;
    auto m = service->set_member(ctx.caller(), org_name, str(*body, "user"), str(*body, "role", "member"));
    if (!m.ok()) return send_failure(res, m.error());
    send_json(res, 200, {{"org", org_name}, {"user", m->user}, {"role", std::string(to_string(m->role))}});
  });

  http.Delete(R"(/api/lv/orgs/([^/]+)/members/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string user = req.matches[2];
    if (!authenticate(ctx)) return;
    auto done = service->remove_member(ctx.caller(), req.matches[1], user);
    if (!done.ok()) return send_failure(res, done.error());
    send_json(res, 200, {{"removed", user}});
  });

  http.Post(R"(/api/lv/orgs/([^/]+)/teams)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string org_name = req.matches[1];
    if (!authenticate(ctx)) return;
    if (!ctx.who.authenticated()) return send_failure(res, service->create_team(ctx.caller(), org_name, "").error());
    auto body = parse_body(ctx, "team.create");
    if (!body) return;
    std::string team = str(*body, "name");
    auto t = service->create_team(ctx.caller(), org_name, team);
    if (!t.ok()) return send_failure(res, t.error());
    send_json(res, 200, {{"org", org_name}, {"team", team}});
  });

  auto team_member = [this](bool add) {
    return [this, add](const httplib::Request& req, httplib::Response& res) {
      Ctx ctx = begin(req, res);
      std::string org_name = req.matches[1], team_name = req.matches[2];
      if (!authenticate(ctx)) return;
      std::string user;
      if (!ctx.who.authenticated()) {
        return send_failure(res, service->set_team_member(ctx.caller(), org_name, team_name, "", add).error());
      }
      if (add) {
        auto body = parse_body(ctx, "team.member.add");
        if (!body) return;
        user = str(*body, "user");
      } else {
        user = req.matches[3];
      }
      auto done = service->set_team_member(ctx.caller(), org_name, team_name, user, add);
      if (!done.ok()) return send_failure(res, done.error());
      send_json(res, 200, {{"team", org_name + "/" + team_name}, {"user", user}, {"member", add}});
    };
  };
  http.Post(R"(/api/lv/orgs/([^/]+)/teams/([^/]+)/members)", team_member(true));
  http.Delete(R"(/api/lv/orgs/([^/]+)/teams/([^/]+)/members/([^/]+))", team_member(false));

  http.Post("/api/lv/tokens", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    if (!ctx.who.authenticated()) return send_failure(res, service->create_token(ctx.caller(), {}).error());
    auto body = parse_body(ctx, "token.create");
    if (!body) return;
    TokenRequest r;
    r.user = field(*body, "user", ctx.who.name());
    r.name = field(*body, "name", std::string("token"));
    r.scopes = field(*body, "scopes", std::string("read"));
    r.expires_in = field(*body, "expires_in", int64_t(0));
    auto issued = service->create_token(ctx.caller(), r);
    if (!issued.ok()) return send_failure(res, issued.error());
    send_json(res, 200, {{"id", issued->token.id}, {"token", issued->secret}, {"user", issued->token.user}, {"name", r.name},
                         {"scopes", scopes_to_string(issued->token.scopes)}, {"expires_at", issued->token.expires_at}});
  });

  http.Get("/api/lv/tokens", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto tokens = service->list_tokens(ctx.caller(), req.has_param("user") ? req.get_param_value("user") : ctx.who.name());
    if (!tokens.ok()) return send_failure(res, tokens.error());
    json out = json::array();
    for (auto& t : *tokens) {
      out.push_back({{"id", t.id}, {"name", t.name}, {"scopes", scopes_to_string(t.scopes)}, {"created", utc_rfc3339(t.created_at, true)},
                     {"expires_at", t.expires_at}, {"revoked", t.revoked_at != 0}});
    }
    send_json(res, 200, out);
  });

  http.Delete(R"(/api/lv/tokens/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    std::string id = req.matches[1];
    if (!authenticate(ctx)) return;
    auto t = service->revoke_token(ctx.caller(), id);
    if (!t.ok()) return send_failure(res, t.error());
    send_json(res, 200, {{"revoked", id}});
  });

  http.Post("/api/lv/admin/rotate-key", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto r = service->rotate_key(ctx.caller());
    if (!r.ok()) return send_failure(res, r.error());
    send_json(res, 200, {{"old_key_id", r->old_key_id}, {"new_key_id", r->new_key_id}, {"blobs", r->blobs}, {"rewrapped", r->rewrapped}});
  });

  http.Post("/api/lv/admin/gc", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    GcOptions options;
    // Who may collect is decided before the body is looked at.
    if (!ctx.who.site_admin()) return send_failure(res, service->collect_garbage(ctx.caller(), options).error());
    auto body = parse_body(ctx, "blob.gc");
    if (!body) return;
    auto dry_run = body->find("dry_run");
    if (dry_run != body->end()) {
      if (!dry_run->is_boolean()) return deny(ctx, {ErrorCode::kInvalid, "dry_run must be true or false"}, "blob.gc", "blobs");
      options.dry_run = dry_run->get<bool>();
    }
    auto grace = body->find("grace_seconds");
    if (grace != body->end()) {
      if (!grace->is_number_unsigned() || grace->get<uint64_t>() > static_cast<uint64_t>(kMaxGcGraceSeconds)) {
        return deny(ctx, {ErrorCode::kInvalid, "grace_seconds must be a number of seconds from 0 to 100 years"}, "blob.gc", "blobs");
      }
      options.grace_seconds = static_cast<int64_t>(grace->get<uint64_t>());
    }
    auto stats = service->collect_garbage(ctx.caller(), options);
    if (!stats.ok()) return send_failure(res, stats.error());
    send_json(res, 200, {{"dry_run", options.dry_run}, {"grace_seconds", options.grace_seconds}, {"blobs", stats->blobs},
                         {"bytes", stats->bytes}, {"unregistered", stats->unregistered}});
  });

  // The caller's visible trail: everything for a site admin, its organizations' entries for an
  // organization owner/admin.
  http.Get("/api/lv/audit/export", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto begun = service->begin_audit_export(ctx.caller());
    if (!begun.ok()) return send_failure(res, begun.error());
    // Streamed in pages of about 256 KiB, up to this export's own entry: constant memory
    // however long the trail, and no lock held while a slow client reads.
    struct Export {
      int64_t next = 1, last = 0;
      AuditScope scope;
    };
    auto e = std::make_shared<Export>(Export{1, begun->second, std::move(begun->first)});
    res.status = 200;
    res.set_chunked_content_provider("application/x-ndjson", [this, e](size_t, httplib::DataSink& sink) {
      std::string page;
      auto next = service->audit_export_page(e->next, e->last, 256 * 1024, e->scope, page);
      if (!next.ok()) return false;  // the client sees a truncated response, not a short trail
      e->next = *next;
      if (!page.empty() && !sink.write(page.data(), page.size())) return false;
      if (e->next > e->last) sink.done();
      return true;
    });
  });

  http.Post("/api/lv/audit/verify", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto report = service->verify_audit(ctx.caller());
    if (!report.ok()) return send_failure(res, report.error());
    send_json(res, 200, {{"ok", report->ok}, {"problem", audit_problem_name(report->problem)}, {"bad_seq", report->bad_seq},
                         {"message", report->message}, {"entries", report->entries}, {"head_mac", report->head_mac}});
  });
}

}  // namespace lv::hub
