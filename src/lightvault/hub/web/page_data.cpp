// The web pages' access to the hub (see page_data.h): today over HubServer::Impl.
#include "lightvault/hub/web/page_data.h"

#include <algorithm>
#include <deque>
#include <set>

#include "lightvault/hub/audit_log.h"
#include "lightvault/hub/blob_store.h"

namespace lv::hub::web {

using json = nlohmann::json;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Problem internal(const Error& e) { return Problem{Refusal::kInternal, e.message}; }

// Conflicts are worded "already ..." or "... moved" by the catalog.
Refusal refusal_of(const Error& e) {
  return e.message.find("already") != std::string::npos || e.message.find("moved") != std::string::npos
             ? Refusal::kConflict
             : Refusal::kInvalid;
}

constexpr int64_t kMaxTokenLifetime = 100LL * 365 * 24 * 3600;

}  // namespace

Problem PageData::refuse(Ctx& ctx, Refusal r, const std::string& action, const std::string& resource,
                         const std::string& message, const std::string& org) {
  int status = r == Refusal::kNotFound ? 404 : r == Refusal::kForbidden ? 403 : r == Refusal::kConflict ? 409 : 400;
  hub_.audit_event(ctx, action, resource, kAuditDenied, json{{"reason", message}, {"status", status}, {"via", "web"}}, org);
  return Problem{r, message};
}

Answer<Done> PageData::changed(Ctx& ctx, const std::string& action, const std::string& resource, const std::string& org,
                               const std::function<Status(json&)>& fn) {
  Status st = hub_.change(ctx, action, resource, org, [&](json& d) -> Status {
    LV_RETURN_IF_ERROR(fn(d));
    d["via"] = "web";
    return Status::Ok();
  });
  if (st.ok()) return Done{};
  hub_.audit_event(ctx, action, resource, kAuditError, json{{"reason", st.error().message}, {"via", "web"}}, org);
  return Problem{refusal_of(st.error()), st.error().message};
}

Answer<Principal> PageData::sign_in(Ctx& ctx, const std::string& secret) {
  auto a = authenticate_token(*hub_.catalog, secret);
  if (!a.ok()) return internal(a.error());
  if (a->check != TokenCheck::kOk) {
    const char* why = a->check == TokenCheck::kExpired   ? "token expired"
                      : a->check == TokenCheck::kRevoked ? "token revoked"
                                                         : "invalid token";
    Principal tried;
    if (a->token) tried.token = a->token;  // which token was tried (never the secret)
    Ctx audit_ctx{ctx.req, ctx.res, ctx.request_id, ctx.client, tried};
    uint64_t suppressed = 0;
    if (hub_.unauthenticated_audits.admit(now_unix(), suppressed)) {
      json details{{"reason", why}, {"via", "web"}};
      if (suppressed > 0) details["suppressed"] = suppressed;
      hub_.audit_event(audit_ctx, "auth.login", "web", kAuditDenied, details);
    }
    return Problem{Refusal::kForbidden, std::string("sign-in refused: ") + why};
  }
  Principal who;
  who.user = a->user;
  who.token = a->token;
  who.scopes = a->token->scopes;
  Ctx audit_ctx{ctx.req, ctx.res, ctx.request_id, ctx.client, who};
  hub_.audit_event(audit_ctx, "auth.login", "web", kAuditAllowed, json{{"via", "web"}});
  return who;
}

std::optional<Principal> PageData::recheck(const Principal& who) {
  if (!who.token || !who.user) return std::nullopt;
  auto t = hub_.catalog->find_token(who.token->id);
  if (!t.ok() || !t->has_value()) return std::nullopt;
  const Token& token = **t;
  if (token.revoked_at != 0 || (token.expires_at != 0 && token.expires_at <= now_unix())) return std::nullopt;
  auto u = hub_.catalog->user_by_id(token.user_id);
  if (!u.ok() || !u->has_value()) return std::nullopt;
  Principal now;
  now.user = **u;
  now.token = token;
  now.scopes = token.scopes;
  return now;
}

