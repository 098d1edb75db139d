// The hub's use cases: authorization, validation, the change and its audit entry (see
// hub_service.h). Repositories and downloads here; identities, tokens, operations and the
// audit trail in hub_service_admin.cpp.
#include "lightvault/hub/service/hub_service.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>
#include <span>
#include <unordered_map>

#include "lightvault/hub/service/model_card.h"
#include "lightvault/hub/service/repo_path.h"

namespace lv::hub {

using json = nlohmann::json;

namespace {

constexpr const char* kLoginRequired = "authentication required (Authorization: Bearer TOKEN)";

// A commit's file names in its audit entry; for a commit too large to list within the audit
// chain's detail limit, their count and the SHA-256 of the names joined by newlines.
void audit_file_list(json& details, const std::string& key, const json& names) {
  constexpr size_t kMaxListed = 64 * 1024;
  std::string joined;
  for (auto& n : names) joined += n.get<std::string>() + "\n";
  if (joined.size() <= kMaxListed) {
    details[key] = names;
    return;
  }
  details[key + "_count"] = names.size();
  details[key + "_sha256"] = crypto::sha256_hex(joined);
}

// What the commit's card lacks, in its audit entry: the missing paths (at most kMaxListed, and
// their count), or the reason the card could not be read.
void audit_card_status(json& details, const CardStatus& card) {
  constexpr size_t kMaxListed = 100;
  json missing = json::array();
  for (size_t i = 0; i < card.missing.size() && i < kMaxListed; ++i) missing.push_back(card.missing[i]);
  details["card_missing"] = missing;
  if (card.missing.size() > kMaxListed) details["card_missing_count"] = card.missing.size();
  if (!card.error.empty()) details["card_error"] = card.error;
}

// "policy of acme requires a complete model card for internal repositories; acme/m lacks: a, b".
std::string incomplete_card_message(const std::string& org, const std::string& resource, const CardStatus& card) {
  std::string what;
  if (!card.error.empty()) what = card.error + "; ";
  constexpr size_t kMaxNamed = 20;
  for (size_t i = 0; i < card.missing.size() && i < kMaxNamed; ++i) what += (i ? ", " : "") + card.missing[i];
  if (card.missing.size() > kMaxNamed) what += " and " + std::to_string(card.missing.size() - kMaxNamed) + " more";
  return "the policy of organization " + org + " requires a complete model card for internal repositories; " + resource +
         "'s README.md lacks: " + what;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

ServiceError internal(const Error& e) { return ServiceError{ErrorCode::kInternal, e.message}; }

}  // namespace

bool AuditScope::includes(const std::string& org) const {
  return all || std::find(orgs.begin(), orgs.end(), org) != orgs.end();
}

HubService::HubService(Catalog& catalog, BlobStore& blobs, MasterKeyring& keyring, AuditWriter& audit)
    : catalog_(catalog), blobs_(blobs), keyring_(keyring), audit_(audit) {}

// ---- plumbing

void HubService::audit_event(const Caller& caller, const std::string& action, const std::string& resource,
                             const char* outcome, json details, const std::string& org) {
  Status st = audit_.append(audit_entry(caller, action, resource, outcome, std::move(details), org));
  if (!st.ok()) std::cerr << "audit append failed: " << st.error().message << "\n";
}

ServiceError HubService::refuse(const Caller& caller, const std::string& action, const std::string& resource,
                                ServiceError error, const std::string& org) {
  audit_event(caller, action, resource, kAuditDenied,
              json{{"reason", error.message}, {"status", audit_status(error.code)}}, org);
  return error;
}

Status HubService::change(const Caller& caller, const std::string& action, const std::string& resource,
                          const std::string& org, const std::function<Status(json& details)>& fn) {
  return audit_.in_transaction([&](AuditEntry& e) -> Status {
    json details = json::object();
    LV_RETURN_IF_ERROR(fn(details));
    e = audit_entry(caller, action, resource, kAuditAllowed, std::move(details), org);
    return Status::Ok();
  });
}

ServiceError HubService::rejected(const Caller& caller, const std::string& action, const std::string& resource,
                                  const Error& e, ErrorCode code, const std::string& org) {
  audit_event(caller, action, resource, kAuditError, json{{"reason", e.message}}, org);
  return ServiceError{code, e.message};
}

Outcome<Done> HubService::require_login(const Caller& caller, const std::string& action, const std::string& resource) {
  if (caller.who.authenticated()) return Done{};
  return refuse(caller, action, resource, {ErrorCode::kUnauthenticated, kLoginRequired, "Unauthorized"});
}

Result<RepoRole> HubService::role_on(const Principal& who, const Repo& repo) {
  PrincipalFacts p;
  if (who.authenticated()) {
    p.authenticated = true;
    p.user_id = who.user->id;
    p.site_admin = who.user->site_admin;
    p.scope_cap = scope_cap(who.scopes);
    if (repo.owner_kind == OwnerKind::kOrg) {
      LV_ASSIGN_OR_RETURN(p.org_role, catalog_.org_role(repo.owner_id, who.user->id));
    }
    LV_ASSIGN_OR_RETURN(p.team_ids, catalog_.team_ids_of(who.user->id));
  }
  LV_ASSIGN_OR_RETURN(auto grants, catalog_.list_grants(repo.id));
  std::vector<GrantFact> g;
  for (auto& x : grants) g.push_back({x.subject, x.subject_id, x.role});
  return effective_role(p, RepoFacts{repo.owner_kind, repo.owner_id, repo.visibility}, g);
}

bool HubService::org_admin(const Principal& who, const Org& org, bool need_owner) {
  if (who.site_admin()) return true;
  if (!who.authenticated() || !(who.scopes & kScopeAdmin)) return false;
  auto role = catalog_.org_role(org.id, who.user->id);
  if (!role.ok() || !role->has_value()) return false;
  if (need_owner) return **role == OrgRole::kOwner;
  return **role == OrgRole::kOwner || **role == OrgRole::kAdmin;
}

// ---- reads

Outcome<std::vector<Membership>> HubService::whoami(const Caller& caller) {
  if (auto login = require_login(caller, "auth.whoami", "whoami"); !login.ok()) return login.error();
  auto ms = catalog_.memberships_of(caller.who.user->id);
  if (!ms.ok()) return std::vector<Membership>{};  // the identity is known; organizations are extra
  return std::move(*ms);
}

Outcome<std::vector<RepoListing>> HubService::list_models(const Caller& caller, const ModelQuery& query) {
  if (auto login = require_login(caller, "model.list", "models"); !login.ok()) return login.error();
  const User& user = *caller.who.user;
  // Everything the permission rule looks at, for all repositories at once: the caller's
  // teams, organization roles and grants, then the repositories with their heads.
  auto teams = catalog_.team_ids_of(user.id);
  if (!teams.ok()) return internal(teams.error());
  auto memberships = catalog_.memberships_of(user.id);
  if (!memberships.ok()) return internal(memberships.error());
  auto grants = catalog_.grants_held_by(user.id, *teams);
  if (!grants.ok()) return internal(grants.error());
  auto repos = catalog_.list_repos_with_heads(query.author);
  if (!repos.ok()) return internal(repos.error());

  std::unordered_map<int64_t, OrgRole> org_roles;
  for (auto& m : *memberships) org_roles[m.org_id] = m.role;
  std::unordered_map<int64_t, std::vector<GrantFact>> grants_by_repo;
  for (auto& g : *grants) grants_by_repo[g.repo_id].push_back({g.subject, g.subject_id, g.role});
  PrincipalFacts p;
  p.authenticated = true;
  p.user_id = user.id;
  p.site_admin = user.site_admin;
  p.scope_cap = scope_cap(caller.who.scopes);
  p.team_ids = *teams;
  const std::vector<GrantFact> none;
  const std::string needle = lower(query.search);

  std::vector<RepoListing> out;
  size_t skipped = 0;
  for (auto& l : *repos) {
    if (!needle.empty() && lower(l.repo.full_name()).find(needle) == std::string::npos) continue;
    p.org_role.reset();
    if (l.repo.owner_kind == OwnerKind::kOrg) {
      auto it = org_roles.find(l.repo.owner_id);
      if (it != org_roles.end()) p.org_role = it->second;
    }
    auto g = grants_by_repo.find(l.repo.id);
    RepoRole role = effective_role(p, RepoFacts{l.repo.owner_kind, l.repo.owner_id, l.repo.visibility},
                                   g == grants_by_repo.end() ? none : g->second);
    if (role < RepoRole::kRead) continue;
    if (skipped < query.offset) {
      ++skipped;
      continue;
    }
    out.push_back(std::move(l));
    if (query.limit != 0 && out.size() >= query.limit) break;
  }
  return out;
}

Outcome<Repo> HubService::open_repo(const Caller& caller, const std::string& owner, const std::string& name,
                                    Action action, const std::string& audit_action) {
  std::string resource = owner + "/" + name;
  auto repo = catalog_.find_repo(owner, name);
  if (!repo.ok()) return internal(repo.error());
  const bool anonymous = !caller.who.authenticated();
  if (!repo->has_value()) {
    if (anonymous) return refuse(caller, audit_action, resource, {ErrorCode::kUnauthenticated, kLoginRequired, "RepoNotFound"});
    return refuse(caller, audit_action, resource, {ErrorCode::kNotFound, "repository " + resource + " not found", "RepoNotFound"});
  }
  const Repo& r = **repo;
  auto role = role_on(caller.who, r);
  if (!role.ok()) return internal(role.error());
  if (*role >= required_role(action)) return r;
  if (anonymous) {
    return refuse(caller, audit_action, resource, {ErrorCode::kUnauthenticated, kLoginRequired, "RepoNotFound"}, repo_org(r));
  }
  if (*role == RepoRole::kNone) {
    return refuse(caller, audit_action, resource, {ErrorCode::kNotFound, "repository " + resource + " not found", "RepoNotFound"},
                  repo_org(r));
  }
  return refuse(caller, audit_action, resource,
                {ErrorCode::kDenied,
                 std::string("forbidden: ") + std::string(to_string(action)) + " on " + resource + " needs role " +
                     std::string(to_string(required_role(action))) + ", caller has " + std::string(to_string(*role)),
                 "Forbidden"},
                repo_org(r));
}

Outcome<RepoRevision> HubService::read_revision(const Caller& caller, const std::string& owner, const std::string& name,
                                                const std::string& revision) {
  auto repo = open_repo(caller, owner, name, Action::kRead, "model.info");
  if (!repo.ok()) return repo.error();
  auto commit = catalog_.resolve(repo->id, revision);
  if (!commit.ok()) return internal(commit.error());
  return RepoRevision{std::move(*repo), std::move(*commit)};
}

std::optional<std::string> HubService::read_small_file(const Repo& repo, const Commit& commit, const std::string& path,
                                                       uint64_t max_bytes) {
  for (auto& f : commit.files) {
    if (f.path == path) return read_small_blob(repo, f, max_bytes);
  }
  return std::nullopt;
}

std::optional<std::string> HubService::read_small_blob(const Repo& repo, const FileEntry& f, uint64_t max_bytes) {
  if (f.size > max_bytes) return std::nullopt;
  auto reader = blobs_.open_reader(repo.owner, f.sha256);
  if (!reader.ok() || !*reader) return std::nullopt;
  std::string text((*reader)->size(), '\0');
  if (!(*reader)->read_into(0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size())).ok()) {
    return std::nullopt;
  }
  return text;
}

Result<std::vector<Ref>> HubService::list_refs(const Repo& repo) { return catalog_.list_refs(repo.id); }

json HubService::card_metadata(const Repo& repo, const Commit& commit) {
  // README.md's front matter, decrypted on request: the catalog keeps no plaintext of
  // uploaded files, so the card is not cached there.
  auto text = read_small_file(repo, commit, "README.md", 1u << 20);
  if (!text) return nullptr;
  auto parsed = parse_model_card(*text);
  if (!parsed.ok()) return json{{"error", parsed.error().message}};
  return parsed->metadata;
}

Outcome<std::vector<Commit>> HubService::list_commits(const Caller& caller, const std::string& owner,
                                                      const std::string& name, const std::string& branch, int limit) {
  auto repo = open_repo(caller, owner, name, Action::kRead, "model.info");
  if (!repo.ok()) return repo.error();
  auto commits = catalog_.list_commits(repo->id, branch, limit);
  if (!commits.ok()) return internal(commits.error());
  return std::move(*commits);
}

Outcome<FileDownload> HubService::open_download(const Caller& caller, const std::string& owner, const std::string& name,
                                                const std::string& revision, const std::string& path,
                                                const std::string& audit_action) {
  std::string resource = owner + "/" + name + "/resolve/" + revision + "/" + path;
  auto repo = open_repo(caller, owner, name, Action::kRead, audit_action);
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  auto commit = catalog_.resolve(repo->id, revision);
  if (!commit.ok()) return internal(commit.error());
  if (!commit->has_value()) {
    return refuse(caller, audit_action, resource,
                  {ErrorCode::kNotFound, "revision " + revision + " not found in " + repo->full_name(), "RevisionNotFound"}, org);
  }
  const FileEntry* file = nullptr;
  for (auto& f : (*commit)->files) {
    if (f.path == path) file = &f;
  }
  if (!file) {
    return refuse(caller, audit_action, resource,
                  {ErrorCode::kNotFound, "entry " + path + " not found in " + repo->full_name() + "@" + revision, "EntryNotFound"},
                  org);
  }
  auto reader = blobs_.open_reader(repo->owner, file->sha256);
  if (!reader.ok() || !*reader) {
    std::string why = reader.ok() ? "blob missing from the blob store" : reader.error().message;
    audit_event(caller, audit_action, resource, kAuditError, json{{"reason", why}}, org);
    return ServiceError{ErrorCode::kInternal, "cannot read " + resource + ": " + why};
  }
  FileDownload d{std::move(*repo), **commit, *file, std::shared_ptr<BlobReader>(std::move(*reader))};
  return d;
}

void HubService::record_download(const Caller& caller, const FileDownload& d, const std::string& resource, json details) {
  audit_event(caller, "model.download", resource, kAuditAllowed, std::move(details), repo_org(d.repo));
}

// ---- repositories

Outcome<Repo> HubService::create_repo(const Caller& caller, const std::string& owner, const std::string& name,
                                      Visibility visibility) {
  if (auto login = require_login(caller, "repo.create", "repos"); !login.ok()) return login.error();
  std::string resource = owner + "/" + name;
  if (!(caller.who.scopes & kScopeWrite)) {
    return refuse(caller, "repo.create", resource, {ErrorCode::kDenied, "token scope does not allow writing", "Forbidden"});
  }
  // Who may create in `owner`: the user itself, an org owner/admin, or a site admin.
  bool may = caller.who.site_admin() || owner == caller.who.name();
  std::string org_name;
  auto org = catalog_.find_org(owner);
  if (org.ok() && org->has_value()) {
    org_name = owner;
    auto role = catalog_.org_role((*org)->id, caller.who.user->id);
    if (role.ok() && role->has_value() && (**role == OrgRole::kOwner || **role == OrgRole::kAdmin)) may = true;
  }
  if (!may) {
    return refuse(caller, "repo.create", resource, {ErrorCode::kDenied, "cannot create repositories in " + owner, "Forbidden"},
                  org_name);
  }
  Repo repo;
  bool taken = false;
  Status st = change(caller, "repo.create", resource, org_name, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(auto existing, catalog_.find_repo(owner, name));
    taken = existing.has_value();
    LV_ASSIGN_OR_RETURN(repo, catalog_.create_repo(owner, name, visibility));
    d["visibility"] = std::string(to_string(visibility));
    return Status::Ok();
  });
  if (!st.ok()) {
    return rejected(caller, "repo.create", resource, st.error(), taken ? ErrorCode::kConflict : ErrorCode::kInvalid, org_name);
  }
  return repo;
}

