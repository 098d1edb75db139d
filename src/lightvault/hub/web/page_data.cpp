// The web pages' access to the hub (see page_data.h): every call is one or a few use cases of
// the service layer, made as the signed-in viewer; this file only maps their answers to the
// pages' vocabulary and adds what the pages record beyond the API (e.g. "via":"web" on views).
#include "lightvault/hub/web/page_data.h"

#include <algorithm>
#include <span>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/storage/blob_store.h"

namespace lv::hub::web {

using json = nlohmann::json;

namespace {

Problem internal(const Error& e) { return Problem{Refusal::kInternal, e.message}; }

// The pages' refusal for a service error. Someone not signed in sees "not found" (the sign-in
// link is on every page), never a hint that the thing exists.
Problem problem(const ServiceError& e) {
  switch (e.code) {
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kNotFound: return Problem{Refusal::kNotFound, e.message};
    case ErrorCode::kDenied: return Problem{Refusal::kForbidden, e.message};
    case ErrorCode::kInvalid:
    case ErrorCode::kTooLarge:
    case ErrorCode::kUnsatisfiable: return Problem{Refusal::kInvalid, e.message};
    case ErrorCode::kConflict: return Problem{Refusal::kConflict, e.message};
    case ErrorCode::kInternal: break;
  }
  return Problem{Refusal::kInternal, e.message};
}

template <class T>
Answer<Done> done(const Outcome<T>& o) {
  if (!o.ok()) return problem(o.error());
  return Done{};
}

std::string org_of(const Repo& r) { return r.owner_kind == OwnerKind::kOrg ? r.owner : ""; }

constexpr int64_t kMaxTokenName = 100;

}  // namespace

Answer<Principal> PageData::sign_in(Ctx& ctx, const std::string& secret) {
  auto a = service().authenticate(secret);
  if (!a.ok()) return internal(a.error());
  if (a->check != TokenCheck::kOk) {
    const char* why = a->check == TokenCheck::kExpired   ? "token expired"
                      : a->check == TokenCheck::kRevoked ? "token revoked"
                                                         : "invalid token";
    Principal tried;
    if (a->token) tried.token = a->token;  // which token was tried (never the secret)
    uint64_t suppressed = 0;
    if (hub_.unauthenticated_audits.admit(now_unix(), suppressed)) {
      json details{{"reason", why}, {"via", "web"}};
      if (suppressed > 0) details["suppressed"] = suppressed;
      service().audit_event(Caller{tried, ctx.client, ctx.request_id}, "auth.login", "web", kAuditDenied, details);
    }
    return Problem{Refusal::kForbidden, std::string("sign-in refused: ") + why};
  }
  Principal who;
  who.user = a->user;
  who.token = a->token;
  who.scopes = a->token->scopes;
  service().audit_event(Caller{who, ctx.client, ctx.request_id}, "auth.login", "web", kAuditAllowed, json{{"via", "web"}});
  return who;
}

void PageData::audit_sign_out(Ctx& ctx) {
  service().audit_event(ctx.caller(), "auth.logout", "web", kAuditAllowed, json{{"via", "web"}});
}

std::vector<Membership> PageData::memberships(const Principal& who) {
  if (!who.authenticated()) return {};
  auto ms = service().whoami(Caller{who, "", ""});
  return ms.ok() ? std::move(ms).value() : std::vector<Membership>{};
}

Answer<std::vector<Repo>> PageData::visible_models(Ctx& ctx, const std::string& query) {
  // Every repository needs a signed-in reader; asking anyway would audit each anonymous visit.
  if (!ctx.who.authenticated()) return std::vector<Repo>{};
  ModelQuery q;
  q.search = query;
  auto listed = service().list_models(ctx.caller(), q);
  if (!listed.ok()) return problem(listed.error());
  std::vector<Repo> out;
  for (auto& l : *listed) out.push_back(std::move(l.repo));
  return out;
}

Answer<RepoView> PageData::repo_view(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev) {
  Caller caller = ctx.caller();
  auto read = service().read_revision(caller, owner, name, rev);
  if (!read.ok()) return problem(read.error());
  RepoView view;
  view.repo = std::move(read->repo);
  auto role = service().role_on(ctx.who, view.repo);
  if (!role.ok()) return internal(role.error());
  view.role = *role;
  auto refs = service().list_refs(view.repo);
  if (!refs.ok()) return internal(refs.error());
  view.refs = std::move(*refs);
  if (!read->commit) {
    if (rev == "main" && view.refs.empty()) return view;  // nothing committed yet
    return problem(service().refuse(caller, "model.info", view.repo.full_name(),
                                    {ErrorCode::kNotFound, "revision " + rev + " not found in " + view.repo.full_name()},
                                    org_of(view.repo)));
  }
  view.commit = std::move(read->commit);
  for (auto& f : view.commit->files) {
    if (f.path != "README.md") continue;
    view.readme = service().read_small_file(view.repo, *view.commit, f.path, kMaxPreview);
    if (!view.readme) continue;
    // Shown on the card, so audited like the file view of it.
    service().audit_event(caller, "model.download", owner + "/" + name + "/blob/" + view.commit->id + "/" + f.path,
                          kAuditAllowed,
                          json{{"commit", view.commit->id}, {"sha256", f.sha256}, {"size", f.size}, {"via", "web"}},
                          org_of(view.repo));
  }
  return view;
}

Answer<BlobView> PageData::blob(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                                const std::string& path, size_t limit) {
  Caller caller = ctx.caller();
  auto d = service().open_download(caller, owner, name, rev, path, "model.download");
  if (!d.ok()) return problem(d.error());
  BlobView view;
  view.repo = d->repo;
  view.commit = d->commit;
  view.file = d->file;
  auto role = service().role_on(ctx.who, view.repo);
  if (role.ok()) view.role = *role;  // only for the page's tabs; reading it was allowed
  uint64_t n = std::min<uint64_t>(d->blob->size(), limit);
  view.head.assign(n, '\0');
  Status st = d->blob->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(view.head.data()), n));
  if (!st.ok()) return internal(st.error());
  view.truncated = d->blob->size() > n;
  json details{{"commit", view.commit.id}, {"sha256", view.file.sha256}, {"size", view.file.size}, {"via", "web"}};
  if (view.truncated) details["range"] = {0, n ? n - 1 : 0};
  service().record_download(caller, *d, owner + "/" + name + "/blob/" + rev + "/" + path, std::move(details));
  return view;
}

