// The hub's administrative use cases: identities, organizations and teams, tokens, the master
// key, garbage collection and the audit trail (see hub_service.h).
#include <algorithm>
#include <iostream>

#include "lightvault/hub/service/hub_service.h"

namespace lv::hub {

using json = nlohmann::json;

namespace {
constexpr int64_t kMaxTokenLifetime = int64_t{100} * 366 * 24 * 3600;  // a century; keeps expiry far from overflow
ServiceError internal(const Error& e) { return ServiceError{ErrorCode::kInternal, e.message}; }
ServiceError forbidden(const std::string& message) { return ServiceError{ErrorCode::kDenied, message, "Forbidden"}; }
}  // namespace

// ---- identities

Result<bool> HubService::name_taken(const std::string& name) {
  // Users and organizations share one namespace (a repository's owner is either).
  LV_ASSIGN_OR_RETURN(auto user, catalog_.find_user(name));
  if (user) return true;
  LV_ASSIGN_OR_RETURN(auto org, catalog_.find_org(name));
  return org.has_value();
}

Outcome<std::vector<User>> HubService::list_users(const Caller& caller) {
  if (auto login = require_login(caller, "user.list", "users"); !login.ok()) return login.error();
  if (!caller.who.site_admin()) return refuse(caller, "user.list", "users", forbidden("only a site administrator can list users"));
  auto users = catalog_.list_users();
  if (!users.ok()) return internal(users.error());
  return std::move(*users);
}

Outcome<User> HubService::create_user(const Caller& caller, const std::string& name, bool site_admin) {
  if (auto login = require_login(caller, "user.create", "users"); !login.ok()) return login.error();
  if (!caller.who.site_admin()) return refuse(caller, "user.create", name, forbidden("only a site administrator can create users"));
  User user;
  bool taken = false;
  Status st = change(caller, "user.create", name, "", [&](json& d) -> Status {
    d = json{{"site_admin", site_admin}};
    LV_ASSIGN_OR_RETURN(taken, name_taken(name));
    LV_ASSIGN_OR_RETURN(user, catalog_.create_user(name, site_admin));
    return Status::Ok();
  });
  if (!st.ok()) return rejected(caller, "user.create", name, st.error(), taken ? ErrorCode::kConflict : ErrorCode::kInvalid, "");
  return user;
}

Outcome<std::vector<OrgView>> HubService::list_admin_orgs(const Caller& caller) {
  if (auto login = require_login(caller, "org.list", "orgs"); !login.ok()) return login.error();
  auto orgs = catalog_.list_orgs();
  if (!orgs.ok()) return internal(orgs.error());
  std::vector<OrgView> out;
  for (auto& o : *orgs) {
    if (!org_admin(caller.who, o)) continue;
    OrgView v{o, {}, {}};
    if (auto ms = catalog_.list_memberships(o.id); ms.ok()) v.members = std::move(*ms);
    if (auto ts = catalog_.list_teams(o.id); ts.ok()) v.teams = std::move(*ts);
    out.push_back(std::move(v));
  }
  return out;
}

Outcome<OrgView> HubService::org_detail(const Caller& caller, const std::string& org_name) {
  if (auto login = require_login(caller, "org.info", org_name); !login.ok()) return login.error();
  auto org = catalog_.find_org(org_name);
  if (!org.ok()) return internal(org.error());
  // An organization the caller is not part of looks like one that does not exist.
  std::optional<OrgRole> role;
  if (org->has_value()) {
    auto r = catalog_.org_role((*org)->id, caller.who.user->id);
    if (!r.ok()) return internal(r.error());
    role = *r;
  }
  if (!org->has_value() || (!role && !caller.who.site_admin())) {
    return ServiceError{ErrorCode::kNotFound, "no organization " + org_name};
  }
  OrgView v{**org, {}, {}};
  auto ms = catalog_.list_memberships(v.org.id);
  if (!ms.ok()) return internal(ms.error());
  v.members = std::move(*ms);
  auto ts = catalog_.list_teams(v.org.id);
  if (!ts.ok()) return internal(ts.error());
  v.teams = std::move(*ts);
  return v;
}

Outcome<std::vector<TeamRoster>> HubService::team_rosters(const Caller& caller, const std::string& org_name) {
  auto detail = org_detail(caller, org_name);
  if (!detail.ok()) return detail.error();
  std::vector<TeamRoster> out;
  for (auto& t : detail->teams) out.push_back({t, {}});
  // The catalog lists a user's teams, not a team's users: ask once per member.
  for (auto& m : detail->members) {
    auto ids = catalog_.team_ids_of(m.user_id);
    if (!ids.ok()) return internal(ids.error());
    for (auto& r : out) {
      if (std::find(ids->begin(), ids->end(), r.team.id) != ids->end()) r.members.push_back(m.user);
    }
  }
  return out;
}

Outcome<Org> HubService::create_org(const Caller& caller, const std::string& name, const std::string& owner_name) {
  if (auto login = require_login(caller, "org.create", "orgs"); !login.ok()) return login.error();
  // Any user with an admin-scoped token may found an organization and becomes its owner;
  // a site admin may name another owner.
  if (!(caller.who.scopes & kScopeAdmin)) return refuse(caller, "org.create", name, forbidden("needs a token with admin scope"));
  std::string owner = owner_name.empty() ? caller.who.name() : owner_name;
  if (owner != caller.who.name() && !caller.who.site_admin()) {
    return refuse(caller, "org.create", name, forbidden("only a site administrator can name another owner"));
  }
  Org org;
  bool taken = false;
  Status st = change(caller, "org.create", name, name, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(taken, name_taken(name));
    LV_ASSIGN_OR_RETURN(org, catalog_.create_org(name));
    LV_ASSIGN_OR_RETURN(auto u, catalog_.find_user(owner));
    if (!u) return make_error("organization " + name, "no user " + owner);
    d = json{{"owner", owner}};
    return catalog_.set_membership(org.id, u->id, OrgRole::kOwner);
  });
  if (!st.ok()) return rejected(caller, "org.create", name, st.error(), taken ? ErrorCode::kConflict : ErrorCode::kInvalid, name);
  return org;
}