Outcome<Done> HubService::delete_repo(const Caller& caller, const std::string& owner, const std::string& name) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kAdmin, "model.delete");
  if (!repo.ok()) return repo.error();
  Status st = change(caller, "model.delete", resource, repo_org(*repo), [&](json&) { return catalog_.delete_repo(repo->id); });
  if (!st.ok()) return rejected(caller, "model.delete", resource, st.error(), ErrorCode::kInvalid, repo_org(*repo));
  return Done{};
}

Outcome<Visibility> HubService::set_visibility(const Caller& caller, const std::string& owner, const std::string& name,
                                               const std::string& visibility) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kAdmin, "repo.settings");
  if (!repo.ok()) return repo.error();
  auto vis = parse_visibility(visibility);
  if (!vis) {
    return refuse(caller, "repo.settings", resource, {ErrorCode::kInvalid, "visibility must be private or internal"},
                  repo_org(*repo));
  }
  if (*vis == Visibility::kInternal) {
    auto policy = policy_of(*repo);
    if (!policy.ok()) return internal(policy.error());
    if (policy->require_card_complete) {
      auto head = catalog_.resolve(repo->id, "main");
      if (!head.ok()) return internal(head.error());
      CardStatus card = card_status(*repo, *head ? (*head)->files : std::vector<FileEntry>{});
      if (!card.complete()) {
        return refuse(caller, "repo.settings", resource,
                      {ErrorCode::kConflict, incomplete_card_message(repo->owner, resource, card), "CardIncomplete"},
                      repo_org(*repo));
      }
    }
  }
  Status st = change(caller, "repo.settings", resource, repo_org(*repo), [&](json& d) -> Status {
    d = json{{"visibility", std::string(to_string(*vis))}};
    return catalog_.set_visibility(repo->id, *vis);
  });
  if (!st.ok()) return rejected(caller, "repo.settings", resource, st.error(), ErrorCode::kInvalid, repo_org(*repo));
  return *vis;
}

