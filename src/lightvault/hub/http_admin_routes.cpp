// The hub's administration routes: identities, tokens, master keys, garbage collection, audit.
#include "lightvault/hub/http_server_impl.h"

#include <iostream>
#include <set>

#include "lightvault/hub/blob_gc.h"

namespace lv::hub {

namespace {
constexpr int64_t kMaxTokenLifetime = int64_t{100} * 366 * 24 * 3600;  // a century; keeps expiry far from overflow
}  // namespace

void HubServer::Impl::admin_routes() {
  http.Get("/api/lv/users", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx) || !require_login(ctx, "user.list", "users")) return;
    if (!site_admin(ctx)) return deny(ctx, 403, "user.list", "users", "only a site administrator can list users", "Forbidden");
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
    bool admin = field(*body, "site_admin", false);
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
    // Only the organizations the caller may administer, with their members and teams.
    auto orgs = catalog->list_orgs();
    if (!orgs.ok()) return send_error(res, 500, orgs.error().message);
    json out = json::array();
    for (auto& o : *orgs) {
      if (!org_admin(ctx, o)) continue;
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
    std::string user = field(*body, "user", ctx.who.name());
    std::string name = field(*body, "name", std::string("token"));
    auto scopes = parse_scopes(field(*body, "scopes", std::string("read")));
    int64_t ttl = field(*body, "expires_in", int64_t(0));
    if (!scopes || *scopes == 0) return deny(ctx, 400, "token.create", user, "scopes must be read, write or admin");
    if (ttl < 0 || ttl > kMaxTokenLifetime) {
      return deny(ctx, 400, "token.create", user, "expires_in must be a number of seconds from 0 to 100 years");
    }
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
      if (!grace->is_number_unsigned() || grace->get<uint64_t>() > static_cast<uint64_t>(kMaxGcGraceSeconds)) {
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

}  // namespace lv::hub
