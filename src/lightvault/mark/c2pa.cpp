#include "lightvault/mark/c2pa.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>

#include "lightvault/mark/c2pa_container.h"
#include "lightvault/mark/cbor.h"
#include "lightvault/mark/jumbf.h"

namespace lv::mark {
namespace {

using cbor::Value;

constexpr std::string_view kAssertionStoreLabel = "c2pa.assertions";
constexpr std::string_view kClaimLabel = "c2pa.claim";
constexpr std::string_view kClaimV2Label = "c2pa.claim.v2";
constexpr std::string_view kSignatureLabel = "c2pa.signature";
constexpr std::string_view kActionsLabel = "c2pa.actions";
constexpr std::string_view kActionsV2Label = "c2pa.actions.v2";
constexpr std::string_view kDataHashLabel = "c2pa.hash.data";
constexpr std::string_view kSelfPrefix = "self#jumbf=";

std::string uuid4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // RAND_bytes fails only without an entropy source; a fixed id is still a unique-enough
    // label for one file, and the signature does not depend on it.
    std::fill(std::begin(b), std::end(b), 0);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

const EVP_MD* digest_named(std::string_view alg) {
  if (alg == "sha256") return EVP_sha256();
  if (alg == "sha384") return EVP_sha384();
  if (alg == "sha512") return EVP_sha512();
  return nullptr;
}

// The digest of `data` without the (sorted, disjoint) `excluded` ranges.
std::string digest_except(const EVP_MD* md, std::string_view data, const std::vector<std::pair<uint64_t, uint64_t>>& excluded) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return "";
  size_t pos = 0;
  for (const auto& [start, length] : excluded) {
    EVP_DigestUpdate(ctx.get(), data.data() + pos, start - pos);
    pos = start + length;
  }
  EVP_DigestUpdate(ctx.get(), data.data() + pos, data.size() - pos);
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string sha256(std::string_view data) { return digest_except(EVP_sha256(), data, {}); }

// An assertion superbox: a labelled JUMBF superbox of the CBOR type holding one CBOR box.
std::string assertion_box(std::string_view label, const Value& content) {
  return jumbf_superbox(c2pa_jumbf_uuid("cbor"), label, jumbf_box("cbor", cbor::encode(content)));
}

// A hashed URI as the claim lists assertions: the hash covers the superbox after its header.
Value hashed_uri(std::string_view label, std::string_view box) {
  return Value::map({{Value::text("url"), Value::text(std::string(kSelfPrefix) + std::string(kAssertionStoreLabel) + "/" + std::string(label))},
                     {Value::text("alg"), Value::text("sha256")},
                     {Value::text("hash"), Value::bytes(sha256(box.substr(8)))}});
}

struct ManifestInputs {
  std::string manifest_label;
  std::string instance_id;
  std::string mime_type;
  std::string asset_hash;
  uint64_t exclusion_start = 0;
  uint64_t exclusion_length = 0;
};

Result<std::string> build_store(const ManifestInputs& in, const C2paSigner& signer, const C2paSignOptions& options) {
  Value created = Value::map({{Value::text("action"), Value::text("c2pa.created")},
                              {Value::text("digitalSourceType"), Value::text(kTrainedAlgorithmicMedia)},
                              {Value::text("softwareAgent"), Value::text(options.claim_generator)}});
  const std::string actions = assertion_box(kActionsLabel, Value::map({{Value::text("actions"), Value::array({created})}}));
  Value exclusion = Value::map({{Value::text("start"), Value::integer(static_cast<int64_t>(in.exclusion_start))},
                                {Value::text("length"), Value::integer(static_cast<int64_t>(in.exclusion_length))}});
  const std::string data_hash = assertion_box(
      kDataHashLabel, Value::map({{Value::text("exclusions"), Value::array({exclusion})},
                                  {Value::text("name"), Value::text("jumbf manifest")},
                                  {Value::text("alg"), Value::text("sha256")},
                                  {Value::text("hash"), Value::bytes(in.asset_hash)},
                                  {Value::text("pad"), Value::bytes("")}}));
  const std::string assertion_store = jumbf_superbox(c2pa_jumbf_uuid("c2as"), kAssertionStoreLabel, actions + data_hash);

  std::vector<cbor::MapEntry> claim{
      {Value::text("claim_generator"), Value::text(options.claim_generator)},
      {Value::text("claim_generator_info"), Value::array({Value::map({{Value::text("name"), Value::text(options.claim_generator)}})})},
      {Value::text("signature"), Value::text(std::string(kSelfPrefix) + std::string(kSignatureLabel))},
      {Value::text("assertions"), Value::array({hashed_uri(kActionsLabel, actions), hashed_uri(kDataHashLabel, data_hash)})},
      {Value::text("dc:format"), Value::text(in.mime_type)},
      {Value::text("instanceID"), Value::text(in.instance_id)},
      {Value::text("alg"), Value::text("sha256")}};
  if (!options.title.empty()) claim.push_back({Value::text("dc:title"), Value::text(options.title)});
  const std::string claim_bytes = cbor::encode(Value::map(std::move(claim)));
  LV_ASSIGN_OR_RETURN(std::string cose, cose_sign1_es256(signer, claim_bytes));

  const std::string manifest = jumbf_superbox(
      c2pa_jumbf_uuid("c2ma"), in.manifest_label,
      assertion_store + jumbf_superbox(c2pa_jumbf_uuid("c2cl"), kClaimLabel, jumbf_box("cbor", claim_bytes)) +
          jumbf_superbox(c2pa_jumbf_uuid("c2cs"), kSignatureLabel, jumbf_box("cbor", cose)));
  return jumbf_superbox(c2pa_jumbf_uuid("c2pa"), "c2pa", manifest);
}

// ---- reading ----

const std::string* text_of(const Value* v) { return v && v->is_text() ? &v->string : nullptr; }

// The one CBOR content box of a superbox, decoded.
Result<Value> cbor_content(const JumbfBox& box, std::string_view* raw = nullptr) {
  for (const auto& child : box.children) {
    if (child.type != "cbor") continue;
    if (raw) *raw = child.payload;
    return cbor::decode(child.payload, "C2PA box " + box.label);
  }
  return make_error("C2PA box " + box.label, "no CBOR content box");
}

// "c2pa.actions__1" names the second instance of c2pa.actions.
bool label_is(std::string_view label, std::string_view base) {
  if (label.substr(0, base.size()) != base) return false;
  return label.size() == base.size() || label.substr(base.size(), 2) == "__";
}

std::string software_agent(const Value* v) {
  if (const std::string* s = text_of(v)) return *s;
  if (v && v->is_map()) {
    if (const std::string* name = text_of(v->find("name"))) return *name;
  }
  return "";
}

// The assertion a claim's URL points to in the active manifest; nullptr when it is elsewhere.
const JumbfBox* resolve(std::string_view url, const JumbfBox& manifest, const JumbfBox& assertions) {
  if (url.substr(0, kSelfPrefix.size()) != kSelfPrefix) return nullptr;
  url.remove_prefix(kSelfPrefix.size());
  const std::string absolute = "/c2pa/" + manifest.label + "/";
  if (url.substr(0, absolute.size()) == absolute) url.remove_prefix(absolute.size());
  const std::string store_prefix = std::string(kAssertionStoreLabel) + "/";
  if (url.substr(0, store_prefix.size()) != store_prefix) return nullptr;
  return assertions.child(url.substr(store_prefix.size()));
}

bool refers_to_signature(std::string_view url, const JumbfBox& manifest) {
  if (url.substr(0, kSelfPrefix.size()) != kSelfPrefix) return false;
  url.remove_prefix(kSelfPrefix.size());
  return url == kSignatureLabel || url == "/c2pa/" + manifest.label + "/" + std::string(kSignatureLabel);
}

void read_actions(const JumbfBox& box, C2paReport& report) {
  Result<Value> content = cbor_content(box);
  if (!content.ok()) {
    report.reasons.push_back(content.error().message);
    return;
  }
  const Value* actions = content->find("actions");
  if (!actions || !actions->is_array()) {
    report.reasons.push_back("C2PA box " + box.label + ": no actions array");
    return;
  }
  for (const auto& a : actions->items) {
    C2paAction action;
    if (const std::string* name = text_of(a.find("action"))) action.action = *name;
    if (const std::string* type = text_of(a.find("digitalSourceType"))) action.digital_source_type = *type;
    action.software_agent = software_agent(a.find("softwareAgent"));
    report.actions.push_back(std::move(action));
  }
}

// Checks the hard binding; reasons say why not.
bool check_data_hash(const JumbfBox& box, std::string_view file, const C2paEmbedding& embedding, std::string_view claim_alg,
                     C2paReport& report) {
  const std::string where = "C2PA box " + box.label;
  Result<Value> content = cbor_content(box);
  if (!content.ok()) {
    report.reasons.push_back(content.error().message);
    return false;
  }
  const std::string* alg = text_of(content->find("alg"));
  const EVP_MD* md = digest_named(alg ? *alg : claim_alg);
  const Value* hash = content->find("hash");
  if (!md || !hash || !hash->is_bytes()) {
    report.reasons.push_back(where + ": no hash, or an algorithm other than sha256/384/512");
    return false;
  }
  std::vector<std::pair<uint64_t, uint64_t>> excluded;
  if (const Value* exclusions = content->find("exclusions"); exclusions && exclusions->is_array()) {
    for (const auto& e : exclusions->items) {
      int64_t start = -1;
      int64_t length = -1;
      const Value* s = e.find("start");
      const Value* l = e.find("length");
      if (!s || !l || !s->as_int64(&start) || !l->as_int64(&length) || start < 0 || length < 0 ||
          static_cast<uint64_t>(start) > file.size() || static_cast<uint64_t>(length) > file.size() - static_cast<uint64_t>(start)) {
        report.reasons.push_back(where + ": an exclusion range lies outside the file");
        return false;
      }
      excluded.emplace_back(static_cast<uint64_t>(start), static_cast<uint64_t>(length));
    }
  }
  std::sort(excluded.begin(), excluded.end());
  for (size_t i = 1; i < excluded.size(); ++i) {
    if (excluded[i].first < excluded[i - 1].first + excluded[i - 1].second) {
      report.reasons.push_back(where + ": exclusion ranges overlap");
      return false;
    }
  }
  // The manifest itself must be excluded, or the binding could not have been computed.
  for (const auto& range : embedding.ranges) {
    const uint64_t start = range.first;
    const uint64_t length = range.second;
    const bool covered = std::any_of(excluded.begin(), excluded.end(), [&](const auto& e) {
      return e.first <= start && start + length <= e.first + e.second;
    });
    if (!covered) {
      report.reasons.push_back(where + ": the manifest store is not inside the excluded ranges");
      return false;
    }
  }
  if (digest_except(md, file, excluded) != hash->string) {
    report.reasons.push_back(where + ": the image bytes do not match the hard binding hash (the file was changed after signing)");
    return false;
  }
  return true;
}

// Fills `report` from the active manifest; an error for a structure that is not a manifest.
Status check_manifest(std::string_view file, const C2paEmbedding& embedding, C2paReport& report) {
  LV_ASSIGN_OR_RETURN(JumbfBox store, parse_jumbf(embedding.store, "C2PA manifest store"));
  if (!store.is_superbox() || store.uuid != c2pa_jumbf_uuid("c2pa")) return Error{"C2PA manifest store: wrong JUMBF type"};
  const JumbfBox* manifest = nullptr;
  for (const auto& child : store.children) {
    if (child.is_superbox()) manifest = &child;  // the last manifest is the active one
  }
  if (!manifest) return Error{"C2PA manifest store holds no manifest"};
  report.manifest_label = manifest->label;
  const JumbfBox* assertions = manifest->child(kAssertionStoreLabel);
  const JumbfBox* claim_box = manifest->child(kClaimV2Label);
  if (!claim_box) claim_box = manifest->child(kClaimLabel);
  const JumbfBox* signature_box = manifest->child(kSignatureLabel);
  if (!assertions || !claim_box || !signature_box) {
    return Error{"C2PA manifest " + manifest->label + ": missing its assertion store, claim or signature"};
  }
  std::string_view claim_bytes;
  LV_ASSIGN_OR_RETURN(Value claim, cbor_content(*claim_box, &claim_bytes));
  if (!claim.is_map()) return Error{"C2PA claim is not a CBOR map"};
  if (const std::string* generator = text_of(claim.find("claim_generator"))) {
    report.claim_generator = *generator;
  } else if (const Value* info = claim.find("claim_generator_info")) {
    report.claim_generator = software_agent(info->is_array() && !info->items.empty() ? &info->items.front() : info);
  }
  if (const std::string* format = text_of(claim.find("dc:format"))) report.format = *format;
  const std::string* claim_alg = text_of(claim.find("alg"));

  // Only assertions the claim lists, with matching hashes, are believed.
  std::vector<const JumbfBox*> listed;
  report.assertion_hashes_valid = true;
  for (const char* key : {"assertions", "created_assertions", "gathered_assertions"}) {
    const Value* refs = claim.find(key);
    if (!refs) continue;
    if (!refs->is_array()) return Error{std::string("C2PA claim: ") + key + " is not an array"};
    for (const auto& ref : refs->items) {
      const std::string* url = text_of(ref.find("url"));
      const Value* hash = ref.find("hash");
      const std::string* alg = text_of(ref.find("alg"));
      const EVP_MD* md = digest_named(alg ? *alg : claim_alg ? *claim_alg : "sha256");
      const JumbfBox* target = url ? resolve(*url, *manifest, *assertions) : nullptr;
      if (!target || !hash || !hash->is_bytes() || !md) {
        report.assertion_hashes_valid = false;
        report.reasons.push_back("C2PA claim lists an assertion that is missing or unreadable" + (url ? ": " + *url : std::string()));
        continue;
      }
      if (digest_except(md, target->payload, {}) != hash->string) {
        report.assertion_hashes_valid = false;
        report.reasons.push_back("C2PA assertion " + target->label + " does not match its hash in the claim");
        continue;
      }
      listed.push_back(target);
    }
  }
  if (listed.empty() && report.assertion_hashes_valid) {
    report.assertion_hashes_valid = false;
    report.reasons.push_back("C2PA claim lists no assertions");
  }

  int hard_bindings = 0;
  for (const JumbfBox* assertion : listed) {
    if (label_is(assertion->label, kActionsLabel) || label_is(assertion->label, kActionsV2Label)) read_actions(*assertion, report);
    if (label_is(assertion->label, kDataHashLabel)) {
      ++hard_bindings;
      report.hash_binding_valid = check_data_hash(*assertion, file, embedding, claim_alg ? *claim_alg : "sha256", report);
    }
  }
  if (hard_bindings != 1) {
    report.hash_binding_valid = false;
    report.reasons.push_back("C2PA manifest has " + std::to_string(hard_bindings) + " c2pa.hash.data hard bindings, not one");
  }

  const std::string* signature_ref = text_of(claim.find("signature"));
  if (!signature_ref || !refers_to_signature(*signature_ref, *manifest)) {
    report.reasons.push_back("C2PA claim does not refer to the manifest's signature box");
    return Status::Ok();
  }
  std::string_view cose;
  for (const auto& child : signature_box->children) {
    if (child.type == "cbor") cose = child.payload;
  }
  LV_ASSIGN_OR_RETURN(CoseVerification verification, cose_verify_sign1(cose, claim_bytes, "C2PA claim signature"));
  report.signature_valid = verification.signature_valid;
  report.signer_subject = verification.signer_subject;
  report.signer_issuer = verification.signer_issuer;
  for (auto& problem : verification.problems) report.reasons.push_back("C2PA claim signature: " + problem);
  return Status::Ok();
}

}  // namespace

Result<std::string> sign_c2pa(std::string_view image_bytes, ImageFormat format, const C2paSigner& signer,
                              const C2paSignOptions& options) {
  const std::string context = format == ImageFormat::Jpeg ? "JPEG image" : "PNG image";
  LV_ASSIGN_OR_RETURN(ImageFormat sniffed, sniff_image_format(image_bytes, context));
  if (sniffed != format) return make_error(context, "the bytes are not in the format given");
  LV_ASSIGN_OR_RETURN(std::string bare, remove_c2pa_stores(image_bytes, format, context));
  LV_ASSIGN_OR_RETURN(size_t offset, c2pa_insert_offset(bare, format, context));

  ManifestInputs in;
  in.manifest_label = "urn:uuid:" + uuid4();
  in.instance_id = "xmp:iid:" + uuid4();
  in.mime_type = format == ImageFormat::Jpeg ? "image/jpeg" : "image/png";
  // The exclusion is exactly the inserted bytes, so the rest is `bare` as it is.
  in.asset_hash = sha256(bare);
  in.exclusion_start = offset;
  // The store's size depends, through the CBOR width of the exclusion's length, on itself:
  // iterate to the fixed point, which a width changing at most twice reaches quickly.
  std::string framed;
  for (int attempt = 0; attempt < 4; ++attempt) {
    LV_ASSIGN_OR_RETURN(std::string store, build_store(in, signer, options));
    LV_ASSIGN_OR_RETURN(framed, frame_c2pa_store(store, format));
    if (framed.size() == in.exclusion_length) break;
    in.exclusion_length = framed.size();
  }
  if (framed.size() != in.exclusion_length) return make_error(context, "C2PA manifest size did not settle");

  std::string out;
  out.reserve(bare.size() + framed.size());
  out.append(bare, 0, offset);
  out.append(framed);
  out.append(bare, offset);
  return out;
}

Result<std::string> attach_c2pa(std::string_view image_bytes, ImageFormat format, const std::string& key_pem_path,
                                const std::string& cert_pem_path) {
  LV_ASSIGN_OR_RETURN(C2paSigner signer, load_c2pa_signer(key_pem_path, cert_pem_path));
  return sign_c2pa(image_bytes, format, signer);
}

Result<C2paReport> read_c2pa(std::string_view image_bytes, const std::string& context) {
  LV_ASSIGN_OR_RETURN(ImageFormat format, sniff_image_format(image_bytes, context));
  LV_ASSIGN_OR_RETURN(std::optional<C2paEmbedding> embedding, find_c2pa_store(image_bytes, format, context));
  C2paReport report;
  if (!embedding) return report;
  report.present = true;
  if (Status checked = check_manifest(image_bytes, *embedding, report); !checked.ok()) {
    report.reasons.push_back(checked.error().message);
  }
  report.valid = report.assertion_hashes_valid && report.hash_binding_valid && report.signature_valid && report.reasons.empty();
  return report;
}

// Text from a manifest as valid UTF-8 (bad bytes become U+FFFD), so that dumping the report
// never throws on what a hostile file put in its labels or fields.
std::string valid_utf8(const std::string& text) {
  const std::string quoted = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

nlohmann::json c2pa_report_json(const C2paReport& report) {
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& a : report.actions) {
    actions.push_back({{"action", valid_utf8(a.action)},
                       {"digitalSourceType", valid_utf8(a.digital_source_type)},
                       {"softwareAgent", valid_utf8(a.software_agent)}});
  }
  nlohmann::json out = {{"present", report.present}, {"valid", report.valid}};
  if (!report.present) return out;
  out["manifest"] = valid_utf8(report.manifest_label);
  out["claim_generator"] = valid_utf8(report.claim_generator);
  out["format"] = valid_utf8(report.format);
  out["signer"] = {{"subject", valid_utf8(report.signer_subject)}, {"issuer", valid_utf8(report.signer_issuer)}};
  out["actions"] = std::move(actions);
  out["assertion_hashes_valid"] = report.assertion_hashes_valid;
  out["hash_binding_valid"] = report.hash_binding_valid;
  out["signature_valid"] = report.signature_valid;
  out["trusted"] = report.trusted;
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& reason : report.reasons) reasons.push_back(valid_utf8(reason));
  out["reasons"] = std::move(reasons);
  return out;
}

Status write_c2pa_test_credentials(const std::string& key_path, const std::string& cert_path, const std::string& common_name) {
  LV_ASSIGN_OR_RETURN(C2paTestCredentials credentials, make_c2pa_test_credentials(common_name));
  auto write = [](const std::string& path, const std::string& text, bool secret) -> Status {
    // The key is created private rather than made so after it is written.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
    std::FILE* f = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
    if (!f) {
      if (fd >= 0) ::close(fd);
      return make_error(path, "cannot create");
    }
    if (secret) ::fchmod(fd, 0600);  // an existing file keeps its mode through O_CREAT
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) return make_error(path, "write failed");
    return Status::Ok();
  };
  LV_RETURN_IF_ERROR(write(key_path, credentials.key_pem, true));
  return write(cert_path, credentials.chain_pem, false);
}

}  // namespace lv::mark
