// The content use cases (see content_service.h): mark an image, detect marks in an image or a
// text, hand an organization's text watermark key to its administrators.
#include "lightvault/hub/service/content_service.h"

#include <sys/mman.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "lightvault/mark/image_marker.h"
#include "lightvault/mark/media_kind.h"
#include "lightvault/util/utc_time.h"

namespace lv::hub {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

// A tokenizer file is copied out of the blob store to be read; a model this large should keep
// its tokenizer in a file of its own (tokenizer.json, tokenizer.bin).
constexpr uint64_t kMaxTokenizerBytes = uint64_t{256} << 20;
constexpr size_t kMaxCachedTokenizers = 16;
constexpr const char* kBody = "request body";

ServiceError internal(const Error& e) { return ServiceError{ErrorCode::kInternal, e.message}; }

bool valid_utf8(std::string_view s) {
  auto p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  for (utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size()); left > 0;) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

std::string dump(const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); }

// Holds one of the service's worker slots for its lifetime.
class Slot {
 public:
  explicit Slot(std::counting_semaphore<>& s) : s_(s) { s_.acquire(); }
  ~Slot() { s_.release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  std::counting_semaphore<>& s_;
};

// An anonymous in-memory file (memfd) holding a blob's plaintext, readable by path while it
// lives: loaders take paths, and a decrypted blob never touches the disk.
class MemoryFile {
 public:
  MemoryFile() : fd_(::memfd_create("lightvault-tokenizer", MFD_CLOEXEC)) {}
  ~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }
  bool write(std::span<const uint8_t> bytes) {
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
};

}  // namespace

ContentService::ContentService(HubService& hub, Catalog& catalog, BlobStore& blobs, MasterKeyring& keyring,
                               AuditWriter& audit, TextTokenizerLoader text_tokenizers)
    : hub_(hub),
      catalog_(catalog),
      blobs_(blobs),
      audit_(audit),
      payloads_(catalog),
      org_keys_(catalog, keyring),
      text_tokenizers_(std::move(text_tokenizers)),
      workers_(std::max<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(std::thread::hardware_concurrency()))) {}