Outcome<std::vector<Grant>> HubService::list_grants(const Caller& caller, const std::string& owner, const std::string& name) {
  auto repo = open_repo(caller, owner, name, Action::kAdmin, "grant.list");
  if (!repo.ok()) return repo.error();
  auto grants = catalog_.list_grants(repo->id);
  if (!grants.ok()) return internal(grants.error());
  return std::move(*grants);
}

Outcome<Grant> HubService::set_grant(const Caller& caller, const std::string& owner, const std::string& name,
                                     const std::string& subject, const std::string& role_name) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kAdmin, "grant.set");
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  auto role = parse_repo_role(role_name);
  if (!role) return refuse(caller, "grant.set", resource, {ErrorCode::kInvalid, "role must be read, write, admin or none"}, org);
  auto colon = subject.find(':');
  auto kind = parse_subject_kind(subject.substr(0, colon == std::string::npos ? 0 : colon));
  if (!kind) return refuse(caller, "grant.set", resource, {ErrorCode::kInvalid, "subject must be user:NAME or team:ORG/TEAM"}, org);
  std::string who = subject.substr(colon + 1);
  Grant grant;
  grant.repo_id = repo->id;
  grant.subject = *kind;
  grant.subject_name = who;
  grant.role = *role;
  if (*kind == SubjectKind::kUser) {
    auto u = catalog_.find_user(who);
    if (!u.ok() || !u->has_value()) return refuse(caller, "grant.set", resource, {ErrorCode::kNotFound, "no user " + who}, org);
    grant.subject_id = (*u)->id;
  } else {
    auto slash = who.find('/');
    auto t = slash == std::string::npos ? Result<std::optional<Team>>(std::optional<Team>())
                                        : catalog_.find_team(who.substr(0, slash), who.substr(slash + 1));
    if (!t.ok() || !t->has_value()) return refuse(caller, "grant.set", resource, {ErrorCode::kNotFound, "no team " + who}, org);
    grant.subject_id = (*t)->id;
  }
  Status st = change(caller, *role == RepoRole::kNone ? "grant.remove" : "grant.set", resource, org, [&](json& d) -> Status {
    d = json{{"subject", subject}, {"role", std::string(to_string(*role))}};
    return catalog_.set_grant(repo->id, *kind, grant.subject_id, *role);
  });
  if (!st.ok()) return rejected(caller, "grant.set", resource, st.error(), ErrorCode::kInvalid, org);
  return grant;
}