// Memberships: owner/admin of the org (only an owner grants or removes ownership) or site admin.
Outcome<Membership> HubService::set_member(const Caller& caller, const std::string& org_name, const std::string& user,
                                           const std::string& role_name) {
  std::string resource = org_name + "/members/" + user;
  if (auto login = require_login(caller, "member.add", org_name); !login.ok()) return login.error();
  auto role = parse_org_role(role_name);
  if (!role) return refuse(caller, "member.add", resource, {ErrorCode::kInvalid, "role must be owner, admin or member"}, org_name);
  auto org = catalog_.find_org(org_name);
  if (!org.ok() || !org->has_value()) return refuse(caller, "member.add", resource, {ErrorCode::kNotFound, "no organization " + org_name});
  auto current = catalog_.find_user(user);
  if (!current.ok() || !current->has_value()) {
    return refuse(caller, "member.add", resource, {ErrorCode::kNotFound, "no user " + user}, org_name);
  }
  auto existing = catalog_.org_role((*org)->id, (*current)->id);
  bool touches_owner = *role == OrgRole::kOwner || (existing.ok() && existing->has_value() && **existing == OrgRole::kOwner);
  if (!org_admin(caller.who, **org, touches_owner)) {
    return refuse(caller, "member.add", resource,
                  forbidden(touches_owner ? "only an organization owner can change owners" : "needs organization admin"), org_name);
  }
  Status st = change(caller, "member.add", resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}, {"role", std::string(to_string(*role))}};
    return catalog_.set_membership((*org)->id, (*current)->id, *role);
  });
  if (!st.ok()) return rejected(caller, "member.add", resource, st.error(), ErrorCode::kInvalid, org_name);
  return Membership{org_name, (*org)->id, user, (*current)->id, *role};
}

