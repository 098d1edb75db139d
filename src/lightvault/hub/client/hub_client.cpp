#include "lightvault/hub/client/hub_client.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/service/repo_path.h"
#include "lightvault/hub/storage/crypto.h"

namespace lv::hub {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct HubClient::Impl {
  std::unique_ptr<httplib::Client> http;
  httplib::Headers headers;
};

HubClient::~HubClient() = default;

Result<std::unique_ptr<HubClient>> HubClient::connect(std::string url, std::string token) {
  if (url.empty()) {
    const char* e = std::getenv("LIGHTVAULT_URL");
    url = e && *e ? e : "http://127.0.0.1:8080";
  }
  if (token.empty()) {
    const char* e = std::getenv("LIGHTVAULT_TOKEN");
    token = e ? e : "";
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return make_error("LIGHTVAULT_URL " + url, "expected http://HOST:PORT or https://HOST:PORT");
  }
  std::unique_ptr<HubClient> c(new HubClient());
  c->url_ = url;
  c->token_ = token;
  c->impl_ = std::make_unique<Impl>();
  c->impl_->http = std::make_unique<httplib::Client>(url);
  if (!c->impl_->http->is_valid()) return make_error("LIGHTVAULT_URL " + url, "invalid server address");
  c->impl_->http->set_connection_timeout(10);
  c->impl_->http->set_read_timeout(300);
  c->impl_->http->set_write_timeout(300);
  c->impl_->http->set_keep_alive(true);
  if (!token.empty()) c->impl_->headers.emplace("Authorization", "Bearer " + token);
  return c;
}

namespace {

Error http_error(const std::string& what, const std::string& url, const httplib::Result& r) {
  if (!r) return make_error(what, "cannot reach " + url + ": " + httplib::to_string(r.error()));
  std::string msg = r->body;
  json j = json::parse(r->body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string()) msg = j["error"].get<std::string>();
  if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
  return make_error(what, std::to_string(r->status) + ": " + msg);
}

Result<json> as_json(const std::string& what, const std::string& url, const httplib::Result& r) {
  if (!r || r->status < 200 || r->status >= 300) return http_error(what, url, r);
  if (r->body.empty()) return json::object();
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return make_error(what, "server answered with invalid JSON");
  return j;
}

}  // namespace

Result<json> HubClient::get(const std::string& path) {
  return as_json("GET " + path, url_, impl_->http->Get(path, impl_->headers));
}
Result<json> HubClient::post(const std::string& path, const json& body) {
  return as_json("POST " + path, url_, impl_->http->Post(path, impl_->headers, body.dump(), "application/json"));
}
Result<json> HubClient::put(const std::string& path, const json& body) {
  return as_json("PUT " + path, url_, impl_->http->Put(path, impl_->headers, body.dump(), "application/json"));
}
Result<json> HubClient::del(const std::string& path) {
  return as_json("DELETE " + path, url_, impl_->http->Delete(path, impl_->headers));
}
Status HubClient::get_streamed(const std::string& path, const std::function<bool(const char*, size_t)>& sink) {
  std::string error_body;  // kept only when the answer is not a 200
  int status = 0;
  bool sink_stopped = false;
  auto r = impl_->http->Get(
      path, impl_->headers,
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t n) {
        if (status != 200) {
          if (error_body.size() < 4096) error_body.append(data, std::min<size_t>(n, 4096));
          return true;
        }
        sink_stopped = !sink(data, n);
        return !sink_stopped;
      });
  if (sink_stopped) return make_error("GET " + path, "stopped while writing the answer");
  if (r && status != 200) r->body = error_body;
  if (!r || status != 200) return http_error("GET " + path, url_, r);
  return Status::Ok();
}
Result<int> HubClient::status_of(const std::string& path) {
  auto r = impl_->http->Get(path, impl_->headers);
  if (!r) return http_error("GET " + path, url_, r);
  return r->status;
}

