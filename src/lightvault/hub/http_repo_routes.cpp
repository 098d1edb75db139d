// The hub's repository routes: creation, streamed uploads, commits, and their administration.
#include "lightvault/hub/http_server_impl.h"

#include <iostream>
#include <map>

#include "lightvault/hub/blob_gc.h"
#include "lightvault/hub/repo_path.h"

namespace lv::hub {

namespace {

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

}  // namespace

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
  // "deduplicated" only when this repository already had the bytes or this caller uploaded them
  // here before: what other repositories of the owner hold must not show.
  bool deduplicated = false;
  Status st = change(ctx, "blob.upload", resource, org, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(bool known_here, catalog->may_reference_blob(repo->id, ctx.who.user->id, info->sha256));
    deduplicated = info->deduplicated && known_here;
    LV_RETURN_IF_ERROR(register_upload(*catalog, *blobs, *info, repo->id, ctx.who.user->id));
    d["sha256"] = info->sha256;
    d["size"] = info->size;
    d["deduplicated"] = deduplicated;
    return Status::Ok();
  });
  if (!st.ok()) return send_error(ctx.res, 500, st.error().message);
  send_json(ctx.res, 200, {{"sha256", info->sha256}, {"size", info->size}, {"deduplicated", deduplicated}});
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
  bool replace = field(*body, "replace", false);
  // The tree by NFC path, so that a name sent in NFD replaces its NFC twin instead of joining it.
  std::map<std::string, FileEntry> tree;
  auto key_of = [](const std::string& path) {
    auto nfc = normalize_repo_path(path);
    return nfc.ok() ? *nfc : path;
  };
  auto head = catalog->resolve(repo->id, branch);
  if (!head.ok()) return send_error(ctx.res, 500, head.error().message);
  if (!replace && head->has_value()) {
    for (auto& f : (*head)->files) tree[key_of(f.path)] = f;
  }
  json added = json::array(), deleted = json::array();
  for (auto& a : body->value("add", json::array())) {
    if (!a.is_object() || !a.contains("path") || !a.contains("sha256") || !a.contains("size") || !a["path"].is_string() ||
        !a["sha256"].is_string() || !a["size"].is_number_unsigned()) {
      return deny(ctx, 400, "model.upload", resource, "each added file needs path, sha256 and size", "", org);
    }
    auto path = normalize_repo_path(a["path"].get<std::string>());
    if (!path.ok()) return deny(ctx, 400, "model.upload", resource, path.error().message, "", org);
    FileEntry f{*path, a["sha256"].get<std::string>(), a["size"].get<uint64_t>()};
    added.push_back(f.path);
    tree[f.path] = f;
  }
  for (auto& d : body->value("delete", json::array())) {
    if (!d.is_string() || !tree.count(key_of(d.get<std::string>()))) {
      return deny(ctx, 400, "model.upload", resource, "cannot delete a file that is not in " + branch, "", org);
    }
    tree.erase(key_of(d.get<std::string>()));
    deleted.push_back(d);
  }
  std::vector<FileEntry> files;
  for (auto& [p, f] : tree) files.push_back(f);
  std::string message = str(*body, "message", "Upload files");
  Commit c;
  Status st = change(ctx, "model.upload", resource, org, [&](json& d) -> Status {
    LV_ASSIGN_OR_RETURN(c, catalog->create_commit(*repo, branch, parent, message, *ctx.who.user, files));
    d = json{{"commit", c.id}, {"branch", branch}, {"message", message}};
    audit_file_list(d, "added", added);
    audit_file_list(d, "deleted", deleted);
    return Status::Ok();
  });
  if (!st.ok()) return fail_change(ctx, "model.upload", resource, st.error(), org);
  send_json(ctx.res, 200, {{"commit", c.id}, {"parent", c.parent}, {"files", c.files.size()}});
}

// The handlers above, then administration: grants, tags, settings, delete, history, lifecycle
// events.
void HubServer::Impl::repo_routes() {
  const std::string repo_re = R"(/api/lv/models/([^/]+)/([^/]+))";
  http.Post("/api/repos/create", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) create_repo(ctx);
  });
  http.Post(repo_re + "/upload",
            [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
              Ctx ctx = begin(req, res);
              if (!authenticate(ctx)) {
                res.set_header("Connection", "close");
                return;
              }
              upload(ctx, reader, req.matches[1], req.matches[2]);
            });
  http.Post(repo_re + "/commit/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) commit(ctx, req.matches[1], req.matches[2], req.matches[3]);
  });

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
    if (Status fits = check_audit_details(details); !fits.ok()) {
      return deny(ctx, 400, action, resource, fits.error().message, "", repo_org(*repo));
    }
    Status st = change(ctx, action, resource, repo_org(*repo), [&](json& d) -> Status {
      d = details;
      return Status::Ok();
    });
    if (!st.ok()) return send_error(res, 500, st.error().message);
    send_json(res, 200, {{"recorded", action}});
  });
}

}  // namespace lv::hub
