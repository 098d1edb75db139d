#pragma once
// The hub's content use cases, the "output content detection API" of a compliance checklist:
// marking an AI-generated image (visible label, invisible watermark, GB 45438 AIGC metadata;
// mark/image_marker.h) and checking an image or a text for marks. Like HubService's use cases,
// each takes the caller as its adapter authenticated it, then
//   1. needs a signed-in caller (any scope), and read access to the repository it names
//      (`repo`; one the caller may not read is "not found", like the API's),
//   2. checks its input (a body that is not a decodable JPEG or PNG is kInvalid with the
//      decoder's message),
//   3. acts, and appends its audit entry (content.mark, content.detect: the payload, the
//      SHA-256 of input and output, the repository) in one catalog transaction with what it
//      records: mark registers the payload it issued (payload_registry.h), so detection through
//      the hub can say who marked an image, when, and for which repository.
// Refusals are audited as HubService's are. The work is CPU-bound: at most one use case per
// hardware thread runs at a time, the others wait, so that many large images at once cannot
// take all memory.
//
// Keys: images are marked and checked with the built-in default key, so that anyone with
// lightvault can check a mark, unless the named repository's organization made its own
// (create_image_watermark_key). Text is checked with the text watermark key of the
// repository's organization (created on first use; org_keys.h), which the organization's
// administrators fetch with watermark_key() to generate with `lightvault run --watermark-key`.
#include <cstdint>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "lightvault/hub/catalog/payload_registry.h"
#include "lightvault/hub/service/hub_service.h"
#include "lightvault/hub/service/text_tokenizer.h"
#include "lightvault/hub/storage/org_keys.h"
#include "lightvault/mark/image_watermark.h"
#include "lightvault/mark/text_watermark.h"

namespace lv::hub {

// What to mark, as the CLI's `mark` options say it (src/cli/cmd_mark.cpp).
struct ImageMarkRequest {
  std::string repo;            // "owner/name" the image was generated with, "" for none
  std::string label;           // "" = the default label (AI生成)
  bool no_label = false;
  std::string label_position;  // top-left|top-right|bottom-left|bottom-right, "" = bottom-right
  bool no_watermark = false;
  std::string payload;         // 16 hex digits, "" = a random one
  std::string producer, produce_id;  // AIGC ContentProducer, ProduceID ("" = the payload)
};

struct MarkedContent {
  std::string bytes;         // the marked image, in the input's format
  std::string content_type;  // image/jpeg or image/png
  std::string payload;       // the issued payload (16 hex digits)
};

struct DetectRequest {
  std::string repo;                // "owner/name"; needed for text
  bool text = false;               // the body is text (else it is sniffed: JPEG, PNG or text)
  mark::WatermarkParams text_params;  // as generation used them (delta is not used)
  double z_threshold = 4.0;
};

struct Detection {
  // image: mark::image_marks_json plus "issued": {"by", "at", "repo"} or null;
  // text: {"text_watermark": {"z", "p_value", "tokens", "green", "found"}}.
  nlohmann::ordered_json report;
  std::string body;  // report serialized: what the output_sha256 of the audit entry covers
};

class ContentService {
 public:
  // `text_tokenizers` may be empty: text detection is then unavailable (detects_text()).
  ContentService(HubService& hub, Catalog& catalog, BlobStore& blobs, MasterKeyring& keyring, AuditWriter& audit,
                 TextTokenizerLoader text_tokenizers);

  bool detects_text() const { return static_cast<bool>(text_tokenizers_); }

  // Marks the JPEG or PNG `image` and registers its payload. kConflict when `payload` was
  // issued before (a payload names one marked image).
  Outcome<MarkedContent> mark_image(const Caller& caller, const ImageMarkRequest& request, std::string_view image);
  // Checks an image (all its marks, and who the hub issued its payload to, if the caller may
  // see that repository) or a text (the keyed watermark of the repository's organization,
  // tokenized with the tokenizer of the repository's main revision).
  Outcome<Detection> detect(const Caller& caller, const DetectRequest& request, std::string_view content);
  // The organization's text watermark key file content (64 hex digits), created on first use;
  // for the organization's administrators (an admin-scoped token) and site administrators.
  Outcome<std::string> text_watermark_key(const Caller& caller, const std::string& org);
  // Gives the organization its own image watermark key (kept in the hub, never handed out):
  // from then on images marked with one of its repositories (`repo`) carry a mark only the hub
  // can check, and only when asked with such a repository. Same callers as text_watermark_key;
  // true when this call created the key, false when the organization had one.
  Outcome<bool> create_image_watermark_key(const Caller& caller, const std::string& org);

 private:
  struct RepoContext {
    std::optional<Repo> repo;  // when the request named one
    std::optional<Org> org;    // the repository's owner, when an organization
  };
  // Login and the named repository (read access), refusals audited as `action`.
  // The organization if the caller administers it (refusals audited as `action`).
  Outcome<Org> administered_org(const Caller& caller, const std::string& org, const std::string& action);
  Outcome<RepoContext> authorize(const Caller& caller, const std::string& repo, const std::string& action);
  Outcome<mark::ImageWatermarkKey> image_key(const RepoContext& context);
  Outcome<Detection> detect_image(const Caller& caller, const RepoContext& context, std::string_view image);
  Outcome<Detection> detect_text(const Caller& caller, const RepoContext& context, const DetectRequest& request,
                                 std::string_view text);
  // "issued" of a detection: null unless the payload is registered and the caller may see its
  // repository (or it was issued without one).
  nlohmann::ordered_json issued(const Caller& caller, const std::string& payload);
  Outcome<std::shared_ptr<const TextTokenizer>> repo_tokenizer(const Repo& repo);

  HubService& hub_;
  Catalog& catalog_;
  BlobStore& blobs_;
  AuditWriter& audit_;
  PayloadRegistry payloads_;
  OrgKeyStore org_keys_;
  TextTokenizerLoader text_tokenizers_;
  std::counting_semaphore<> workers_;
  std::mutex tokenizers_mu_;
  // Loaded tokenizers by the SHA-256 of their file: a repository's tokenizer rarely changes.
  std::unordered_map<std::string, std::shared_ptr<const TextTokenizer>> tokenizers_;
};

}  // namespace lv::hub