Result<std::string> sha256_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path, "cannot open");
  crypto::Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      return make_error(path, "read error");
    }
    if (n == 0) break;
    h.update(crypto::ByteView(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  auto d = h.finish();
  return crypto::hex_encode(d);
}

Result<json> HubClient::upload_file(const std::string& repo, const std::string& file, const std::string& sha256, uint64_t size,
                                    const ProgressFn& progress) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(file, "cannot open");
  std::vector<char> buf(1 << 20);
  bool read_error = false;
  std::string path = "/api/lv/models/" + repo + "/upload?sha256=" + sha256 + "&size=" + std::to_string(size);
  auto r = impl_->http->Post(
      path, impl_->headers, static_cast<size_t>(size),
      [&](size_t offset, size_t length, httplib::DataSink& sink) -> bool {
        size_t want = std::min(length, buf.size());
        ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (n <= 0) {
          read_error = true;
          return false;
        }
        if (!sink.write(buf.data(), static_cast<size_t>(n))) return false;
        if (progress) progress(file, offset + static_cast<uint64_t>(n), size);
        return true;
      },
      "application/octet-stream");
  ::close(fd);
  if (read_error) return make_error(file, "read error (file changed while uploading?)");
  return as_json("upload " + file, url_, r);
}

Status HubClient::download_file(const std::string& repo, const std::string& rev, const std::string& path, const std::string& dest,
                                const std::string& sha256, uint64_t size, const ProgressFn& progress) {
  std::string part = dest + ".part";
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return make_error(part, "cannot create");
  crypto::Sha256 h;
  uint64_t done = 0;
  bool write_error = false;
  int status = 0;
  auto r = impl_->http->Get(
      "/" + repo + "/resolve/" + rev + "/" + path, impl_->headers,
      [&](const httplib::Response& res) {
        status = res.status;
        return true;
      },
      [&](const char* data, size_t n) -> bool {
        if (status != 200) return true;  // collect nothing; error below
        const char* p = data;
        size_t left = n;
        while (left > 0) {
          ssize_t w = ::write(fd, p, left);
          if (w <= 0) {
            write_error = true;
            return false;
          }
          p += w;
          left -= static_cast<size_t>(w);
        }
        h.update(crypto::ByteView(reinterpret_cast<const uint8_t*>(data), n));
        done += n;
        if (progress) progress(path, done, size);
        return true;
      });
  bool sync_ok = ::fsync(fd) == 0;
  ::close(fd);
  auto cleanup = [&] { fs::remove(part, ec); };
  if (write_error || !sync_ok) {
    cleanup();
    return make_error(part, "write error (disk full?)");
  }
  if (!r || status != 200) {
    cleanup();
    if (!r) return make_error("download " + path, "cannot reach " + url_ + ": " + httplib::to_string(r.error()));
    return make_error("download " + path, "server answered " + std::to_string(status));
  }
  std::string got = crypto::hex_encode(h.finish());
  if (!sha256.empty() && got != sha256) {
    cleanup();
    return make_error("download " + path, "sha256 mismatch (expected " + sha256 + ", got " + got + ")");
  }
  fs::rename(part, dest, ec);
  if (ec) return make_error(dest, "cannot rename into place: " + ec.message());
  return Status::Ok();
}