Outcome<CommitResult> HubService::create_commit(const Caller& caller, const std::string& owner, const std::string& name,
                                          CommitRequest request) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kWrite, "model.upload");
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  if (!request.malformed.empty()) return refuse(caller, "model.upload", resource, {ErrorCode::kInvalid, request.malformed}, org);
  // The tree by NFC path, so that a name sent in NFD replaces its NFC twin instead of joining it.
  std::map<std::string, FileEntry> tree;
  auto key_of = [](const std::string& path) {
    auto nfc = normalize_repo_path(path);
    return nfc.ok() ? *nfc : path;
  };
  auto head = catalog_.resolve(repo->id, request.branch);
  if (!head.ok()) return internal(head.error());
  if (!request.replace && head->has_value()) {
    for (auto& f : (*head)->files) tree[key_of(f.path)] = f;
  }
  json added = json::array(), deleted = json::array();
  for (auto& a : request.add) {
    auto path = normalize_repo_path(a.path);
    if (!path.ok()) return refuse(caller, "model.upload", resource, {ErrorCode::kInvalid, path.error().message}, org);
    FileEntry f{*path, a.sha256, a.size};
    added.push_back(f.path);
    tree[f.path] = f;
  }
  for (auto& d : request.remove) {
    if (!tree.count(key_of(d))) {
      return refuse(caller, "model.upload", resource,
                    {ErrorCode::kInvalid, "cannot delete a file that is not in " + request.branch}, org);
    }
    tree.erase(key_of(d));
    deleted.push_back(d);
  }
  std::vector<FileEntry> files;
  for (auto& [p, f] : tree) files.push_back(f);
  CardStatus card = card_status(*repo, files);
  if (repo->visibility == Visibility::kInternal && !card.complete()) {
    auto policy = policy_of(*repo);
    if (!policy.ok()) return internal(policy.error());
    if (policy->require_card_complete) {
      return refuse(caller, "model.upload", resource,
                    {ErrorCode::kConflict, incomplete_card_message(repo->owner, resource, card), "CardIncomplete"}, org);
    }
  }
  Commit c;
  // A parent given and not the branch's head, now or when the catalog compared and set it:
  // the branch moved (a conflict the client resolves by rebasing), not a bad request.
  bool moved = false;
  Status st = change(caller, "model.upload", resource, org, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(auto before, catalog_.resolve(repo->id, request.branch));
    std::string before_id = before ? before->id : "";
    moved = request.parent && *request.parent != before_id;
    auto created = catalog_.create_commit(*repo, request.branch, request.parent, request.message, *caller.who.user, files);
    if (!created.ok()) {
      if (!moved) {
        auto after = catalog_.resolve(repo->id, request.branch);
        moved = after.ok() && (*after ? (*after)->id : "") != before_id;
      }
      return created.error();
    }
    c = std::move(*created);
    d = json{{"commit", c.id}, {"branch", request.branch}, {"message", request.message}};
    audit_file_list(d, "added", added);
    audit_file_list(d, "deleted", deleted);
    audit_card_status(d, card);
    return Status::Ok();
  });
  if (!st.ok()) return rejected(caller, "model.upload", resource, st.error(), moved ? ErrorCode::kConflict : ErrorCode::kInvalid, org);
  return CommitResult{std::move(c), std::move(card)};
}