Outcome<ContentService::RepoContext> ContentService::authorize(const Caller& caller, const std::string& repo,
                                                               const std::string& action) {
  const std::string resource = repo.empty() ? "content" : repo;
  if (!caller.who.authenticated()) {
    return hub_.refuse(caller, action, resource,
                       {ErrorCode::kUnauthenticated, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized"});
  }
  RepoContext context;
  if (repo.empty()) return context;
  const size_t slash = repo.find('/');
  const std::string owner = repo.substr(0, slash), name = slash == std::string::npos ? "" : repo.substr(slash + 1);
  if (!valid_name(owner) || !valid_name(name)) {
    return hub_.refuse(caller, action, resource, {ErrorCode::kInvalid, "repo: expected owner/name, got " + repo});
  }
  auto opened = hub_.open_repo(caller, owner, name, Action::kRead, action);
  if (!opened.ok()) return opened.error();
  context.repo = *opened;
  if (opened->owner_kind == OwnerKind::kOrg) {
    auto org = catalog_.find_org(opened->owner);
    if (!org.ok()) return internal(org.error());
    if (!org->has_value()) return internal(make_error(repo, "owning organization " + opened->owner + " not found"));
    context.org = **org;
  }
  return context;
}

Outcome<mark::ImageWatermarkKey> ContentService::image_key(const RepoContext& context) {
  if (context.org) {
    auto own = org_keys_.find(*context.org, OrgKeyKind::kImageWatermark);
    if (!own.ok()) return internal(own.error());
    if (*own) return mark::ImageWatermarkKey(**own);
  }
  return mark::default_image_watermark_key();
}

Outcome<MarkedContent> ContentService::mark_image(const Caller& caller, const ImageMarkRequest& request,
                                                  std::string_view image) {
  static constexpr const char* kAction = "content.mark";
  auto context = authorize(caller, request.repo, kAction);
  if (!context.ok()) return context.error();
  const std::string resource = context->repo ? context->repo->full_name() : "content";
  const std::string org = context->org ? context->org->name : "";
  auto refuse = [&](ErrorCode code, const std::string& message) {
    return hub_.refuse(caller, kAction, resource, {code, message}, org);
  };

  mark::ImageMarkOptions options;
  if (request.no_label && !request.label.empty()) return refuse(ErrorCode::kInvalid, "label and no-label exclude each other");
  options.label = request.no_label ? "" : request.label.empty() ? std::string(mark::kDefaultImageLabel) : request.label;
  if (!valid_utf8(options.label)) return refuse(ErrorCode::kInvalid, "label: not valid UTF-8");
  auto corner = mark::parse_label_corner(request.label_position.empty() ? "bottom-right" : request.label_position);
  if (!corner.ok()) return refuse(ErrorCode::kInvalid, "label-position: " + corner.error().message);
  options.corner = *corner;
  options.watermark = !request.no_watermark;
  if (!request.payload.empty()) {
    auto payload = mark::parse_payload_hex(request.payload);
    if (!payload.ok()) return refuse(ErrorCode::kInvalid, "payload: " + payload.error().message);
    options.payload = *payload;
    auto known = payloads_.find(request.payload);
    if (!known.ok()) return internal(known.error());
    if (*known) return refuse(ErrorCode::kConflict, "payload " + mark::payload_hex(options.payload) + " was issued before");
  } else {
    options.payload = mark::random_image_payload();
  }
  const std::string payload = mark::payload_hex(options.payload);
  if (!valid_utf8(request.producer) || !valid_utf8(request.produce_id)) {
    return refuse(ErrorCode::kInvalid, "producer, produce-id: not valid UTF-8");
  }
  options.aigc.content_producer = request.producer;
  // As the CLI does: the payload doubles as the metadata's content id.
  options.aigc.produce_id = request.produce_id.empty() ? payload : request.produce_id;
  const mark::MediaKind kind = mark::sniff_media(image);
  if (kind != mark::MediaKind::Jpeg && kind != mark::MediaKind::Png) {
    return refuse(ErrorCode::kInvalid, std::string(kBody) + ": not a JPEG or PNG image (" + mark::media_kind_name(kind) + ")");
  }
  auto key = image_key(*context);
  if (!key.ok()) return key.error();
  options.key = *key;

  Result<mark::MarkedImage> marked = Error{};
  {
    Slot slot(workers_);
    marked = mark::mark_image(image, kBody, options);
  }
  if (!marked.ok()) return refuse(ErrorCode::kInvalid, marked.error().message);

  IssuedPayload row{payload, now_unix(), caller.who.name(), caller.who.token ? caller.who.token->id : "",
                    context->repo ? context->repo->full_name() : "", crypto::sha256_hex(image),
                    crypto::sha256_hex(marked->bytes)};
  json details{{"payload", payload},
               {"input_sha256", row.input_sha256},
               {"output_sha256", row.output_sha256},
               {"repo", context->repo ? json(row.repo) : json(nullptr)},
               {"format", kind == mark::MediaKind::Jpeg ? "jpeg" : "png"},
               {"label", !options.label.empty()},
               {"watermark", options.watermark}};
  bool duplicate = false;
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_RETURN_IF_ERROR(payloads_.record(row, &duplicate));
    e = audit_entry(caller, kAction, resource, kAuditAllowed, details, org);
    return Status::Ok();
  });
  if (!st.ok()) {
    if (duplicate) return refuse(ErrorCode::kConflict, st.error().message);
    hub_.audit_event(caller, kAction, resource, kAuditError, json{{"reason", st.error().message}}, org);
    return internal(st.error());
  }
  return MarkedContent{std::move(marked->bytes), kind == mark::MediaKind::Jpeg ? "image/jpeg" : "image/png", payload};
}