Answer<std::vector<Commit>> PageData::commits(Ctx& ctx, const std::string& owner, const std::string& name,
                                              const std::string& rev) {
  Caller caller = ctx.caller();
  auto repo = service().open_repo(caller, owner, name, Action::kRead, "model.info");
  if (!repo.ok()) return problem(repo.error());
  // History follows parents from the revision, so a tag or a commit id works like a branch.
  auto list = service().list_commits(caller, owner, name, rev, 200);
  if (!list.ok()) return problem(list.error());
  if (list->empty() && rev != "main") {
    return problem(service().refuse(caller, "model.info", repo->full_name(),
                                    {ErrorCode::kNotFound, "revision " + rev + " not found"}, org_of(*repo)));
  }
  return std::move(list).value();
}

Answer<ComplianceView> PageData::compliance_report(Ctx& ctx, const std::string& owner, const std::string& name,
                                                  const std::string& rev) {
  Caller caller = ctx.caller();
  auto report = service().compliance_report(caller, owner, name, rev);
  if (!report.ok()) return problem(report.error());
  auto read = service().read_revision(caller, owner, name, rev);  // the tabs need the repository and role
  if (!read.ok()) return problem(read.error());
  auto role = service().role_on(ctx.who, read->repo);
  if (!role.ok()) return internal(role.error());
  return ComplianceView{std::move(read->repo), *role, std::move(*report)};
}

Answer<AccessView> PageData::access(Ctx& ctx, const std::string& owner, const std::string& name) {
  Caller caller = ctx.caller();
  auto repo = service().open_repo(caller, owner, name, Action::kAdmin, "grant.list");
  if (!repo.ok()) return problem(repo.error());
  AccessView view;
  view.repo = std::move(*repo);
  auto grants = service().list_grants(caller, owner, name);
  if (!grants.ok()) return problem(grants.error());
  view.grants = std::move(*grants);
  if (view.repo.owner_kind == OwnerKind::kOrg) {
    // The org's people and teams, to pick grant subjects from; a repository admin from
    // outside the organization gets the form without them.
    auto org = service().org_detail(caller, view.repo.owner);
    if (org.ok()) {
      view.org_members = std::move(org->members);
      view.org_teams = std::move(org->teams);
    } else if (org.error().code == ErrorCode::kInternal) {
      return problem(org.error());
    }
  }
  return view;
}

Answer<Done> PageData::set_grant(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& subject,
                                 const std::string& role) {
  return done(service().set_grant(ctx.caller(), owner, name, subject, role));
}