Outcome<Done> HubService::remove_member(const Caller& caller, const std::string& org_name, const std::string& user) {
  std::string resource = org_name + "/members/" + user;
  if (auto login = require_login(caller, "member.remove", resource); !login.ok()) return login.error();
  auto org = catalog_.find_org(org_name);
  if (!org.ok() || !org->has_value()) return refuse(caller, "member.remove", resource, {ErrorCode::kNotFound, "no organization " + org_name});
  auto u = catalog_.find_user(user);
  if (!u.ok() || !u->has_value()) return refuse(caller, "member.remove", resource, {ErrorCode::kNotFound, "no user " + user}, org_name);
  auto existing = catalog_.org_role((*org)->id, (*u)->id);
  bool touches_owner = existing.ok() && existing->has_value() && **existing == OrgRole::kOwner;
  if (!org_admin(caller.who, **org, touches_owner)) {
    return refuse(caller, "member.remove", resource, forbidden("needs organization admin"), org_name);
  }
  Status st = change(caller, "member.remove", resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}};
    return catalog_.remove_membership((*org)->id, (*u)->id);
  });
  if (!st.ok()) return rejected(caller, "member.remove", resource, st.error(), ErrorCode::kInvalid, org_name);
  return Done{};
}

Outcome<Team> HubService::create_team(const Caller& caller, const std::string& org_name, const std::string& team) {
  std::string resource = org_name + "/teams/" + team;
  if (auto login = require_login(caller, "team.create", org_name); !login.ok()) return login.error();
  auto org = catalog_.find_org(org_name);
  if (!org.ok() || !org->has_value()) return refuse(caller, "team.create", resource, {ErrorCode::kNotFound, "no organization " + org_name});
  if (!org_admin(caller.who, **org)) return refuse(caller, "team.create", resource, forbidden("needs organization admin"), org_name);
  Team created;
  bool taken = false;
  Status st = change(caller, "team.create", resource, org_name, [&](json&) -> Status {
    LV_ASSIGN_OR_RETURN(auto existing, catalog_.find_team(org_name, team));
    taken = existing.has_value();
    LV_ASSIGN_OR_RETURN(created, catalog_.create_team((*org)->id, team));
    return Status::Ok();
  });
  if (!st.ok()) return rejected(caller, "team.create", resource, st.error(), taken ? ErrorCode::kConflict : ErrorCode::kInvalid, org_name);
  return created;
}

Outcome<Done> HubService::set_team_member(const Caller& caller, const std::string& org_name, const std::string& team_name,
                                          const std::string& user, bool add) {
  std::string action = add ? "team.member.add" : "team.member.remove";
  std::string resource = org_name + "/teams/" + team_name + "/members/" + user;
  if (auto login = require_login(caller, action, org_name + "/teams/" + team_name); !login.ok()) return login.error();
  auto org = catalog_.find_org(org_name);
  if (!org.ok() || !org->has_value()) return refuse(caller, action, resource, {ErrorCode::kNotFound, "no organization " + org_name});
  auto team = catalog_.find_team(org_name, team_name);
  if (!team.ok() || !team->has_value()) {
    return refuse(caller, action, resource, {ErrorCode::kNotFound, "no team " + org_name + "/" + team_name}, org_name);
  }
  auto u = catalog_.find_user(user);
  if (!u.ok() || !u->has_value()) return refuse(caller, action, resource, {ErrorCode::kNotFound, "no user " + user}, org_name);
  if (!org_admin(caller.who, **org)) return refuse(caller, action, resource, forbidden("needs organization admin"), org_name);
  if (add) {
    auto role = catalog_.org_role((*org)->id, (*u)->id);
    if (!role.ok() || !role->has_value()) {
      return refuse(caller, action, resource,
                    {ErrorCode::kInvalid, user + " is not a member of " + org_name + " (add the membership first)"}, org_name);
    }
  }
  Status st = change(caller, action, resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}, {"team", team_name}};
    return add ? catalog_.add_team_member((*team)->id, (*u)->id) : catalog_.remove_team_member((*team)->id, (*u)->id);
  });
  if (!st.ok()) return rejected(caller, action, resource, st.error(), ErrorCode::kInvalid, org_name);
  return Done{};
}

