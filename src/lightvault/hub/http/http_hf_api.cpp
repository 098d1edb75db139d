// The hub's Hugging Face-compatible read API: whoami, model listing and info, trees, downloads.
#include "lightvault/hub/http/http_server_impl.h"

#include <cctype>
#include <cstring>
#include <iostream>
#include <set>

#include "lightvault/hub/service/model_card.h"

namespace lv::hub {

// `attachment` with the file name quoted per RFC 6266: a plain-ASCII filename="..." in which
// quotes, backslashes, control and non-ASCII bytes become '_', so a name cannot add parameters,
// and the exact UTF-8 name as filename*=UTF-8''<percent-encoded> (RFC 5987).
std::string content_disposition(const std::string& name) {
  std::string fallback, encoded;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    fallback += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : static_cast<char>(c);
    if (std::isalnum(c) || std::strchr("!#$&+-.^_`|~", c) != nullptr) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

namespace {

constexpr uint64_t kReadChunk = 4 * 1024 * 1024;

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

void HubServer::Impl::whoami(Ctx& ctx) {
  auto ms = service->whoami(ctx.caller());
  if (!ms.ok()) return send_failure(ctx.res, ms.error());
  json orgs = json::array();
  for (auto& m : *ms) orgs.push_back({{"type", "org"}, {"name", m.org}, {"roleInOrg", std::string(to_string(m.role))}});
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
json repo_summary(const Repo& r, const std::string& head_id, int64_t head_time) {
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
              {"sha", head_id.empty() ? json(nullptr) : json(head_id)},
              {"createdAt", utc_rfc3339(r.created_at, true)},
              {"lastModified", utc_rfc3339(head_id.empty() ? r.created_at : head_time, true)}};
}
}  // namespace

void HubServer::Impl::list_models(Ctx& ctx) {
  ModelQuery query;
  query.author = ctx.req.get_param_value("author");
  query.search = ctx.req.get_param_value("search");
  if (ctx.req.has_param("limit")) {
    const std::string& v = ctx.req.get_param_value("limit");
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
      return deny(ctx, {ErrorCode::kInvalid, "limit must be a number"}, "model.list", "models");
    }
    query.limit = std::stoul(v);
  }
  auto models = service->list_models(ctx.caller(), query);
  if (!models.ok()) return send_failure(ctx.res, models.error());
  json out = json::array();
  for (auto& m : *models) out.push_back(repo_summary(m.repo, m.head_id, m.head_time));
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::model_info(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                                 bool explicit_rev) {
  auto found = service->read_revision(ctx.caller(), owner, name, rev);
  if (!found.ok()) return send_failure(ctx.res, found.error());
  const Repo& repo = found->repo;
  const std::optional<Commit>& commit = found->commit;
  if (!commit && (explicit_rev && rev != "main" && rev != "HEAD")) {
    return send_error(ctx.res, 404, "revision " + rev + " not found in " + repo.full_name(), "RevisionNotFound");
  }
  json out = repo_summary(repo, commit ? commit->id : "", commit ? commit->created_at : 0);
  bool blobs = ctx.req.get_param_value("blobs") == "true" || ctx.req.get_param_value("blobs") == "1";
  json siblings = json::array();
  if (commit) {
    for (auto& f : commit->files) {
      json s{{"rfilename", f.path}};
      if (blobs) {
        s["size"] = f.size;
        s["blobId"] = f.sha256;
        s["lfs"] = {{"sha256", f.sha256}, {"size", f.size}, {"pointerSize", 134}};
      }
      siblings.push_back(s);
    }
    json card = service->card_metadata(repo, *commit);
    if (!card.is_null()) {
      out["cardData"] = card;
      if (card.contains("license") && card["license"].is_string()) out["tags"].push_back("license:" + card["license"].get<std::string>());
      if (card.contains("pipeline_tag")) out["pipeline_tag"] = card["pipeline_tag"];
      if (card.contains("library_name")) out["library_name"] = card["library_name"];
    }
  }
  out["siblings"] = siblings;
  out["spaces"] = json::array();
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::tree(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                           const std::string& path) {
  auto revision = service->read_revision(ctx.caller(), owner, name, rev);
  if (!revision.ok()) return send_failure(ctx.res, revision.error());
  const Repo& repo = revision->repo;
  if (!revision->commit) {
    return send_error(ctx.res, 404, "revision " + rev + " not found in " + repo.full_name(), "RevisionNotFound");
  }
  const Commit& commit = *revision->commit;
  bool recursive = ctx.req.get_param_value("recursive") == "true" || ctx.req.get_param_value("recursive") == "1";
  std::string prefix = path.empty() ? "" : path + "/";
  json out = json::array();
  std::set<std::string> dirs;
  bool found = path.empty();
  for (auto& f : commit.files) {
    if (f.path.rfind(prefix, 0) != 0) continue;
    found = true;
    std::string rest = f.path.substr(prefix.size());
    // directories on the way
    size_t slash = rest.find('/');
    while (slash != std::string::npos) {
      std::string dir = prefix + rest.substr(0, slash);
      if (dirs.insert(dir).second) out.push_back({{"type", "directory"}, {"oid", crypto::sha256_hex(dir).substr(0, 40)}, {"size", 0}, {"path", dir}});
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
  if (!found) return send_error(ctx.res, 404, "path " + path + " not found in " + repo.full_name() + "@" + rev, "EntryNotFound");
  send_json(ctx.res, 200, out);
}

void HubServer::Impl::resolve(Ctx& ctx, const std::string& owner, const std::string& name, const std::string& rev,
                              const std::string& path) {
  bool head_only = ctx.req.method == "HEAD";
  std::string action = head_only ? "model.info" : "model.download";
  std::string resource = owner + "/" + name + "/resolve/" + rev + "/" + path;
  auto download = service->open_download(ctx.caller(), owner, name, rev, path, action);
  if (!download.ok()) return send_failure(ctx.res, download.error());
  const FileEntry* file = &download->file;
  std::shared_ptr<BlobReader> blob = download->blob;
  const std::string commit_id = download->commit.id;
  const std::string org = download->repo.owner_kind == OwnerKind::kOrg ? download->repo.owner : "";

  uint64_t size = blob->size();
  std::string etag = "\"" + file->sha256 + "\"";
  auto& res = ctx.res;
  res.set_header("ETag", etag);
  res.set_header("X-Linked-Etag", etag);
  res.set_header("X-Linked-Size", std::to_string(size));
  res.set_header("X-Repo-Commit", commit_id);
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "private, max-age=0, must-revalidate");
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  res.set_header("Content-Disposition", content_disposition(base));

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
      return deny(ctx, {ErrorCode::kUnsatisfiable, "invalid Range header", "RangeNotSatisfiable"}, action, resource, org);
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
      return deny(ctx,
                  {ErrorCode::kUnsatisfiable,
                   "range " + ctx.req.get_header_value("Range") + " is past the end of " + path + " (size " + std::to_string(size) + ")",
                   "RangeNotSatisfiable"},
                  action, resource, org);
    }
    length = last - first + 1;
    status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
  }
  if (!head_only) {
    json details{{"commit", commit_id}, {"sha256", file->sha256}, {"size", size}};
    if (status == 206) details["range"] = {first, first + length - 1};
    service->record_download(ctx.caller(), *download, resource, std::move(details));
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

void HubServer::Impl::hf_routes() {
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
}

}  // namespace lv::hub