Outcome<Detection> ContentService::detect(const Caller& caller, const DetectRequest& request, std::string_view content) {
  auto context = authorize(caller, request.repo, "content.detect");
  if (!context.ok()) return context.error();
  const mark::MediaKind kind = mark::sniff_media(content);
  if (request.text || kind == mark::MediaKind::Text) return detect_text(caller, *context, request, content);
  if (kind == mark::MediaKind::Jpeg || kind == mark::MediaKind::Png) return detect_image(caller, *context, content);
  return hub_.refuse(caller, "content.detect", request.repo.empty() ? "content" : request.repo,
                     {ErrorCode::kInvalid, std::string(kBody) + ": " +
                                               (kind == mark::MediaKind::Empty ? "empty" : "binary data, neither text nor an image")},
                     context->org ? context->org->name : "");
}

ordered_json ContentService::issued(const Caller& caller, const std::string& payload) {
  auto found = payloads_.find(payload);
  if (!found.ok() || !*found) return nullptr;
  const IssuedPayload& p = **found;
  if (!p.repo.empty()) {
    // Only a repository the caller may read is named, and only then is the issue told at all:
    // a private repository's marks do not say that it exists.
    const size_t slash = p.repo.find('/');
    auto repo = catalog_.find_repo(p.repo.substr(0, slash), slash == std::string::npos ? "" : p.repo.substr(slash + 1));
    if (!repo.ok() || !*repo) return nullptr;
    auto role = hub_.role_on(caller.who, **repo);
    if (!role.ok() || *role < RepoRole::kRead) return nullptr;
  }
  return ordered_json{{"by", p.actor}, {"at", utc_rfc3339(p.issued_at)}, {"repo", p.repo.empty() ? ordered_json(nullptr) : ordered_json(p.repo)}};
}

Outcome<Detection> ContentService::detect_image(const Caller& caller, const RepoContext& context, std::string_view image) {
  static constexpr const char* kAction = "content.detect";
  const std::string resource = context.repo ? context.repo->full_name() : "content";
  const std::string org = context.org ? context.org->name : "";
  auto key = image_key(context);
  if (!key.ok()) return key.error();
  Result<mark::ImageMarks> marks = Error{};
  {
    Slot slot(workers_);
    marks = mark::inspect_image(image, kBody, *key);
  }
  if (!marks.ok()) return hub_.refuse(caller, kAction, resource, {ErrorCode::kInvalid, marks.error().message}, org);
  Detection d;
  d.report = mark::image_marks_json(*marks);
  // The watermark's payload, else the metadata's ProduceID when it has a payload's shape (the
  // hub writes the payload there too, and metadata survives where a heavy edit broke the mark).
  std::string payload;
  if (marks->watermark && marks->watermark->found && marks->watermark->payload) {
    payload = mark::payload_hex(*marks->watermark->payload);
  } else if (marks->aigc && mark::parse_payload_hex(marks->aigc->produce_id).ok()) {
    payload = marks->aigc->produce_id;
  }
  d.report["issued"] = payload.empty() ? ordered_json(nullptr) : issued(caller, payload);
  d.body = dump(d.report);
  json details{{"kind", "image"},
               {"input_sha256", crypto::sha256_hex(image)},
               {"output_sha256", crypto::sha256_hex(d.body)},
               {"payload", payload.empty() ? json(nullptr) : json(payload)},
               {"issued", !d.report["issued"].is_null()},
               {"repo", context.repo ? json(resource) : json(nullptr)}};
  Status st = audit_.append(audit_entry(caller, kAction, resource, kAuditAllowed, std::move(details), org));
  if (!st.ok()) return internal(st.error());
  return d;
}