void PageData::audit_sign_out(Ctx& ctx) { hub_.audit_event(ctx, "auth.logout", "web", kAuditAllowed, json{{"via", "web"}}); }

std::vector<Membership> PageData::memberships(const Principal& who) {
  if (!who.authenticated()) return {};
  auto ms = hub_.catalog->memberships_of(who.user->id);
  return ms.ok() ? *ms : std::vector<Membership>{};
}

Answer<std::vector<Repo>> PageData::visible_models(Ctx& ctx, const std::string& query) {
  auto repos = hub_.catalog->list_repos();
  if (!repos.ok()) return internal(repos.error());
  std::string q = lower(query);
  std::vector<Repo> out;
  for (auto& r : *repos) {
    if (!q.empty() && lower(r.full_name()).find(q) == std::string::npos) continue;
    auto role = hub_.role_on(ctx.who, r);
    if (!role.ok()) return internal(role.error());
    if (*role >= RepoRole::kRead) out.push_back(r);
  }
  return out;
}

Answer<PageData::Opened> PageData::open(Ctx& ctx, const std::string& owner, const std::string& name, Action action,
                                        const std::string& audit_action) {
  std::string resource = owner + "/" + name;
  auto repo = hub_.catalog->find_repo(owner, name);
  if (!repo.ok()) return internal(repo.error());
  std::string not_found = "repository " + resource + " not found";
  if (!repo->has_value()) return refuse(ctx, Refusal::kNotFound, audit_action, resource, not_found);
  const Repo& r = **repo;
  auto role = hub_.role_on(ctx.who, r);
  if (!role.ok()) return internal(role.error());
  if (*role >= required_role(action)) return Opened{r, *role};
  if (*role == RepoRole::kNone) return refuse(ctx, Refusal::kNotFound, audit_action, resource, not_found, HubServer::Impl::repo_org(r));
  return refuse(ctx, Refusal::kForbidden, audit_action, resource,
                std::string(to_string(action)) + " on " + resource + " needs role " +
                    std::string(to_string(required_role(action))) + "; you have " + std::string(to_string(*role)),
                HubServer::Impl::repo_org(r));
}

Answer<RepoView> PageData::repo_view(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev) {
  auto opened = open(ctx, owner, name, Action::kRead, "model.info");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  RepoView view;
  view.repo = std::get<Opened>(opened).repo;
  view.role = std::get<Opened>(opened).role;
  auto refs = hub_.catalog->list_refs(view.repo.id);
  if (!refs.ok()) return internal(refs.error());
  view.refs = *refs;
  auto commit = hub_.catalog->resolve(view.repo.id, rev);
  if (!commit.ok()) return internal(commit.error());
  if (!commit->has_value()) {
    if (rev == "main" && view.refs.empty()) return view;  // nothing committed yet
    return refuse(ctx, Refusal::kNotFound, "model.info", view.repo.full_name(),
                  "revision " + rev + " not found in " + view.repo.full_name(), HubServer::Impl::repo_org(view.repo));
  }
  view.commit = **commit;
  for (auto& f : view.commit->files) {
    if (f.path != "README.md") continue;
    auto b = blob(ctx, owner, name, view.commit->id, f.path, kMaxPreview);
    if (auto* bv = std::get_if<BlobView>(&b)) view.readme = bv->head;
  }
  return view;
}