Outcome<Repo> HubService::begin_upload(const Caller& caller, const std::string& owner, const std::string& name,
                                       const UploadRequest& request) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kWrite, "blob.upload");
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  if (!request.expected_sha256.empty() && !crypto::is_sha256_hex(request.expected_sha256)) {
    return refuse(caller, "blob.upload", resource, {ErrorCode::kInvalid, "sha256 must be 64 lowercase hex digits"}, org);
  }
  if (!request.size.empty()) {
    try {
      (void)std::stoull(request.size);
    } catch (...) {
      return refuse(caller, "blob.upload", resource, {ErrorCode::kInvalid, "size must be a number"}, org);
    }
  }
  return repo;
}

Outcome<UploadResult> HubService::upload(const Caller& caller, const Repo& repo, const UploadRequest& request,
                                         const ByteSource& bytes) {
  std::string resource = repo.full_name();
  std::string org = repo_org(repo);
  BlobWriteOptions wopt;
  wopt.expected_sha256 = request.expected_sha256;
  if (!request.size.empty()) wopt.expected_size = std::stoull(request.size);
  auto writer = blobs_.create_writer(repo.owner, wopt);
  if (!writer.ok()) return internal(writer.error());
  Status write_status;
  bool read_ok = bytes([&](const char* data, size_t n) -> bool {
    write_status = (*writer)->write(data, n);
    return write_status.ok();
  });
  if (!write_status.ok() || !read_ok) {
    (*writer)->abort();
    std::string why = !write_status.ok() ? write_status.error().message : "upload interrupted";
    audit_event(caller, "blob.upload", resource, kAuditError, json{{"reason", why}}, org);
    return ServiceError{ErrorCode::kInvalid, why};
  }
  auto info = (*writer)->commit();
  if (!info.ok()) {
    audit_event(caller, "blob.upload", resource, kAuditError, json{{"reason", info.error().message}}, org);
    return ServiceError{ErrorCode::kInvalid, info.error().message};
  }
  // "deduplicated" only when this repository already had the bytes or this caller uploaded them
  // here before: what other repositories of the owner hold must not show.
  UploadResult result{info->sha256, info->size, false};
  Status st = change(caller, "blob.upload", resource, org, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(bool known_here, catalog_.may_reference_blob(repo.id, caller.who.user->id, info->sha256));
    result.deduplicated = info->deduplicated && known_here;
    LV_RETURN_IF_ERROR(register_upload(catalog_, blobs_, *info, repo.id, caller.who.user->id));
    d["sha256"] = info->sha256;
    d["size"] = info->size;
    d["deduplicated"] = result.deduplicated;
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return result;
}

Outcome<Commit> HubService::set_tag(const Caller& caller, const std::string& owner, const std::string& name,
                                    const std::string& tag, const std::string& revision) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kWrite, "tag.create");
  if (!repo.ok()) return repo.error();
  std::string org = repo_org(*repo);
  auto c = catalog_.resolve(repo->id, revision);
  if (!c.ok() || !c->has_value()) {
    return refuse(caller, "tag.create", resource, {ErrorCode::kNotFound, "revision " + revision + " not found", "RevisionNotFound"},
                  org);
  }
  Status st = change(caller, "tag.create", resource, org, [&](json& d) -> Status {
    d = json{{"tag", tag}, {"commit", (*c)->id}};
    return catalog_.set_tag(repo->id, tag, (*c)->id);
  });
  if (!st.ok()) return rejected(caller, "tag.create", resource, st.error(), ErrorCode::kInvalid, org);
  return **c;
}

