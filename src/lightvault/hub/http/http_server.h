#pragma once
// `lightvault serve`: the hub's HTTP server. Opens the catalog (SQLite in DIR or PostgreSQL),
// the master keyring, the encrypted blob store and the audit chain of a data folder, creates
// the administrator on first start, and serves:
//   Hugging Face-compatible download API (clients set hubUrl/HF_ENDPOINT to this server)
//     GET  /api/whoami-v2
//     GET  /api/models[?author=&search=&limit=]          repositories the caller can read
//     GET  /api/models/{owner}/{name}[/revision/{rev}]   id, sha, siblings (?blobs=true: sizes)
//     GET  /api/models/{owner}/{name}/tree/{rev}[/{path}]  (?recursive=true)
//     GET|HEAD /{owner}/{name}/resolve/{rev}/{path}       ETag, X-Linked-*, X-Repo-Commit, Range
//     POST /api/repos/create                             {"name", "organization"?, "private"?}
//   lightvault API (streaming upload, commits, administration, audit)
//     POST   /api/lv/models/{o}/{n}/upload[?sha256=&size=]   raw body -> blob (streamed)
//     POST   /api/lv/models/{o}/{n}/commit/{branch}          {"message","parent"?,"replace"?,"add":[..],"delete":[..]}
//     POST   /api/lv/models/{o}/{n}/tags                     {"tag","revision"}
//     DELETE /api/lv/models/{o}/{n}/tags/{tag}
//     PUT    /api/lv/models/{o}/{n}/settings                 {"visibility"}
//     DELETE /api/lv/models/{o}/{n}                          model.delete
//     GET    /api/lv/models/{o}/{n}/commits
//     GET|POST /api/lv/models/{o}/{n}/grants                 {"subject":"user:bob"|"team:org/team","role"}
//     POST   /api/lv/models/{o}/{n}/events                   {"action":"model.finetune"|"model.deploy"|"dataset.scan","details"}
//     GET|POST /api/lv/users            POST /api/lv/orgs     GET /api/lv/orgs
//     POST|DELETE /api/lv/orgs/{org}/members[/{user}]         {"user","role"}
//     POST   /api/lv/orgs/{org}/teams                        {"name"}
//     POST|DELETE /api/lv/orgs/{org}/teams/{team}/members[/{user}]
//     GET|POST /api/lv/tokens           DELETE /api/lv/tokens/{id}
//     POST   /api/lv/admin/rotate-key
//     POST   /api/lv/admin/gc                                {"grace_seconds"?, "dry_run"?}
//     GET    /api/lv/audit/export      POST /api/lv/audit/verify
//   content marking and detection (service/content_service.h; body = the content, at most
//   32 MiB with Content-Length; options as query parameters named like the CLI's flags)
//     POST   /api/lv/mark[?repo=&label=&label-position=&no-label&no-watermark&payload=&producer=&produce-id=]
//                                     JPEG/PNG in, the marked image out (X-Lightvault-Payload)
//     POST   /api/lv/detect[?repo=]    image: `detect --json`'s object + "issued" {"by","at","repo"}|null;
//                                     text (Content-Type: text/plain, needs repo): {"text_watermark"}
//                                     with the org's key and the repo's tokenizer (501 without one)
//     GET    /api/lv/orgs/{org}/watermark-key   the org's text watermark key file (org admins)
//     POST   /api/lv/orgs/{org}/image-watermark-key   the org's own image key (kept in the hub)
//   complaints (service/complaint_service.h; no token needed to file one or read its status)
//     POST   /api/lv/complaints                              {"repo","subject","text","contact"} -> 201
//                                                            {"id","status":"received","due","secret"}
//     GET    /api/lv/complaints/{id}?secret=S  (or X-Complaint-Secret: S)   the complainant's view
//     GET    /api/lv/complaints[?repo=o/n&status=received|acknowledged|resolved|rejected|open&overdue=true]
//     POST   /api/lv/complaints/{id}                         {"status":"acknowledged|resolved|rejected","resolution"}
//     PUT    /api/lv/models/{o}/{n}/complaints/channel       {"public": true|false}
//     PUT    /api/lv/orgs/{org}/complaints/webhook           {"url": "http://..." | ""}
//   Filing is limited per client address (complaint_burst at once, then one per
//   complaint_refill_seconds; 429 with Retry-After beyond) and to 256 KiB of body; subject
//   <= 200 characters, text <= 20,000, contact <= 320.
//   web interface for people (src/lightvault/hub/web/web_ui.h): /, /login, /logout,
//     /{owner}/{name}[/tree|blob|commits|settings], /orgs/{org}, /settings/tokens, /audit
// Errors are JSON {"error": "..."} (+ X-Error-Code for HF clients); every response carries
// X-Request-Id and X-Content-Type-Options: nosniff; every state change, download and denied
// request is appended to the audit chain (denials of callers without a valid token: at most 20
// entries a second, the rest counted in the next entry's "suppressed").
// Request limits: the token is checked, and callers without one refused, before a body is read;
// JSON bodies need Content-Length, at most 4 MiB, sent within 30 s, nested at most 64 deep;
// uploads may be chunked and stream to the blob store; compressed request bodies are refused
// (415); a connection has head_deadline_ms to send each request head.
#include <memory>
#include <optional>
#include <string>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/storage/blob_store.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/service/text_tokenizer.h"
#include "lightvault/util/status.h"

namespace lv::hub {

class HubService;
class ComplaintService;

struct ServerOptions {
  std::string data_dir = "lightvault-data";
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string catalog_url;                // "" = SQLite in data_dir; postgresql://...
  std::string master_key_file;            // optional; else env LIGHTVAULT_MASTER_KEY / DIR/keys
  std::string admin_token;                // optional; default env LIGHTVAULT_ADMIN_TOKEN
  int threads = 96;                       // worker threads (requests served at once; waiting
                                          // connections hold none, see http_connections.h)
  int head_deadline_ms = 10000;           // a connection's time to send a whole request head
  uint32_t segment_size = 1 << 20;        // blob store segment size for new blobs
  bool fsync = true;
  bool quiet = false;                     // no request log on stderr
  int64_t web_session_seconds = 8 * 3600;  // a web sign-in lasts this long (or its token's life)
  // Reads a repository's tokenizer for POST /api/lv/detect on text; none: that answers 501.
  // The engine reads tokenizers and the hub does not link it, so `lightvault serve` passes one.
  TextTokenizerLoader text_tokenizers;
  int complaint_burst = 5;                 // complaints one client address may file at once,
  int64_t complaint_refill_seconds = 60;   // then one more per this many seconds
  int64_t overdue_check_ms = 60000;        // how often overdue complaints are sent to webhooks
};

class HubServer {
 public:
  static Result<std::unique_ptr<HubServer>> open(const ServerOptions& options);
  ~HubServer();

  // The admin token created on this start ("" if the admin already existed or the token
  // came from LIGHTVAULT_ADMIN_TOKEN). Print it once.
  const std::string& bootstrap_token() const;
  // Binds the listen address; returns the port.
  Result<int> bind();
  // Serves until stop(); blocking.
  Status run();
  void stop();
  // bind() + run() on a background thread; returns the port.
  Result<int> start_background();

  Catalog& catalog();
  BlobStore& blobs();
  AuditLog& audit();
  // The use cases the routes call; for adapters added to this server (the web pages).
  HubService& service();
  ComplaintService& complaints();

  struct Impl;

 private:
  explicit HubServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lv::hub