Outcome<std::shared_ptr<const TextTokenizer>> ContentService::repo_tokenizer(const Repo& repo) {
  auto commit = catalog_.resolve(repo.id, "main");
  if (!commit.ok()) return internal(commit.error());
  if (!*commit) return ServiceError{ErrorCode::kInvalid, repo.full_name() + ": no commit on main, so no tokenizer"};
  auto file = tokenizer_file((*commit)->files);
  const std::string where = repo.full_name() + "@" + (*commit)->id.substr(0, 12);
  if (!file) {
    return ServiceError{ErrorCode::kInvalid,
                        where + ": no tokenizer file (tokenizer.json, tokenizer.bin, tok*.bin or a .gguf model)"};
  }
  const std::string name = where + ":" + file->path;
  {
    std::lock_guard lock(tokenizers_mu_);
    if (auto it = tokenizers_.find(file->sha256); it != tokenizers_.end()) return it->second;
  }
  if (file->size > kMaxTokenizerBytes) {
    return ServiceError{ErrorCode::kInvalid, name + ": " + std::to_string(file->size) +
                                                 " bytes, too large to read a tokenizer from; add tokenizer.json or tokenizer.bin"};
  }
  auto reader = blobs_.open_reader(repo.owner, file->sha256);
  if (!reader.ok()) return internal(reader.error());
  if (!*reader) return internal(make_error(name, "blob " + file->sha256 + " missing from the blob store"));
  MemoryFile plain;
  if (!plain.ok()) return internal(make_error(name, "memfd_create failed"));
  Status read = (*reader)->read(0, file->size, [&](std::span<const uint8_t> piece) -> Status {
    if (!plain.write(piece)) return make_error(name, "writing to a memory file failed");
    return Status::Ok();
  });
  if (!read.ok()) return internal(read.error());
  auto loaded = text_tokenizers_(plain.path(), name);
  if (!loaded.ok()) return ServiceError{ErrorCode::kInvalid, loaded.error().message};
  std::shared_ptr<const TextTokenizer> tokenizer = std::move(*loaded);
  std::lock_guard lock(tokenizers_mu_);
  if (tokenizers_.size() >= kMaxCachedTokenizers) tokenizers_.clear();
  tokenizers_.emplace(file->sha256, tokenizer);
  return tokenizer;
}

Outcome<Detection> ContentService::detect_text(const Caller& caller, const RepoContext& context,
                                               const DetectRequest& request, std::string_view text) {
  static constexpr const char* kAction = "content.detect";
  const std::string resource = context.repo ? context.repo->full_name() : "content";
  const std::string org = context.org ? context.org->name : "";
  auto refuse = [&](ErrorCode code, const std::string& message) {
    return hub_.refuse(caller, kAction, resource, {code, message}, org);
  };
  if (!context.repo) {
    return refuse(ErrorCode::kInvalid, "detecting a text watermark needs ?repo=owner/name (the model that generated it)");
  }
  if (!context.org) {
    return refuse(ErrorCode::kInvalid, "text watermark keys belong to organizations; " + resource + " is owned by user " +
                                           context.repo->owner);
  }
  if (!text_tokenizers_) return refuse(ErrorCode::kInvalid, "this hub was started without a tokenizer loader: no text detection");
  if (Status valid = request.text_params.validate(); !valid.ok()) return refuse(ErrorCode::kInvalid, valid.error().message);
  if (!valid_utf8(text)) return refuse(ErrorCode::kInvalid, std::string(kBody) + ": not valid UTF-8 text");
  auto tokenizer = repo_tokenizer(*context.repo);
  if (!tokenizer.ok()) return refuse(tokenizer.error().code, tokenizer.error().message);
  std::vector<int> tokens;
  {
    Slot slot(workers_);
    auto encoded = (*tokenizer)->encode(text, kBody);
    if (!encoded.ok()) return refuse(ErrorCode::kInvalid, encoded.error().message);
    tokens = std::move(*encoded);
  }
  Detection d;
  bool created = false;
  // The key is made on first use; its creation and this detection's entry land together.
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_ASSIGN_OR_RETURN(std::string key, org_keys_.text_watermark_key(*context.org, &created));
    mark::GreenList green(key, request.text_params);
    crypto::secure_zero(key.data(), key.size());
    const mark::TextDetection t = mark::detect_text_watermark(green, tokens, request.text_params.gamma, request.z_threshold);
    d.report = ordered_json{
        {"text_watermark", {{"z", t.z}, {"p_value", t.p_value}, {"tokens", t.tokens}, {"green", t.green}, {"found", t.found}}}};
    d.body = dump(d.report);
    json details{{"kind", "text"},
                 {"input_sha256", crypto::sha256_hex(text)},
                 {"output_sha256", crypto::sha256_hex(d.body)},
                 {"repo", resource},
                 {"z", t.z},
                 {"found", t.found}};
    if (created) details["key_created"] = true;
    e = audit_entry(caller, kAction, resource, kAuditAllowed, std::move(details), org);
    return Status::Ok();
  });
  if (!st.ok()) {
    hub_.audit_event(caller, kAction, resource, kAuditError, json{{"reason", st.error().message}}, org);
    return internal(st.error());
  }
  return d;
}