Answer<Done> PageData::set_visibility(Ctx& ctx, const std::string& owner, const std::string& name,
                                      const std::string& visibility) {
  return done(service().set_visibility(ctx.caller(), owner, name, visibility));
}

Answer<OrgView> PageData::org(Ctx& ctx, const std::string& org_name) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kNotFound, "organization " + org_name + " not found"};
  Caller caller = ctx.caller();
  auto detail = service().org_detail(caller, org_name);
  if (!detail.ok()) return problem(detail.error());
  OrgView view;
  view.org = std::move(detail->org);
  view.members = std::move(detail->members);
  auto rosters = service().team_rosters(caller, org_name);
  if (!rosters.ok()) return problem(rosters.error());
  for (auto& r : *rosters) view.teams.push_back({std::move(r.team), std::move(r.members)});
  ModelQuery q;
  q.author = org_name;
  auto repos = service().list_models(caller, q);
  if (!repos.ok()) return problem(repos.error());
  for (auto& l : *repos) view.repos.push_back(std::move(l.repo));
  // The service's rule for managing an organization: a site admin, or an owner or admin of
  // it, acting through an admin-scoped token.
  bool org_admin = (ctx.who.scopes & kScopeAdmin) &&
                   std::any_of(view.members.begin(), view.members.end(), [&](const Membership& m) {
                     return m.user_id == ctx.who.user->id && (m.role == OrgRole::kOwner || m.role == OrgRole::kAdmin);
                   });
  view.may_manage = ctx.who.site_admin() || org_admin;
  return view;
}

Answer<Done> PageData::set_member(Ctx& ctx, const std::string& org, const std::string& user, const std::string& role) {
  return done(service().set_member(ctx.caller(), org, user, role));
}

Answer<Done> PageData::remove_member(Ctx& ctx, const std::string& org, const std::string& user) {
  return done(service().remove_member(ctx.caller(), org, user));
}

Answer<Done> PageData::create_team(Ctx& ctx, const std::string& org, const std::string& team) {
  return done(service().create_team(ctx.caller(), org, team));
}

Answer<Done> PageData::set_team_member(Ctx& ctx, const std::string& org, const std::string& team, const std::string& user,
                                       bool member) {
  return done(service().set_team_member(ctx.caller(), org, team, user, member));
}

Answer<std::vector<Token>> PageData::own_tokens(Ctx& ctx) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to see your tokens"};
  auto tokens = service().list_tokens(ctx.caller(), "");
  if (!tokens.ok()) return problem(tokens.error());
  return std::move(tokens).value();
}

Answer<IssuedToken> PageData::create_token(Ctx& ctx, const std::string& name, const std::string& scopes,
                                           int64_t ttl_seconds) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to create tokens"};
  Caller caller = ctx.caller();
  // The page's form names every token; the API lets a name default.
  if (name.empty() || static_cast<int64_t>(name.size()) > kMaxTokenName) {
    return problem(service().refuse(caller, "token.create", ctx.who.name(),
                                    {ErrorCode::kInvalid, "a token needs a name (at most 100 characters)"}));
  }
  TokenRequest request;
  request.name = name;
  request.scopes = scopes;
  request.expires_in = ttl_seconds;
  auto issued = service().create_token(caller, request);
  if (!issued.ok()) return problem(issued.error());
  return std::move(issued).value();
}

Answer<Done> PageData::revoke_token(Ctx& ctx, const std::string& token_id) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kForbidden, "sign in to revoke tokens"};
  return done(service().revoke_token(ctx.caller(), token_id));
}

Answer<AuditPage> PageData::audit(Ctx& ctx, const AuditQuery& query) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kNotFound, "no such page"};
  Caller caller = ctx.caller();
  hub::AuditQuery q;
  q.actor = query.actor;
  q.action = query.action;
  q.resource = query.repository;
  q.outcome = query.outcome;
  q.since = query.since;
  q.until = query.until;
  q.before_seq = query.before_seq;
  q.limit = static_cast<size_t>(std::clamp(query.page_size, 1, 500));
  auto read = service().read_audit(caller, q);
  if (!read.ok()) return problem(read.error());
  AuditPage page;
  page.everything = read->all;
  if (!page.everything) {
    auto scope = service().audit_scope(caller, "audit.read");
    if (!scope.ok()) return problem(scope.error());
    page.orgs = scope->orgs;
  }
  for (auto& r : read->entries) {
    auto parsed = parse_audit_line(r.line);
    if (!parsed.ok()) return internal(parsed.error());
    page.entries.push_back(std::move(parsed->entry));
  }
  page.next_before = read->next_before_seq;
  auto report = service().audit_chain_status(caller);
  if (!report.ok()) return problem(report.error());
  page.chain_ok = report->ok;
  page.chain_message = report->message;
  page.chain_entries = report->entries;
  service().audit_event(caller, "audit.read", "audit", kAuditAllowed,
                        json{{"via", "web"}, {"scope", page.everything ? json("all") : json(page.orgs)}});
  return page;
}