// ---- sessions

Result<Authenticated> HubService::authenticate(const std::string& secret) { return authenticate_token(catalog_, secret); }

std::optional<Principal> HubService::refresh(const Principal& who) {
  if (!who.token || !who.user) return std::nullopt;
  auto t = catalog_.find_token(who.token->id);
  if (!t.ok() || !t->has_value()) return std::nullopt;
  const Token& token = **t;
  if (token.revoked_at != 0 || (token.expires_at != 0 && token.expires_at <= now_unix())) return std::nullopt;
  auto u = catalog_.user_by_id(token.user_id);
  if (!u.ok() || !u->has_value()) return std::nullopt;
  Principal now;
  now.user = **u;
  now.token = token;
  now.scopes = token.scopes;
  return now;
}

// ---- tokens: anyone for themselves (scopes no wider than the calling token's); a site admin for anyone.

Outcome<IssuedToken> HubService::create_token(const Caller& caller, const TokenRequest& request) {
  if (auto login = require_login(caller, "token.create", "tokens"); !login.ok()) return login.error();
  std::string user = request.user.empty() ? caller.who.name() : request.user;
  auto scopes = parse_scopes(request.scopes);
  if (!scopes || *scopes == 0) return refuse(caller, "token.create", user, {ErrorCode::kInvalid, "scopes must be read, write or admin"});
  if (request.expires_in < 0 || request.expires_in > kMaxTokenLifetime) {
    return refuse(caller, "token.create", user, {ErrorCode::kInvalid, "expires_in must be a number of seconds from 0 to 100 years"});
  }
  if (user != caller.who.name() && !caller.who.site_admin()) {
    return refuse(caller, "token.create", user, forbidden("only a site administrator can create tokens for other users"));
  }
  if ((*scopes & ~caller.who.scopes) != 0 && !caller.who.site_admin()) {
    return refuse(caller, "token.create", user, forbidden("cannot create a token with wider scopes than the calling token"));
  }
  auto u = catalog_.find_user(user);
  if (!u.ok() || !u->has_value()) return refuse(caller, "token.create", user, {ErrorCode::kNotFound, "no user " + user});
  IssuedToken issued;
  Status st = change(caller, "token.create", user, "", [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(issued, issue_token(catalog_, **u, request.name, *scopes, request.expires_in));
    d = json{{"token_id", issued.token.id}, {"name", request.name}, {"scopes", scopes_to_string(*scopes)},
             {"expires_at", issued.token.expires_at}};
    return Status::Ok();
  });
  if (!st.ok()) return rejected(caller, "token.create", user, st.error(), ErrorCode::kInvalid, "");
  return issued;
}

Outcome<std::vector<Token>> HubService::list_tokens(const Caller& caller, const std::string& user_name) {
  if (auto login = require_login(caller, "token.list", "tokens"); !login.ok()) return login.error();
  std::string user = user_name.empty() ? caller.who.name() : user_name;
  if (user != caller.who.name() && !caller.who.site_admin()) return refuse(caller, "token.list", user, forbidden("forbidden"));
  auto u = catalog_.find_user(user);
  if (!u.ok() || !u->has_value()) return refuse(caller, "token.list", user, {ErrorCode::kNotFound, "no user " + user});
  auto tokens = catalog_.list_tokens((*u)->id);
  if (!tokens.ok()) return internal(tokens.error());
  return std::move(*tokens);
}

