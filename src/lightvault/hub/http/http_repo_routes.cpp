// The hub's repository routes: creation, streamed uploads, commits, and their administration.
// Each reads its request, calls one use case of the service layer and writes its answer.
#include "lightvault/hub/http/http_server_impl.h"

namespace lv::hub {

void HubServer::Impl::create_repo(Ctx& ctx) {
  if (!ctx.who.authenticated()) return send_failure(ctx.res, service->create_repo(ctx.caller(), "", "", Visibility::kPrivate).error());
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
    if (!v) return deny(ctx, {ErrorCode::kInvalid, "visibility must be private or internal"}, "repo.create", owner + "/" + name);
    vis = *v;
  } else if (body->contains("private") && (*body)["private"].is_boolean() && !(*body)["private"].get<bool>()) {
    vis = Visibility::kInternal;  // there are no public repositories: "not private" means internal
  }
  auto repo = service->create_repo(ctx.caller(), owner, name, vis);
  if (!repo.ok()) return send_failure(ctx.res, repo.error());
  std::string resource = repo->full_name();
  send_json(ctx.res, 200, {{"url", "/" + resource}, {"name", resource}, {"id", resource}, {"visibility", std::string(to_string(vis))}});
}

void HubServer::Impl::upload(Ctx& ctx, const httplib::ContentReader& reader, const std::string& owner, const std::string& name) {
  UploadRequest request;
  request.expected_sha256 = ctx.req.get_param_value("sha256");
  if (ctx.req.has_param("size")) request.size = ctx.req.get_param_value("size");
  if (ctx.req.has_param("size") && request.size.empty()) request.size = "-";  // present but empty: not a number
  auto repo = service->begin_upload(ctx.caller(), owner, name, request);
  if (!repo.ok()) {
    ctx.res.set_header("Connection", "close");  // the body was not read
    return send_failure(ctx.res, repo.error());
  }
  bool read_all = false;
  auto result = service->upload(ctx.caller(), *repo, request, [&](const std::function<bool(const char*, size_t)>& sink) {
    read_all = reader([&](const char* data, size_t n) { return sink(data, n); });
    return read_all;
  });
  if (!result.ok()) {
    // A body cut short or refused mid-stream leaves bytes unread on the connection.
    if (!read_all) ctx.res.set_header("Connection", "close");
    return send_failure(ctx.res, result.error());
  }
  send_json(ctx.res, 200, {{"sha256", result->sha256}, {"size", result->size}, {"deduplicated", result->deduplicated}});
}

void HubServer::Impl::commit(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& branch) {
  // Who may write is decided before the body is read (a caller who may not sees a 404 or 403,
  // whatever they sent).
  auto repo = service->open_repo(ctx.caller(), owner, name, Action::kWrite, "model.upload");
  if (!repo.ok()) return send_failure(ctx.res, repo.error());
  auto body = parse_body(ctx, "model.upload");
  if (!body) return;
  CommitRequest request;
  request.branch = branch;
  if (body->contains("parent") && (*body)["parent"].is_string()) request.parent = (*body)["parent"].get<std::string>();
  request.replace = field(*body, "replace", false);
  for (auto& a : body->value("add", json::array())) {
    if (!a.is_object() || !a.contains("path") || !a.contains("sha256") || !a.contains("size") || !a["path"].is_string() ||
        !a["sha256"].is_string() || !a["size"].is_number_unsigned()) {
      request.malformed = "each added file needs path, sha256 and size";
      break;
    }
    request.add.push_back(FileEntry{a["path"].get<std::string>(), a["sha256"].get<std::string>(), a["size"].get<uint64_t>()});
  }
  for (auto& d : body->value("delete", json::array())) {
    // Not a name: it cannot be in the tree, which is what the service answers for it.
    request.remove.push_back(d.is_string() ? d.get<std::string>() : std::string(1, '\0'));
  }
  request.message = str(*body, "message", "Upload files");
  auto c = service->create_commit(ctx.caller(), owner, name, std::move(request));
  if (!c.ok()) return send_failure(ctx.res, c.error());
  json card = {{"complete", c->card.complete()}, {"missing", c->card.missing}};
  if (!c->card.error.empty()) card["error"] = c->card.error;
  send_json(ctx.res, 200, {{"commit", c->commit.id}, {"parent", c->commit.parent}, {"files", c->commit.files.size()}, {"card", card}});
}