Answer<BlobView> PageData::blob(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                                const std::string& path, size_t limit) {
  std::string resource = owner + "/" + name + "/blob/" + rev + "/" + path;
  auto opened = open(ctx, owner, name, Action::kRead, "model.download");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  BlobView view;
  view.repo = std::get<Opened>(opened).repo;
  std::string org = HubServer::Impl::repo_org(view.repo);
  auto commit = hub_.catalog->resolve(view.repo.id, rev);
  if (!commit.ok()) return internal(commit.error());
  if (!commit->has_value()) {
    return refuse(ctx, Refusal::kNotFound, "model.download", resource, "revision " + rev + " not found", org);
  }
  view.commit = **commit;
  auto it = std::find_if(view.commit.files.begin(), view.commit.files.end(), [&](const FileEntry& f) { return f.path == path; });
  if (it == view.commit.files.end()) {
    return refuse(ctx, Refusal::kNotFound, "model.download", resource, "no file " + path + " at " + rev, org);
  }
  view.file = *it;
  auto reader = hub_.blobs->open_reader(view.repo.owner, view.file.sha256);
  if (!reader.ok() || !*reader) {
    std::string why = reader.ok() ? "blob missing from the blob store" : reader.error().message;
    hub_.audit_event(ctx, "model.download", resource, kAuditError, json{{"reason", why}, {"via", "web"}}, org);
    return Problem{Refusal::kInternal, "cannot read " + path + ": " + why};
  }
  uint64_t n = std::min<uint64_t>((*reader)->size(), limit);
  view.head.assign(n, '\0');
  Status st = (*reader)->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(view.head.data()), n));
  if (!st.ok()) return internal(st.error());
  view.truncated = (*reader)->size() > n;
  json details{{"commit", view.commit.id}, {"sha256", view.file.sha256}, {"size", view.file.size}, {"via", "web"}};
  if (view.truncated) details["range"] = {0, n ? n - 1 : 0};
  hub_.audit_event(ctx, "model.download", resource, kAuditAllowed, details, org);
  return view;
}

Answer<std::vector<Commit>> PageData::commits(Ctx& ctx, const std::string& owner, const std::string& name,
                                              const std::string& rev) {
  auto opened = open(ctx, owner, name, Action::kRead, "model.info");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  const Repo& repo = std::get<Opened>(opened).repo;
  // History follows parents from the revision, so a tag or a commit id works like a branch.
  std::vector<Commit> out;
  std::string next = rev;
  while (!next.empty() && out.size() < 200) {
    auto c = hub_.catalog->resolve(repo.id, next);
    if (!c.ok()) return internal(c.error());
    if (!c->has_value()) break;
    out.push_back(**c);
    next = (*c)->parent;
  }
  if (out.empty() && rev != "main") {
    return refuse(ctx, Refusal::kNotFound, "model.info", repo.full_name(), "revision " + rev + " not found",
                  HubServer::Impl::repo_org(repo));
  }
  return out;
}

Answer<AccessView> PageData::access(Ctx& ctx, const std::string& owner, const std::string& name) {
  auto opened = open(ctx, owner, name, Action::kAdmin, "grant.list");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  AccessView view;
  view.repo = std::get<Opened>(opened).repo;
  auto grants = hub_.catalog->list_grants(view.repo.id);
  if (!grants.ok()) return internal(grants.error());
  view.grants = *grants;
  if (view.repo.owner_kind == OwnerKind::kOrg) {
    auto ms = hub_.catalog->list_memberships(view.repo.owner_id);
    if (!ms.ok()) return internal(ms.error());
    view.org_members = *ms;
    auto teams = hub_.catalog->list_teams(view.repo.owner_id);
    if (!teams.ok()) return internal(teams.error());
    view.org_teams = *teams;
  }
  return view;
}