Outcome<Token> HubService::revoke_token(const Caller& caller, const std::string& id) {
  if (auto login = require_login(caller, "token.revoke", id); !login.ok()) return login.error();
  auto t = catalog_.find_token(id);
  // Another user's token looks like no token at all.
  if (!t.ok() || !t->has_value() || ((*t)->user_id != caller.who.user->id && !caller.who.site_admin())) {
    return refuse(caller, "token.revoke", id, {ErrorCode::kNotFound, "no token " + id});
  }
  Status st = change(caller, "token.revoke", (*t)->user, "", [&](json& d) -> Status {
    d = json{{"token_id", id}};
    LV_RETURN_IF_ERROR(catalog_.revoke_token(id));
    // The token's browser sessions end with it, on every replica, in the same transaction.
    LV_ASSIGN_OR_RETURN(int64_t ended, catalog_.delete_sessions_of_token(id));
    if (ended > 0) d["sessions_ended"] = ended;
    return Status::Ok();
  });
  if (!st.ok()) return rejected(caller, "token.revoke", id, st.error(), ErrorCode::kInvalid, "");
  return **t;
}

// ---- operations

Outcome<HubService::KeyRotation> HubService::rotate_key(const Caller& caller) {
  if (auto login = require_login(caller, "key.rotate", "master-key"); !login.ok()) return login.error();
  if (!caller.who.site_admin()) {
    return refuse(caller, "key.rotate", "master-key", forbidden("only a site administrator can rotate the master key"));
  }
  KeyRotation r;
  r.old_key_id = keyring_.active_id();
  auto new_id = keyring_.rotate();
  if (!new_id.ok()) {
    audit_event(caller, "key.rotate", "master-key", kAuditError, json{{"reason", new_id.error().message}});
    return internal(new_id.error());
  }
  r.new_key_id = *new_id;
  auto stats = blobs_.rewrap_all();
  if (!stats.ok()) {
    audit_event(caller, "key.rotate", "master-key", kAuditError, json{{"reason", stats.error().message}, {"new_key_id", *new_id}});
    return internal(stats.error());
  }
  r.blobs = stats->total;
  r.rewrapped = stats->rewrapped;
  audit_event(caller, "key.rotate", "master-key", kAuditAllowed,
              json{{"old_key_id", r.old_key_id}, {"new_key_id", r.new_key_id}, {"blobs", r.blobs}, {"rewrapped", r.rewrapped}});
  return r;
}

Outcome<GcStats> HubService::collect_garbage(const Caller& caller, const GcOptions& options) {
  if (auto login = require_login(caller, "blob.gc", "blobs"); !login.ok()) return login.error();
  if (!caller.who.site_admin()) return refuse(caller, "blob.gc", "blobs", forbidden("only a site administrator can collect garbage"));
  if (options.grace_seconds < 0 || options.grace_seconds > kMaxGcGraceSeconds) {
    return refuse(caller, "blob.gc", "blobs", {ErrorCode::kInvalid, "grace_seconds must be a number of seconds from 0 to 100 years"});
  }
  auto stats = hub::collect_garbage(catalog_, blobs_, options);
  if (!stats.ok()) {
    audit_event(caller, "blob.gc", "blobs", kAuditError, json{{"reason", stats.error().message}});
    return internal(stats.error());
  }
  audit_event(caller, "blob.gc", "blobs", kAuditAllowed,
              json{{"dry_run", options.dry_run}, {"grace_seconds", options.grace_seconds}, {"blobs", stats->blobs},
                   {"bytes", stats->bytes}, {"unregistered", stats->unregistered}});
  return *stats;
}

// ---- audit

Outcome<AuditScope> HubService::audit_scope(const Caller& caller, const std::string& audit_action) {
  if (auto login = require_login(caller, audit_action, "audit"); !login.ok()) return login.error();
  AuditScope scope;
  scope.all = caller.who.site_admin();
  if (scope.all) return scope;
  if (!(caller.who.scopes & kScopeAdmin)) return refuse(caller, audit_action, "audit", forbidden("needs a token with admin scope"));
  auto ms = catalog_.memberships_of(caller.who.user->id);
  if (ms.ok()) {
    for (auto& m : *ms) {
      if (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin) scope.orgs.push_back(m.org);
    }
  }
  if (scope.orgs.empty()) {
    return refuse(caller, audit_action, "audit",
                  forbidden("only a site or organization administrator can export the audit trail"));
  }
  return scope;
}

