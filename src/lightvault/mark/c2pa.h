#pragma once
// C2PA manifests (C2PA specification 1.x, which 2.x readers still accept) for generated
// images: a manifest store holding one manifest whose assertions are `c2pa.actions` (one
// `c2pa.created` action with IPTC's trainedAlgorithmicMedia digital source type) and the
// `c2pa.hash.data` hard binding (SHA-256 over the file's bytes except the manifest's own
// segments or chunk); a `c2pa.claim` listing them by hashed URI; and the claim's ES256
// COSE_Sign1 signature with the signer's certificate chain. JUMBF in JPEG APP11 segments or a
// PNG caBX chunk (c2pa_container.h). Layout:
//   jumb "c2pa" (store)
//     jumb "urn:uuid:..." (manifest)
//       jumb "c2pa.assertions"  -> jumb "c2pa.actions", jumb "c2pa.hash.data" (each one CBOR box)
//       jumb "c2pa.claim"       -> CBOR claim
//       jumb "c2pa.signature"   -> CBOR COSE_Sign1 over the claim
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/mark/cose.h"
#include "lightvault/mark/image.h"
#include "lightvault/util/status.h"

namespace lv::mark {

inline constexpr std::string_view kTrainedAlgorithmicMedia =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

struct C2paSignOptions {
  std::string claim_generator = "lightvault";
  std::string title;  // dc:title of the claim; left out when empty
};

// `image_bytes` with a signed manifest store inserted (one already there is replaced). The
// bytes outside the store are kept as they are, so sign_c2pa must be the last change made.
Result<std::string> sign_c2pa(std::string_view image_bytes, ImageFormat format, const C2paSigner& signer,
                              const C2paSignOptions& options = {});

// The CLI's hook, after the image's metadata is attached: loads the PEM key and certificate
// chain (errors name the files) and signs.
Result<std::string> attach_c2pa(std::string_view image_bytes, ImageFormat format, const std::string& key_pem_path,
                                const std::string& cert_pem_path);

struct C2paAction {
  std::string action;
  std::string digital_source_type;
  std::string software_agent;
};

struct C2paReport {
  bool present = false;  // a manifest store was found
  bool valid = false;    // every check below passed
  bool assertion_hashes_valid = false;  // each assertion the claim lists matches its hash
  bool hash_binding_valid = false;      // the c2pa.hash.data hash matches the file's bytes
  bool signature_valid = false;         // the COSE signature verifies against x5chain[0]
  // No trust list is configured: a valid manifest says who signed, not that they are trusted.
  bool trusted = false;
  std::string manifest_label;
  std::string claim_generator;
  std::string format;  // dc:format
  std::string signer_subject;
  std::string signer_issuer;
  std::vector<C2paAction> actions;
  std::vector<std::string> reasons;  // why not valid; empty when valid
};

// Finds, parses and checks the manifest store of a JPEG or PNG file. The input is untrusted:
// an error only when it is not a JPEG or PNG or its segments/chunks (the manifest's APP11
// packets included) are broken; a manifest
// that is malformed or does not verify is reported present but not valid, with reasons.
Result<C2paReport> read_c2pa(std::string_view image_bytes, const std::string& context);

// {"present", "valid", "manifest", "claim_generator", "format", "signer": {"subject",
// "issuer"}, "actions": [{"action", "digitalSourceType", "softwareAgent"}], the three check
// results, "trusted", "reasons"}: the "c2pa" object of `lightvault detect --json`. Text read
// from the file is made valid UTF-8 (U+FFFD for bad bytes), so the JSON always dumps.
nlohmann::json c2pa_report_json(const C2paReport& report);

// `lightvault mark keygen`: writes make_c2pa_test_credentials() to KEY (mode 0600) and CERT.
Status write_c2pa_test_credentials(const std::string& key_path, const std::string& cert_path,
                                   const std::string& common_name);

}  // namespace lv::mark