Answer<Done> PageData::set_grant(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& subject,
                                 const std::string& role_text) {
  std::string resource = owner + "/" + name;
  auto opened = open(ctx, owner, name, Action::kAdmin, "grant.set");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  const Repo& repo = std::get<Opened>(opened).repo;
  std::string org = HubServer::Impl::repo_org(repo);
  auto role = parse_repo_role(role_text);
  if (!role) return refuse(ctx, Refusal::kInvalid, "grant.set", resource, "role must be read, write, admin or none", org);
  auto colon = subject.find(':');
  auto kind = parse_subject_kind(subject.substr(0, colon == std::string::npos ? 0 : colon));
  if (!kind) return refuse(ctx, Refusal::kInvalid, "grant.set", resource, "subject must be user:NAME or team:ORG/TEAM", org);
  std::string who = subject.substr(colon + 1);
  int64_t subject_id = 0;
  if (*kind == SubjectKind::kUser) {
    auto u = hub_.catalog->find_user(who);
    if (!u.ok()) return internal(u.error());
    if (!u->has_value()) return refuse(ctx, Refusal::kNotFound, "grant.set", resource, "no user " + who, org);
    subject_id = (*u)->id;
  } else {
    auto slash = who.find('/');
    if (slash == std::string::npos) return refuse(ctx, Refusal::kNotFound, "grant.set", resource, "no team " + who, org);
    auto t = hub_.catalog->find_team(who.substr(0, slash), who.substr(slash + 1));
    if (!t.ok()) return internal(t.error());
    if (!t->has_value()) return refuse(ctx, Refusal::kNotFound, "grant.set", resource, "no team " + who, org);
    subject_id = (*t)->id;
  }
  return changed(ctx, *role == RepoRole::kNone ? "grant.remove" : "grant.set", resource, org, [&](json& d) -> Status {
    d = json{{"subject", subject}, {"role", std::string(to_string(*role))}};
    return hub_.catalog->set_grant(repo.id, *kind, subject_id, *role);
  });
}

Answer<Done> PageData::set_visibility(Ctx& ctx, const std::string& owner, const std::string& name,
                                      const std::string& visibility) {
  std::string resource = owner + "/" + name;
  auto opened = open(ctx, owner, name, Action::kAdmin, "repo.settings");
  if (auto* p = std::get_if<Problem>(&opened)) return *p;
  const Repo& repo = std::get<Opened>(opened).repo;
  auto vis = parse_visibility(visibility);
  if (!vis) {
    return refuse(ctx, Refusal::kInvalid, "repo.settings", resource, "visibility must be private or internal",
                  HubServer::Impl::repo_org(repo));
  }
  return changed(ctx, "repo.settings", resource, HubServer::Impl::repo_org(repo), [&](json& d) -> Status {
    d = json{{"visibility", std::string(to_string(*vis))}};
    return hub_.catalog->set_visibility(repo.id, *vis);
  });
}

Answer<OrgView> PageData::org(Ctx& ctx, const std::string& org_name) {
  auto org = hub_.catalog->find_org(org_name);
  if (!org.ok()) return internal(org.error());
  // Non-members see "not found", as for a private repository.
  std::string not_found = "organization " + org_name + " not found";
  if (!org->has_value() || !ctx.who.authenticated()) return Problem{Refusal::kNotFound, not_found};
  OrgView view;
  view.org = **org;
  auto members = hub_.catalog->list_memberships(view.org.id);
  if (!members.ok()) return internal(members.error());
  view.members = *members;
  bool member = std::any_of(view.members.begin(), view.members.end(),
                            [&](const Membership& m) { return m.user_id == ctx.who.user->id; });
  if (!member && !ctx.who.user->site_admin) return Problem{Refusal::kNotFound, not_found};
  view.may_manage = hub_.org_admin(ctx, view.org);
  auto teams = hub_.catalog->list_teams(view.org.id);
  if (!teams.ok()) return internal(teams.error());
  for (auto& t : *teams) view.teams.push_back({t, {}});
  // The catalog lists a user's teams, not a team's users: ask once per member.
  for (auto& m : view.members) {
    auto ids = hub_.catalog->team_ids_of(m.user_id);
    if (!ids.ok()) return internal(ids.error());
    for (auto& t : view.teams) {
      if (std::find(ids->begin(), ids->end(), t.team.id) != ids->end()) t.members.push_back(m.user);
    }
  }
  auto repos = hub_.catalog->list_repos();
  if (!repos.ok()) return internal(repos.error());
  for (auto& r : *repos) {
    if (r.owner_kind != OwnerKind::kOrg || r.owner_id != view.org.id) continue;
    auto role = hub_.role_on(ctx.who, r);
    if (role.ok() && *role >= RepoRole::kRead) view.repos.push_back(r);
  }
  return view;
}