ProgressFn stderr_progress_bar(bool always) {
  if (!always && !::isatty(2)) return nullptr;
  struct State {
    std::string what;
    std::chrono::steady_clock::time_point last{};
  };
  auto st = std::make_shared<State>();
  return [st](const std::string& what, uint64_t done, uint64_t total) {
    auto now = std::chrono::steady_clock::now();
    bool finished = done >= total;
    if (what == st->what && !finished && now - st->last < std::chrono::milliseconds(100)) return;
    st->what = what;
    st->last = now;
    constexpr int kWidth = 30;
    double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    int fill = static_cast<int>(frac * kWidth);
    std::string bar(fill, '#');
    bar.resize(kWidth, ' ');
    std::string name = fs::path(what).filename().string();
    if (name.size() > 28) name = name.substr(0, 25) + "...";
    std::fprintf(stderr, "\r%-28s [%s] %3d%% %8.1f/%.1f MiB", name.c_str(), bar.c_str(), static_cast<int>(frac * 100),
                 static_cast<double>(done) / 1048576.0, static_cast<double>(total) / 1048576.0);
    if (finished) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

Result<PushResult> push_directory(HubClient& client, const std::string& dir, const std::string& repo, const std::string& message,
                                  const ProgressFn& progress) {
  PushResult out;
  auto slash = repo.find('/');
  if (slash == std::string::npos || !valid_name(repo.substr(0, slash)) || !valid_name(repo.substr(slash + 1))) {
    return make_error(repo, "expected OWNER/NAME");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error(dir, "not a directory");
  // Files to push: every regular file, except hidden folders (.git, .cache) and *.part.
  std::vector<std::pair<std::string, fs::path>> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(dir, "cannot list: " + ec.message());
    std::string name = it->path().filename().string();
    if (it->is_directory() && !name.empty() && name[0] == '.') {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    auto rel = normalize_repo_path(fs::relative(it->path(), dir).generic_string());
    if (!rel.ok()) return make_error(it->path().string(), "file name not allowed in a repository: " + rel.error().message);
    files.emplace_back(*rel, it->path());
  }
  std::sort(files.begin(), files.end());
  // Create the repository (private) if it does not exist yet.
  LV_ASSIGN_OR_RETURN(int st, client.status_of("/api/models/" + repo));
  if (st == 404) {
    LV_RETURN_IF_ERROR(client.post("/api/repos/create", {{"name", repo.substr(slash + 1)}, {"organization", repo.substr(0, slash)}, {"private", true}}));
    out.created_repo = true;
  } else if (st != 200) {
    LV_RETURN_IF_ERROR(client.get("/api/models/" + repo));  // turns the status into a message
  }
  // Files already in main with the same content are not uploaded again.
  std::map<std::string, std::string> existing;
  std::string parent;
  LV_ASSIGN_OR_RETURN(auto info, client.get("/api/models/" + repo + "?blobs=true"));
  if (info.contains("sha") && info["sha"].is_string()) parent = info["sha"];
  for (auto& s : info.value("siblings", json::array())) {
    if (s.contains("lfs")) existing[s["rfilename"]] = s["lfs"].value("sha256", "");
  }
  json add = json::array();
  for (auto& [rel, path] : files) {
    LV_ASSIGN_OR_RETURN(std::string sha, sha256_file(path.string()));
    uint64_t size = fs::file_size(path, ec);
    if (ec) return make_error(path.string(), "cannot stat");
    if (existing.count(rel) && existing[rel] == sha) {
      ++out.skipped;
    } else {
      LV_RETURN_IF_ERROR(client.upload_file(repo, path.string(), sha, size, progress));
      ++out.uploaded;
    }
    add.push_back({{"path", rel}, {"sha256", sha}, {"size", size}});
  }
  json body{{"message", message}, {"replace", true}, {"add", add}};
  body["parent"] = parent;
  LV_ASSIGN_OR_RETURN(auto commit, client.post("/api/lv/models/" + repo + "/commit/main", body));
  out.commit = commit.value("commit", "");
  if (auto card = commit.find("card"); card != commit.end() && card->is_object() && (*card)["missing"].is_array()) {
    for (auto& f : (*card)["missing"]) {
      if (f.is_string()) out.card_missing.push_back(f.get<std::string>());
    }
  }
  return out;
}

Result<PullResult> pull_repository(HubClient& client, const std::string& repo, const std::string& revision, const std::string& dir,
                                   const ProgressFn& progress) {
  PullResult out;
  LV_ASSIGN_OR_RETURN(auto info, client.get("/api/models/" + repo + "/revision/" + revision + "?blobs=true"));
  if (!info.contains("sha") || !info["sha"].is_string()) return make_error(repo, "repository has no commits");
  out.commit = info["sha"];
  // Never trust a server's file names: every one is checked before anything is written, and
  // written under its NFC form (two names that are one file in NFC are refused).
  struct File {
    std::string path, local, sha256;
    uint64_t size = 0;
  };
  std::vector<File> files;
  std::set<std::string> seen;
  for (auto& s : info.value("siblings", json::array())) {
    std::string path = s.is_object() ? s.value("rfilename", "") : "";
    auto local = normalize_repo_path(path);
    if (!local.ok()) return make_error(repo, "server sent an unsafe file name: " + local.error().message);
    if (!seen.insert(*local).second) return make_error(repo, "server sent the file name '" + *local + "' twice");
    std::string sha = s.contains("lfs") && s["lfs"].is_object() ? s["lfs"].value("sha256", "") : "";
    files.push_back(File{path, *local, sha, s.value("size", uint64_t(0))});
  }
  for (auto& f : files) {
    std::string dest = (fs::path(dir) / f.local).string();
    LV_RETURN_IF_ERROR(client.download_file(repo, out.commit, f.path, dest, f.sha256, f.size, progress));
    ++out.files;
    out.bytes += f.size;
  }
  return out;
}

bool is_hub_uri(const std::string& text) { return text.rfind("hub://", 0) == 0; }

Result<HubFileRef> parse_hub_uri(const std::string& uri) {
  if (!is_hub_uri(uri)) return make_error(uri, "not a hub:// URI");
  const std::string rest = uri.substr(6);
  const size_t owner_end = rest.find('/');
  const size_t name_end = owner_end == std::string::npos ? std::string::npos : rest.find('/', owner_end + 1);
  if (name_end == std::string::npos || name_end + 1 >= rest.size()) {
    return make_error(uri, "expected hub://OWNER/NAME[@REVISION]/PATH");
  }
  HubFileRef ref;
  std::string name = rest.substr(owner_end + 1, name_end - owner_end - 1);
  if (const size_t at = name.find('@'); at != std::string::npos) {
    ref.revision = name.substr(at + 1);
    name.resize(at);
    if (ref.revision.empty()) return make_error(uri, "empty revision after '@'");
  }
  const std::string owner = rest.substr(0, owner_end);
  if (!valid_name(owner) || !valid_name(name)) return make_error(uri, "'" + owner + "/" + name + "' is not a repository name");
  auto path = normalize_repo_path(rest.substr(name_end + 1));
  if (!path.ok()) return make_error(uri, "bad path: " + path.error().message);
  ref.repo = owner + "/" + name;
  ref.path = *path;
  return ref;
}

Result<std::string> download_hub_file(HubClient& client, const HubFileRef& file, const std::string& dest,
                                      const ProgressFn& progress) {
  LV_ASSIGN_OR_RETURN(auto info, client.get("/api/models/" + file.repo + "/revision/" + file.revision + "?blobs=true"));
  if (!info.contains("sha") || !info["sha"].is_string()) return make_error(file.repo, "repository has no commits");
  const std::string commit = info["sha"];
  for (auto& s : info.value("siblings", json::array())) {
    if (!s.is_object() || s.value("rfilename", "") != file.path) continue;
    const std::string sha = s.contains("lfs") && s["lfs"].is_object() ? s["lfs"].value("sha256", "") : "";
    LV_RETURN_IF_ERROR(client.download_file(file.repo, commit, file.path, dest, sha, s.value("size", uint64_t(0)), progress));
    return commit;
  }
  return make_error("hub://" + file.repo + "@" + file.revision + "/" + file.path, "no such file in the repository");
}

Result<std::string> commit_files(HubClient& client, const std::string& repo, const std::vector<FileToCommit>& files,
                                 const std::string& message, const ProgressFn& progress) {
  LV_ASSIGN_OR_RETURN(auto info, client.get("/api/models/" + repo));
  json add = json::array();
  for (const auto& f : files) {
    LV_ASSIGN_OR_RETURN(std::string sha, sha256_file(f.local_path));
    std::error_code ec;
    const uint64_t size = fs::file_size(f.local_path, ec);
    if (ec) return make_error(f.local_path, "cannot stat: " + ec.message());
    LV_RETURN_IF_ERROR(client.upload_file(repo, f.local_path, sha, size, progress));
    add.push_back({{"path", f.repo_path}, {"sha256", sha}, {"size", size}});
  }
  json body{{"message", message}, {"add", add}};
  if (info.contains("sha") && info["sha"].is_string()) body["parent"] = info["sha"];
  LV_ASSIGN_OR_RETURN(auto commit, client.post("/api/lv/models/" + repo + "/commit/main", body));
  return commit.value("commit", "");
}

}  // namespace lv::hub