Answer<std::string> PageData::audit_export(Ctx& ctx, const AuditQuery& query) {
  if (!ctx.who.authenticated()) return Problem{Refusal::kNotFound, "no such page"};
  auto begun = service().begin_audit_export(ctx.caller());
  if (!begun.ok()) return problem(begun.error());
  const auto& [scope, last_seq] = *begun;
  std::string all;
  for (int64_t from = 1; from <= last_seq;) {
    auto next = service().audit_export_page(from, last_seq, 1 << 20, scope, all);
    if (!next.ok()) return internal(next.error());
    from = *next;
  }
  // The entries the filters select, in order, and the signed head (the line that is no entry).
  std::string out;
  for (size_t pos = 0; pos < all.size();) {
    size_t end = all.find('\n', pos);
    if (end == std::string::npos) end = all.size();
    std::string_view line(all.data() + pos, end - pos);
    pos = end + 1;
    auto parsed = parse_audit_line(line);
    if (parsed.ok()) {
      const AuditEntry& e = parsed->entry;
      if (!query.actor.empty() && e.actor != query.actor) continue;
      if (!query.action.empty() && e.action != query.action) continue;
      if (!query.outcome.empty() && e.outcome != query.outcome) continue;
      if (!query.repository.empty() && e.resource.compare(0, query.repository.size(), query.repository) != 0) continue;
      // RFC 3339 UTC times order as strings; "until" is inclusive of its whole prefix.
      if (!query.since.empty() && e.time < query.since) continue;
      if (!query.until.empty() && e.time.compare(0, query.until.size(), query.until) > 0) continue;
    }
    out.append(line);
    out += '\n';
  }
  return out;
}

// ---- complaints

Answer<Repo> PageData::complaint_target(Ctx& ctx, const std::string& owner, const std::string& name) {
  auto repo = hub_.complaints->complaint_target(ctx.caller(), owner, name);
  if (!repo.ok()) return problem(repo.error());
  return std::move(*repo);
}

Answer<ComplaintReceipt> PageData::file_complaint(Ctx& ctx, const ComplaintRequest& request) {
  auto receipt = hub_.complaints->receive(ctx.caller(), request);
  if (!receipt.ok()) return problem(receipt.error());
  return std::move(*receipt);
}

Answer<Complaint> PageData::complaint_status(const std::string& id, const std::string& secret) {
  auto c = hub_.complaints->status_for_complainant(id, secret);
  if (!c.ok()) return problem(c.error());
  return std::move(*c);
}

Answer<ComplaintsView> PageData::complaints(Ctx& ctx, const std::string& owner, const std::string& name) {
  Caller caller = ctx.caller();
  if (!ctx.who.authenticated()) return Problem{Refusal::kNotFound, "repository " + owner + "/" + name + " not found"};
  auto repo = service().open_repo(caller, owner, name, Action::kAdmin, "complaint.list");
  if (!repo.ok()) return problem(repo.error());
  ComplaintsView view;
  view.repo = std::move(*repo);
  auto open = hub_.complaints->public_channel(view.repo);
  if (!open.ok()) return problem(open.error());
  view.public_channel = *open;
  ComplaintQuery q;
  q.repo = view.repo.full_name();
  auto list = hub_.complaints->list(caller, q);
  if (!list.ok()) return problem(list.error());
  view.complaints = std::move(*list);
  view.now = now_unix();
  return view;
}

Answer<Done> PageData::decide_complaint(Ctx& ctx, const std::string& id, const std::string& status,
                                        const std::string& resolution) {
  return done(hub_.complaints->decide(ctx.caller(), id, ComplaintDecision{status, resolution}));
}

Answer<Done> PageData::set_complaint_channel(Ctx& ctx, const std::string& owner, const std::string& name, bool open) {
  return done(hub_.complaints->set_public_channel(ctx.caller(), owner, name, open));
}

}  // namespace lv::hub::web