Answer<Done> PageData::set_member(Ctx& ctx, const std::string& org_name, const std::string& user, const std::string& role_text) {
  std::string resource = org_name + "/members/" + user;
  auto role = parse_org_role(role_text);
  if (!role) return refuse(ctx, Refusal::kInvalid, "member.add", resource, "role must be owner, admin or member", org_name);
  auto org = hub_.catalog->find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!org->has_value()) return refuse(ctx, Refusal::kNotFound, "member.add", resource, "no organization " + org_name);
  auto u = hub_.catalog->find_user(user);
  if (!u.ok()) return internal(u.error());
  if (!u->has_value()) return refuse(ctx, Refusal::kNotFound, "member.add", resource, "no user " + user, org_name);
  auto existing = hub_.catalog->org_role((*org)->id, (*u)->id);
  bool touches_owner = *role == OrgRole::kOwner || (existing.ok() && existing->has_value() && **existing == OrgRole::kOwner);
  if (!hub_.org_admin(ctx, **org, touches_owner)) {
    return refuse(ctx, Refusal::kForbidden, "member.add", resource,
                  touches_owner ? "only an organization owner can change owners" : "needs organization admin", org_name);
  }
  return changed(ctx, "member.add", resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}, {"role", std::string(to_string(*role))}};
    return hub_.catalog->set_membership((*org)->id, (*u)->id, *role);
  });
}

Answer<Done> PageData::remove_member(Ctx& ctx, const std::string& org_name, const std::string& user) {
  std::string resource = org_name + "/members/" + user;
  auto org = hub_.catalog->find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!org->has_value()) return refuse(ctx, Refusal::kNotFound, "member.remove", resource, "no organization " + org_name);
  auto u = hub_.catalog->find_user(user);
  if (!u.ok()) return internal(u.error());
  if (!u->has_value()) return refuse(ctx, Refusal::kNotFound, "member.remove", resource, "no user " + user, org_name);
  auto existing = hub_.catalog->org_role((*org)->id, (*u)->id);
  bool touches_owner = existing.ok() && existing->has_value() && **existing == OrgRole::kOwner;
  if (!hub_.org_admin(ctx, **org, touches_owner)) {
    return refuse(ctx, Refusal::kForbidden, "member.remove", resource, "needs organization admin", org_name);
  }
  return changed(ctx, "member.remove", resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}};
    return hub_.catalog->remove_membership((*org)->id, (*u)->id);
  });
}

Answer<Done> PageData::create_team(Ctx& ctx, const std::string& org_name, const std::string& team) {
  std::string resource = org_name + "/teams/" + team;
  auto org = hub_.catalog->find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!org->has_value()) return refuse(ctx, Refusal::kNotFound, "team.create", resource, "no organization " + org_name);
  if (!hub_.org_admin(ctx, **org)) return refuse(ctx, Refusal::kForbidden, "team.create", resource, "needs organization admin", org_name);
  if (!valid_name(team)) {
    return refuse(ctx, Refusal::kInvalid, "team.create", resource,
                  "team names are 1-64 of A-Z a-z 0-9 . _ - and do not start with . or -", org_name);
  }
  return changed(ctx, "team.create", resource, org_name, [&](json& d) -> Status {
    d = json{{"team", team}};
    auto created = hub_.catalog->create_team((*org)->id, team);
    return created.ok() ? Status::Ok() : Status(created.error());
  });
}

