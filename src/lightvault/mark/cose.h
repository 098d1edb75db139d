#pragma once
// C2PA claim signatures: COSE_Sign1 (RFC 9052) with ES256 (ECDSA P-256 over SHA-256, the
// signature as raw r || s, 64 bytes), the detached payload being the claim, and the signer's
// certificate chain in the protected header as x5chain (label 33, RFC 9360), as the C2PA
// specification's "Digital signatures" section asks. Signing and verification use OpenSSL.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace lv::mark {

// A P-256 private key and its certificate chain (DER, signer first).
struct C2paSigner {
  std::shared_ptr<EVP_PKEY> key;
  std::vector<std::string> chain_der;
};

// From PEM text: the key (PKCS#8 or SEC1) must be P-256 and match the first certificate.
// `context` names the files in errors.
Result<C2paSigner> c2pa_signer_from_pem(std::string_view key_pem, std::string_view chain_pem, const std::string& context);
Result<C2paSigner> load_c2pa_signer(const std::string& key_pem_path, const std::string& cert_pem_path);

// COSE_Sign1, tagged (18), payload detached (nil), over `payload`.
Result<std::string> cose_sign1_es256(const C2paSigner& signer, std::string_view payload);

struct CoseVerification {
  bool signature_valid = false;
  std::string signer_subject;   // RFC 2253 form of the first certificate's subject
  std::string signer_issuer;
  bool self_signed = false;
  std::vector<std::string> problems;  // why the signature or its credential is not valid
};

// Checks a COSE_Sign1 over the detached `payload` against the first certificate of its
// x5chain: the ES256 signature, each certificate being signed by the next, and the signing
// certificate's validity period at the current time. Errors only for input that is not a
// COSE_Sign1 at all; a structure that parses but does not verify reports `problems`.
Result<CoseVerification> cose_verify_sign1(std::string_view cose, std::string_view payload, const std::string& context);

// A throwaway credential for trying C2PA out: a P-256 signing certificate (digitalSignature
// key usage, emailProtection extended key usage, not a CA) issued by a freshly made root
// whose key is discarded. Readers refuse self-signed signing certificates (the C2PA
// certificate profile), hence the two-certificate chain. PEM text: the key, and the chain
// signer first.
struct C2paTestCredentials {
  std::string key_pem;
  std::string chain_pem;
};
Result<C2paTestCredentials> make_c2pa_test_credentials(const std::string& common_name, int valid_days = 365);

}  // namespace lv::mark