Outcome<Done> HubService::delete_tag(const Caller& caller, const std::string& owner, const std::string& name,
                                     const std::string& tag) {
  std::string resource = owner + "/" + name;
  auto repo = open_repo(caller, owner, name, Action::kWrite, "tag.delete");
  if (!repo.ok()) return repo.error();
  Status st = change(caller, "tag.delete", resource, repo_org(*repo), [&](json& d) -> Status {
    d = json{{"tag", tag}};
    return catalog_.delete_tag(repo->id, tag);
  });
  if (!st.ok()) return rejected(caller, "tag.delete", resource, st.error(), ErrorCode::kInvalid, repo_org(*repo));
  return Done{};
}

Outcome<Done> HubService::record_event(const Caller& caller, const std::string& owner, const std::string& name,
                                       const std::string& action, json details) {
  std::string resource = owner + "/" + name;
  if (!details.is_object()) details = json::object();
  // Each event names what it is about in one required detail.
  static const std::map<std::string, const char*> kRequiredDetail = {
      {"model.finetune", "base_model"}, {"model.deploy", "target"}, {"dataset.scan", "input"}};
  const auto known = kRequiredDetail.find(action);
  if (known == kRequiredDetail.end()) {
    return refuse(caller, "model.event", resource,
                  {ErrorCode::kInvalid, "action must be model.finetune, model.deploy or dataset.scan"});
  }
  auto repo = open_repo(caller, owner, name, Action::kRead, action);
  if (!repo.ok()) return repo.error();
  const std::string need = known->second;
  if (!details.contains(need) || !details[need].is_string() || details[need].get<std::string>().empty()) {
    return refuse(caller, action, resource, {ErrorCode::kInvalid, action + " needs details." + need}, repo_org(*repo));
  }
  if (Status fits = check_audit_details(details); !fits.ok()) {
    return refuse(caller, action, resource, {ErrorCode::kInvalid, fits.error().message}, repo_org(*repo));
  }
  Status st = change(caller, action, resource, repo_org(*repo), [&](json& d) -> Status {
    d = details;
    return Status::Ok();
  });
  if (!st.ok()) return internal(st.error());
  return Done{};
}

}  // namespace lv::hub