Outcome<Org> ContentService::administered_org(const Caller& caller, const std::string& org_name, const std::string& action) {
  if (!caller.who.authenticated()) {
    return hub_.refuse(caller, action, org_name,
                       {ErrorCode::kUnauthenticated, "authentication required (Authorization: Bearer TOKEN)", "Unauthorized"});
  }
  auto org = catalog_.find_org(org_name);
  if (!org.ok()) return internal(org.error());
  std::optional<OrgRole> role;
  if (*org) {
    auto r = catalog_.org_role((*org)->id, caller.who.user->id);
    if (!r.ok()) return internal(r.error());
    role = *r;
  }
  // Outsiders learn nothing of the organization; members learn they need more.
  if (!*org || (!role && !caller.who.site_admin())) {
    return hub_.refuse(caller, action, org_name, {ErrorCode::kNotFound, "organization " + org_name + " not found"});
  }
  const bool admin = caller.who.site_admin() ||
                     ((caller.who.scopes & kScopeAdmin) && role && (*role == OrgRole::kOwner || *role == OrgRole::kAdmin));
  if (!admin) {
    return hub_.refuse(caller, action, org_name,
                       {ErrorCode::kDenied,
                        "forbidden: the watermark keys of " + org_name + " are for its owners and admins (with an admin token)",
                        "Forbidden"},
                       org_name);
  }
  return **org;
}

Outcome<std::string> ContentService::text_watermark_key(const Caller& caller, const std::string& org_name) {
  static constexpr const char* kAction = "org.watermark_key";
  auto org = administered_org(caller, org_name, kAction);
  if (!org.ok()) return org.error();
  std::string key;
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    bool created = false;
    LV_ASSIGN_OR_RETURN(key, org_keys_.text_watermark_key(*org, &created));
    e = audit_entry(caller, kAction, org_name, kAuditAllowed, json{{"kind", "text_watermark"}, {"created", created}}, org_name);
    return Status::Ok();
  });
  if (!st.ok()) {
    hub_.audit_event(caller, kAction, org_name, kAuditError, json{{"reason", st.error().message}}, org_name);
    return internal(st.error());
  }
  return key;
}

Outcome<bool> ContentService::create_image_watermark_key(const Caller& caller, const std::string& org_name) {
  static constexpr const char* kAction = "org.image_watermark_key";
  auto org = administered_org(caller, org_name, kAction);
  if (!org.ok()) return org.error();
  bool created = false;
  Status st = audit_.in_transaction([&](AuditEntry& e) -> Status {
    LV_ASSIGN_OR_RETURN(auto key, org_keys_.get_or_create(*org, OrgKeyKind::kImageWatermark, &created));
    crypto::secure_zero(key.data(), key.size());
    e = audit_entry(caller, kAction, org_name, kAuditAllowed, json{{"kind", "image_watermark"}, {"created", created}}, org_name);
    return Status::Ok();
  });
  if (!st.ok()) {
    hub_.audit_event(caller, kAction, org_name, kAuditError, json{{"reason", st.error().message}}, org_name);
    return internal(st.error());
  }
  return created;
}

}  // namespace lv::hub