Outcome<std::pair<AuditScope, int64_t>> HubService::begin_audit_export(const Caller& caller) {
  auto scope = audit_scope(caller, "audit.export");
  if (!scope.ok()) return scope.error();
  audit_event(caller, "audit.export", "audit", kAuditAllowed, json{{"scope", scope->all ? json("all") : json(scope->orgs)}});
  int64_t last_seq = 0;
  Status st = catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto last, audit_.log().store().last());
    if (last) last_seq = last->seq;
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return std::make_pair(std::move(*scope), last_seq);
}

Result<int64_t> HubService::audit_export_page(int64_t from_seq, int64_t to_seq, size_t max_bytes, const AuditScope& scope,
                                              std::string& out) {
  std::function<bool(const AuditRecord&)> filter;
  if (!scope.all) filter = [&scope](const AuditRecord& r) { return scope.includes(r.org); };
  int64_t next = from_seq;
  Status st = catalog_.transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(next, audit_.log().export_page(from_seq, to_seq, max_bytes, filter, out));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return next;
}

Outcome<AuditPage> HubService::read_audit(const Caller& caller, const AuditQuery& query) {
  auto scope = audit_scope(caller, "audit.read");
  if (!scope.ok()) return scope.error();
  AuditPage page;
  page.all = scope->all;
  const size_t limit = std::clamp<size_t>(query.limit, 1, 1000);
  auto matches = [&](const AuditRow& row) {
    if (!scope->includes(row.org)) return false;
    json e = json::parse(row.json, nullptr, false);
    if (e.is_discarded() || !e.is_object()) return false;
    auto field = [&](const char* key) { return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : ""; };
    if (!query.actor.empty() && field("actor") != query.actor) return false;
    if (!query.action.empty() && field("action") != query.action) return false;
    if (!query.outcome.empty() && field("outcome") != query.outcome) return false;
    if (!query.resource.empty()) {
      std::string r = field("resource");
      if (r != query.resource && r.rfind(query.resource + "/", 0) != 0) return false;
    }
    std::string t = field("time");
    if (!query.since.empty() && t < query.since) return false;
    if (!query.until.empty() && t.substr(0, query.until.size()) > query.until) return false;
    return true;
  };
  // Newest first, in windows read backwards from before_seq.
  constexpr int64_t kWindow = 512;
  Status st = catalog_.transaction([&]() -> Status {
    int64_t hi = query.before_seq - 1;
    if (query.before_seq <= 0) {
      LV_ASSIGN_OR_RETURN(auto last, catalog_.last_audit());
      hi = last ? last->seq : 0;
    }
    while (hi >= 1) {
      int64_t lo = std::max<int64_t>(1, hi - kWindow + 1);
      LV_ASSIGN_OR_RETURN(auto rows, catalog_.audit_rows(lo, hi - lo + 1));
      for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        if (it->seq > hi || !matches(*it)) continue;
        if (page.entries.size() == limit) {
          page.next_before_seq = page.entries.back().seq;
          return Status::Ok();
        }
        page.entries.push_back(AuditRecord{it->seq, it->org, it->json, it->head});
      }
      hi = lo - 1;
    }
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return page;
}

Outcome<VerifyReport> HubService::verify_audit(const Caller& caller) {
  if (auto login = require_login(caller, "audit.verify", "audit"); !login.ok()) return login.error();
  if (!caller.who.site_admin()) {
    return refuse(caller, "audit.verify", "audit", forbidden("only a site administrator can verify the live chain"));
  }
  return verify_live_chain();
}

Outcome<VerifyReport> HubService::audit_chain_status(const Caller& caller) {
  auto scope = audit_scope(caller, "audit.read");
  if (!scope.ok()) return scope.error();
  return verify_live_chain();
}

Outcome<VerifyReport> HubService::verify_live_chain() {
  Result<VerifyReport> report = Error{};
  (void)catalog_.transaction([&]() -> Status {
    report = audit_.log().verify();
    return Status::Ok();
  });
  if (!report.ok()) return internal(report.error());
  return std::move(*report);
}

}  // namespace lv::hub
