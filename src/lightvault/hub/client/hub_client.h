#pragma once
// Client side of the hub API, for the CLI (`push`, `pull`, `admin`, `audit export`): finds the
// server and token in LIGHTVAULT_URL / LIGHTVAULT_TOKEN (like HF_ENDPOINT / HF_TOKEN), streams
// uploads from files and downloads into files in constant memory, reports progress.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/util/status.h"

namespace lv::hub {

// (bytes done, bytes total) for the current file.
using ProgressFn = std::function<void(const std::string& what, uint64_t done, uint64_t total)>;

class HubClient {
 public:
  // url "" -> $LIGHTVAULT_URL -> http://127.0.0.1:8080; token "" -> $LIGHTVAULT_TOKEN.
  static Result<std::unique_ptr<HubClient>> connect(std::string url = "", std::string token = "");
  ~HubClient();

  const std::string& url() const { return url_; }

  // JSON requests; non-2xx answers become errors "METHOD PATH: STATUS: message".
  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> put(const std::string& path, const nlohmann::json& body);
  Result<nlohmann::json> del(const std::string& path);
  // Streams the body of a 200 answer to `sink` as it arrives (sink returns false to stop);
  // any other answer, or a connection lost midway, is an error.
  Status get_streamed(const std::string& path, const std::function<bool(const char*, size_t)>& sink);
  // Status code only (e.g. 404 to decide whether a repository exists).
  Result<int> status_of(const std::string& path);

  // Streams a local file to /api/lv/models/{repo}/upload (declared sha256 and size are
  // checked by the server before the blob becomes usable).
  Result<nlohmann::json> upload_file(const std::string& repo, const std::string& file, const std::string& sha256,
                                     uint64_t size, const ProgressFn& progress);
  // Streams /{repo}/resolve/{rev}/{path} into `dest` (written to dest.part, verified against
  // `sha256`, then renamed).
  Status download_file(const std::string& repo, const std::string& rev, const std::string& path, const std::string& dest,
                       const std::string& sha256, uint64_t size, const ProgressFn& progress);

  struct Impl;

 private:
  HubClient() = default;
  std::string url_, token_;
  std::unique_ptr<Impl> impl_;
};

// Streaming SHA-256 of a file (hex).
Result<std::string> sha256_file(const std::string& path);

// A progress bar on stderr ("\r name [#####     ]  45%  12.0/27.0 MiB"), redrawn at most
// ~10 times a second and when a file completes; silent when stderr is not a terminal unless
// `always` is set.
ProgressFn stderr_progress_bar(bool always = false);

// High-level operations used by `lightvault push` / `lightvault pull`.
struct PushResult {
  std::string commit;
  int uploaded = 0, skipped = 0;
  bool created_repo = false;
  std::vector<std::string> card_missing;  // what the hub's model-card check found missing
};
Result<PushResult> push_directory(HubClient& client, const std::string& dir, const std::string& repo,
                                  const std::string& message, const ProgressFn& progress);
struct PullResult {
  std::string commit;
  int files = 0;
  uint64_t bytes = 0;
};
Result<PullResult> pull_repository(HubClient& client, const std::string& repo, const std::string& revision,
                                   const std::string& dir, const ProgressFn& progress);

// One file of a hub repository, named hub://OWNER/NAME[@REVISION]/PATH on the command line
// (revision "main" when absent).
struct HubFileRef {
  std::string repo, revision = "main", path;
};
bool is_hub_uri(const std::string& text);
// Errors name the URI and what is wrong with it.
Result<HubFileRef> parse_hub_uri(const std::string& uri);

// Streams `file` into `dest`, verified against the sha256 the hub lists for it; returns the
// commit it was read from.
Result<std::string> download_hub_file(HubClient& client, const HubFileRef& file, const std::string& dest,
                                      const ProgressFn& progress);

// Uploads local files and commits them to main at the given repository paths, on top of
// main's head: the repository's other files stay. Returns the new commit.
struct FileToCommit {
  std::string repo_path, local_path;
};
Result<std::string> commit_files(HubClient& client, const std::string& repo, const std::vector<FileToCommit>& files,
                                 const std::string& message, const ProgressFn& progress);

}  // namespace lv::hub