Answer<Done> PageData::set_team_member(Ctx& ctx, const std::string& org_name, const std::string& team_name,
                                       const std::string& user, bool member) {
  std::string resource = org_name + "/teams/" + team_name + "/members/" + user;
  const char* action = member ? "team.member.add" : "team.member.remove";
  auto org = hub_.catalog->find_org(org_name);
  if (!org.ok()) return internal(org.error());
  if (!org->has_value()) return refuse(ctx, Refusal::kNotFound, action, resource, "no organization " + org_name);
  if (!hub_.org_admin(ctx, **org)) return refuse(ctx, Refusal::kForbidden, action, resource, "needs organization admin", org_name);
  auto team = hub_.catalog->find_team(org_name, team_name);
  if (!team.ok()) return internal(team.error());
  if (!team->has_value()) return refuse(ctx, Refusal::kNotFound, action, resource, "no team " + team_name, org_name);
  auto u = hub_.catalog->find_user(user);
  if (!u.ok()) return internal(u.error());
  if (!u->has_value()) return refuse(ctx, Refusal::kNotFound, action, resource, "no user " + user, org_name);
  auto role = hub_.catalog->org_role((*org)->id, (*u)->id);
  if (member && (!role.ok() || !role->has_value())) {
    return refuse(ctx, Refusal::kInvalid, action, resource, user + " is not a member of " + org_name, org_name);
  }
  return changed(ctx, action, resource, org_name, [&](json& d) -> Status {
    d = json{{"user", user}, {"team", team_name}};
    return member ? hub_.catalog->add_team_member((*team)->id, (*u)->id)
                  : hub_.catalog->remove_team_member((*team)->id, (*u)->id);
  });
}

Answer<std::vector<Token>> PageData::own_tokens(Ctx& ctx) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to see your tokens"};
  auto tokens = hub_.catalog->list_tokens(ctx.who.user->id);
  if (!tokens.ok()) return internal(tokens.error());
  return *tokens;
}

Answer<IssuedToken> PageData::create_token(Ctx& ctx, const std::string& name, const std::string& scope_text,
                                           int64_t ttl_seconds) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to create tokens"};
  std::string user = ctx.who.name();
  auto scopes = parse_scopes(scope_text);
  if (!scopes || *scopes == 0) return refuse(ctx, Refusal::kInvalid, "token.create", user, "scopes must be read, write or admin");
  if (ttl_seconds < 0 || ttl_seconds > kMaxTokenLifetime) {
    return refuse(ctx, Refusal::kInvalid, "token.create", user, "a token lives from 1 day to 100 years, or forever");
  }
  if (name.empty() || name.size() > 100) return refuse(ctx, Refusal::kInvalid, "token.create", user, "a token needs a name (at most 100 characters)");
  if ((*scopes & ~ctx.who.scopes) != 0) {
    return refuse(ctx, Refusal::kForbidden, "token.create", user,
                  "cannot create a token with wider scopes than the one you signed in with");
  }
  IssuedToken issued;
  auto done = changed(ctx, "token.create", user, "", [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(issued, issue_token(*hub_.catalog, *ctx.who.user, name, *scopes, ttl_seconds));
    d = json{{"token_id", issued.token.id}, {"scopes", scopes_to_string(*scopes)}, {"name", name}};
    return Status::Ok();
  });
  if (auto* p = std::get_if<Problem>(&done)) return *p;
  return issued;
}

Answer<Done> PageData::revoke_token(Ctx& ctx, const std::string& token_id) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to revoke tokens"};
  std::string user = ctx.who.name();
  auto t = hub_.catalog->find_token(token_id);
  if (!t.ok()) return internal(t.error());
  // Someone else's token is "not found", so ids don't leak.
  if (!t->has_value() || (*t)->user_id != ctx.who.user->id) {
    return refuse(ctx, Refusal::kNotFound, "token.revoke", user, "no token " + token_id);
  }
  return changed(ctx, "token.revoke", user, "", [&](json& d) -> Status {
    d = json{{"token_id", token_id}};
    return hub_.catalog->revoke_token(token_id);
  });
}