void HubServer::Impl::set_grant(Ctx& ctx, const std::string& owner, const std::string& name) {
  auto repo = service->open_repo(ctx.caller(), owner, name, Action::kAdmin, "grant.set");
  if (!repo.ok()) return send_failure(ctx.res, repo.error());
  auto body = parse_body(ctx, "grant.set");
  if (!body) return;
  auto g = service->set_grant(ctx.caller(), owner, name, str(*body, "subject"), str(*body, "role"));
  if (!g.ok()) return send_failure(ctx.res, g.error());
  send_json(ctx.res, 200, {{"subject", str(*body, "subject")}, {"role", std::string(to_string(g->role))}});
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
    auto grants = service->list_grants(ctx.caller(), req.matches[1], req.matches[2]);
    if (!grants.ok()) return send_failure(res, grants.error());
    json out = json::array();
    for (auto& g : *grants) out.push_back({{"subject", std::string(to_string(g.subject)) + ":" + g.subject_name}, {"role", std::string(to_string(g.role))}});
    send_json(res, 200, out);
  });

  http.Post(repo_re + "/grants", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (authenticate(ctx)) set_grant(ctx, req.matches[1], req.matches[2]);
  });

  http.Post(repo_re + "/tags", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto repo = service->open_repo(ctx.caller(), req.matches[1], req.matches[2], Action::kWrite, "tag.create");
    if (!repo.ok()) return send_failure(res, repo.error());
    auto body = parse_body(ctx, "tag.create");
    if (!body) return;
    std::string tag = str(*body, "tag");
    auto c = service->set_tag(ctx.caller(), req.matches[1], req.matches[2], tag, str(*body, "revision", "main"));
    if (!c.ok()) return send_failure(res, c.error());
    send_json(res, 200, {{"tag", tag}, {"commit", c->id}});
  });

  http.Delete(repo_re + "/tags/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string tag = req.matches[3];
    auto done = service->delete_tag(ctx.caller(), req.matches[1], req.matches[2], tag);
    if (!done.ok()) return send_failure(res, done.error());
    send_json(res, 200, {{"deleted", tag}});
  });

  http.Put(repo_re + "/settings", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto repo = service->open_repo(ctx.caller(), req.matches[1], req.matches[2], Action::kAdmin, "repo.settings");
    if (!repo.ok()) return send_failure(res, repo.error());
    auto body = parse_body(ctx, "repo.settings");
    if (!body) return;
    auto vis = service->set_visibility(ctx.caller(), req.matches[1], req.matches[2], str(*body, "visibility"));
    if (!vis.ok()) return send_failure(res, vis.error());
    send_json(res, 200, {{"visibility", std::string(to_string(*vis))}});
  });

  http.Delete(repo_re, [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    std::string resource = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
    auto done = service->delete_repo(ctx.caller(), req.matches[1], req.matches[2]);
    if (!done.ok()) return send_failure(res, done.error());
    send_json(res, 200, {{"deleted", resource}});
  });

  http.Get(repo_re + "/commits", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto commits = service->list_commits(ctx.caller(), req.matches[1], req.matches[2],
                                         req.has_param("branch") ? req.get_param_value("branch") : "main");
    if (!commits.ok()) return send_failure(res, commits.error());
    json out = json::array();
    for (auto& c : *commits) {
      out.push_back({{"id", c.id}, {"parent", c.parent}, {"message", c.message}, {"author", c.author}, {"date", utc_rfc3339(c.created_at, true)},
                     {"files", c.files.size()}});
    }
    send_json(res, 200, out);
  });

  // Lifecycle events reported by other tools: model.finetune (with the base model),
  // model.deploy (with the target) and dataset.scan (with what was scanned). Anyone who can
  // read the model may report them.
  http.Post(repo_re + "/events", [this](const httplib::Request& req, httplib::Response& res) {
    Ctx ctx = begin(req, res);
    if (!authenticate(ctx)) return;
    auto body = parse_body(ctx, "model.event");
    if (!body) return;
    auto done = service->record_event(ctx.caller(), req.matches[1], req.matches[2], str(*body, "action"),
                                      body->value("details", json::object()));
    if (!done.ok()) return send_failure(res, done.error());
    send_json(res, 200, {{"recorded", str(*body, "action")}});
  });
}

}  // namespace lv::hub