Answer<std::optional<std::vector<std::string>>> PageData::audit_scope(Ctx& ctx) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kNotFound, "no such page"};
  if (hub_.site_admin(ctx)) return std::optional<std::vector<std::string>>();
  std::vector<std::string> orgs;
  if (ctx.who.scopes & kScopeAdmin) {
    for (auto& m : memberships(ctx.who)) {
      if (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin) orgs.push_back(m.org);
    }
  }
  if (orgs.empty()) {
    return refuse(ctx, Refusal::kForbidden, "audit.read", "audit",
                  "only a site or organization administrator (signed in with an admin-scoped token) can read the audit trail");
  }
  return std::optional<std::vector<std::string>>(orgs);
}

namespace {

bool matches(const AuditEntry& e, const AuditQuery& q) {
  if (!q.actor.empty() && e.actor != q.actor) return false;
  if (!q.action.empty() && e.action != q.action) return false;
  if (!q.outcome.empty() && e.outcome != q.outcome) return false;
  if (!q.repository.empty() && e.resource.compare(0, q.repository.size(), q.repository) != 0) return false;
  // RFC 3339 UTC times order as strings; "until" is inclusive of its whole prefix.
  if (!q.since.empty() && e.time < q.since) return false;
  if (!q.until.empty() && e.time.compare(0, q.until.size(), q.until) > 0) return false;
  return true;
}

}  // namespace

Answer<AuditPage> PageData::audit(Ctx& ctx, const AuditQuery& query) {
  auto scope = audit_scope(ctx);
  if (auto* p = std::get_if<Problem>(&scope)) return *p;
  auto& orgs = std::get<std::optional<std::vector<std::string>>>(scope);
  AuditPage page;
  page.everything = !orgs.has_value();
  if (orgs) page.orgs = *orgs;
  std::set<std::string> allowed(page.orgs.begin(), page.orgs.end());
  const size_t size = static_cast<size_t>(std::clamp(query.page_size, 1, 500));
  // One pass in seq order keeping the newest size+1 matches below before_seq: memory stays
  // bounded by the page, however long the trail.
  std::deque<AuditEntry> window;
  Status st = hub_.catalog->transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(hub_.audit->store().scan(1, [&](const AuditRecord& r) {
      if (query.before_seq > 0 && r.seq >= query.before_seq) return false;
      if (!page.everything && !allowed.count(r.org)) return true;
      auto parsed = parse_audit_line(r.line);
      if (!parsed.ok() || !matches(parsed->entry, query)) return true;
      window.push_back(std::move(parsed->entry));
      if (window.size() > size + 1) window.pop_front();
      return true;
    }));
    auto report = hub_.audit->verify();
    if (!report.ok()) return report.error();
    page.chain_ok = report->ok;
    page.chain_message = report->message;
    page.chain_entries = report->entries;
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  if (window.size() > size) {
    window.pop_front();
    page.next_before = window.front().seq;
  }
  page.entries.assign(window.rbegin(), window.rend());
  hub_.audit_event(ctx, "audit.read", "audit", kAuditAllowed,
                   json{{"via", "web"}, {"scope", page.everything ? json("all") : json(page.orgs)}});
  return page;
}

Answer<std::string> PageData::audit_export(Ctx& ctx, const AuditQuery& query) {
  auto scope = audit_scope(ctx);
  if (auto* p = std::get_if<Problem>(&scope)) return *p;
  auto& orgs = std::get<std::optional<std::vector<std::string>>>(scope);
  std::set<std::string> allowed;
  if (orgs) allowed.insert(orgs->begin(), orgs->end());
  hub_.audit_event(ctx, "audit.export", "audit", kAuditAllowed,
                   json{{"via", "web"}, {"scope", orgs ? json(*orgs) : json("all")}});
  std::string out;
  Status st = hub_.catalog->transaction([&]() -> Status {
    return hub_.audit->store().scan(1, [&](const AuditRecord& r) {
      if (orgs && !allowed.count(r.org)) return true;
      auto parsed = parse_audit_line(r.line);
      if (!parsed.ok() || !matches(parsed->entry, query)) return true;
      out += r.line;
      out += '\n';
      return true;
    });
  });
  if (!st.ok()) return internal(st.error());
  return out;
}

}  // namespace lv::hub::web
