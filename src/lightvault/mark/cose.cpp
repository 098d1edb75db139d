#include "lightvault/mark/cose.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "lightvault/mark/cbor.h"

namespace lv::mark {
namespace {

// COSE labels and values (RFC 9052 section 3.1, RFC 9360 section 2, IANA COSE registries).
constexpr int64_t kHeaderAlg = 1;
constexpr int64_t kHeaderX5chain = 33;
constexpr int64_t kAlgES256 = -7;
constexpr uint64_t kTagCoseSign1 = 18;
constexpr size_t kP256CoordinateBytes = 32;

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

bool is_p256(const EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return false;
  return std::string_view(group, len) == "prime256v1" || std::string_view(group, len) == "P-256";
}

std::string name_text(const X509_NAME* name) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

Result<std::string> der_of(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return Error{"cannot encode a certificate: " + openssl_reason()};
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &p);
  return der;
}

Owned<X509> x509_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Owned<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  // A certificate followed by stray bytes is not the certificate that was signed.
  if (cert && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) cert.reset();
  return cert;
}

std::string protected_header(const std::vector<std::string>& chain_der) {
  cbor::Value x5chain;
  if (chain_der.size() == 1) {
    x5chain = cbor::Value::bytes(chain_der.front());
  } else {
    std::vector<cbor::Value> certs;
    for (const auto& der : chain_der) certs.push_back(cbor::Value::bytes(der));
    x5chain = cbor::Value::array(std::move(certs));
  }
  return cbor::encode(cbor::Value::map({{cbor::Value::integer(kHeaderAlg), cbor::Value::integer(kAlgES256)},
                                        {cbor::Value::integer(kHeaderX5chain), std::move(x5chain)}}));
}

// The bytes COSE signs: Sig_structure = ["Signature1", protected, external_aad, payload].
std::string sig_structure(std::string_view protected_bytes, std::string_view payload) {
  return cbor::encode(cbor::Value::array({cbor::Value::text("Signature1"), cbor::Value::bytes(protected_bytes),
                                          cbor::Value::bytes(""), cbor::Value::bytes(payload)}));
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, "cannot open");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return make_error(path, "read failed");
  return buf.str();
}

Status add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Error{std::string("cannot add certificate extension ") + OBJ_nid2sn(nid) + ": " + openssl_reason()};
  }
  return Status::Ok();
}

Result<Owned<X509>> make_certificate(EVP_PKEY* subject_key, const std::string& subject_cn, X509* issuer,
                                     EVP_PKEY* issuer_key, bool is_ca, int valid_days) {
  Owned<X509> cert(X509_new());
  if (!cert) return Error{"cannot allocate a certificate"};
  X509_set_version(cert.get(), 2);  // v3, which extensions need
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Error{"no randomness for a serial number"};
  serial[0] &= 0x7f;  // a positive INTEGER
  Owned<BIGNUM> serial_bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!serial_bn || !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()))) {
    return Error{"cannot set a serial number"};
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate a reader's clock behind ours
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("lightvault test credential"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), subject_key);
  X509* issuer_cert = issuer ? issuer : cert.get();
  if (is_ca) {
    LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE"));
    LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE"));
    LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature"));
    LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_ext_key_usage, "emailProtection"));
  }
  LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash"));
  if (issuer) LV_RETURN_IF_ERROR(add_extension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return Error{"cannot sign a certificate: " + openssl_reason()};
  return cert;
}

Result<std::string> pem_of(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return Error{"cannot write a certificate as PEM"};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Result<C2paSigner> c2pa_signer_from_pem(std::string_view key_pem, std::string_view chain_pem, const std::string& context) {
  Owned<BIO> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  EVP_PKEY* key = key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key) return make_error(context, "no PEM private key (" + openssl_reason() + ")");
  C2paSigner signer;
  signer.key.reset(key, EVP_PKEY_free);
  if (!is_p256(key)) return make_error(context, "the C2PA key must be an ECDSA P-256 key (ES256)");

  Owned<BIO> chain_bio(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  while (chain_bio) {
    Owned<X509> cert(PEM_read_bio_X509(chain_bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (signer.chain_der.empty() && EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key) != 1) {
      return make_error(context, "the first certificate does not hold the key's public half");
    }
    LV_ASSIGN_OR_RETURN(std::string der, der_of(cert.get()));
    signer.chain_der.push_back(std::move(der));
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (signer.chain_der.empty()) return make_error(context, "no PEM certificate");
  return signer;
}

Result<C2paSigner> load_c2pa_signer(const std::string& key_pem_path, const std::string& cert_pem_path) {
  LV_ASSIGN_OR_RETURN(std::string key_pem, read_whole(key_pem_path));
  LV_ASSIGN_OR_RETURN(std::string chain_pem, read_whole(cert_pem_path));
  return c2pa_signer_from_pem(key_pem, chain_pem, key_pem_path + ", " + cert_pem_path);
}

Result<std::string> cose_sign1_es256(const C2paSigner& signer, std::string_view payload) {
  if (!signer.key || signer.chain_der.empty()) return Error{"C2PA signer without a key or a certificate"};
  const std::string protected_bytes = protected_header(signer.chain_der);
  const std::string to_be_signed = sig_structure(protected_bytes, payload);

  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, signer.key.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(to_be_signed.data()), to_be_signed.size()) != 1) {
    return Error{"ES256 signing failed: " + openssl_reason()};
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(to_be_signed.data()), to_be_signed.size()) != 1) {
    return Error{"ES256 signing failed: " + openssl_reason()};
  }
  // OpenSSL writes an ASN.1 Ecdsa-Sig-Value; COSE wants r and s as fixed 32-byte big-endian.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Error{"ES256 signing produced no ECDSA signature"};
  std::string raw(2 * kP256CoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kP256CoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kP256CoordinateBytes, kP256CoordinateBytes) < 0) {
    return Error{"ES256 signature component over 32 bytes"};
  }
  return cbor::encode(cbor::Value::tagged(
      kTagCoseSign1, cbor::Value::array({cbor::Value::bytes(protected_bytes), cbor::Value::map({}), cbor::Value::null(),
                                         cbor::Value::bytes(raw)})));
}

Result<CoseVerification> cose_verify_sign1(std::string_view cose, std::string_view payload, const std::string& context) {
  LV_ASSIGN_OR_RETURN(cbor::Value root, cbor::decode(cose, context));
  const cbor::Value* sign1 = &root;
  if (sign1->type == cbor::Value::Type::Tag) {
    if (sign1->number != kTagCoseSign1) return make_error(context, "COSE tag " + std::to_string(sign1->number) + " is not COSE_Sign1 (18)");
    sign1 = &sign1->items.front();
  }
  if (!sign1->is_array() || sign1->items.size() != 4) return make_error(context, "COSE_Sign1 is not an array of 4 items");
  const cbor::Value& protected_item = sign1->items[0];
  const cbor::Value& unprotected = sign1->items[1];
  const cbor::Value& signature = sign1->items[3];
  if (!protected_item.is_bytes() || !unprotected.is_map() || !signature.is_bytes()) {
    return make_error(context, "COSE_Sign1 items have the wrong types");
  }
  LV_ASSIGN_OR_RETURN(cbor::Value headers, cbor::decode(protected_item.string, context + ": protected header"));
  if (!headers.is_map()) return make_error(context, "COSE protected header is not a map");

  CoseVerification out;
  int64_t alg = 0;
  const cbor::Value* alg_item = headers.find(kHeaderAlg);
  if (!alg_item || !alg_item->as_int64(&alg) || alg != kAlgES256) {
    out.problems.push_back("signature algorithm is not ES256 (COSE -7), the only one supported");
    return out;
  }
  const cbor::Value* x5chain = headers.find(kHeaderX5chain);
  if (!x5chain) x5chain = unprotected.find(kHeaderX5chain);
  std::vector<std::string_view> chain_der;
  if (x5chain && x5chain->is_bytes()) {
    chain_der.push_back(x5chain->string);
  } else if (x5chain && x5chain->is_array()) {
    for (const auto& item : x5chain->items) {
      if (!item.is_bytes()) return make_error(context, "x5chain holds an item that is not a byte string");
      chain_der.push_back(item.string);
    }
  }
  if (chain_der.empty()) {
    out.problems.push_back("no signing certificate (x5chain) in the COSE headers");
    return out;
  }
  std::vector<Owned<X509>> chain;
  for (size_t i = 0; i < chain_der.size(); ++i) {
    Owned<X509> cert = x509_from_der(chain_der[i]);
    ERR_clear_error();
    if (!cert) {
      out.problems.push_back("x5chain certificate " + std::to_string(i) + " is not a DER X.509 certificate");
      return out;
    }
    chain.push_back(std::move(cert));
  }
  X509* signer = chain.front().get();
  out.signer_subject = name_text(X509_get_subject_name(signer));
  out.signer_issuer = name_text(X509_get_issuer_name(signer));
  out.self_signed = X509_NAME_cmp(X509_get_subject_name(signer), X509_get_issuer_name(signer)) == 0;

  EVP_PKEY* public_key = X509_get0_pubkey(signer);
  if (!public_key || !is_p256(public_key)) {
    out.problems.push_back("the signing certificate's key is not ECDSA P-256");
    return out;
  }
  if (signature.string.size() != 2 * kP256CoordinateBytes) {
    out.problems.push_back("ES256 signature is " + std::to_string(signature.string.size()) + " bytes, not 64");
    return out;
  }
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.string.data());
  Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(raw + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return Error{"out of memory decoding an ECDSA signature"};
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  const std::string to_be_verified = sig_structure(protected_item.string, payload);
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  out.signature_valid = der_len > 0 && md && EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
                        EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                                         reinterpret_cast<const unsigned char*>(to_be_verified.data()), to_be_verified.size()) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  if (!out.signature_valid) out.problems.push_back("the claim signature does not verify against the signing certificate");

  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (X509_verify(chain[i].get(), X509_get0_pubkey(chain[i + 1].get())) != 1) {
      out.problems.push_back("x5chain certificate " + std::to_string(i) + " is not signed by certificate " + std::to_string(i + 1));
    }
  }
  ERR_clear_error();
  if (X509_cmp_current_time(X509_get0_notBefore(signer)) > 0) out.problems.push_back("the signing certificate is not valid yet");
  if (X509_cmp_current_time(X509_get0_notAfter(signer)) < 0) out.problems.push_back("the signing certificate has expired");
  return out;
}

Result<C2paTestCredentials> make_c2pa_test_credentials(const std::string& common_name, int valid_days) {
  if (valid_days < 1) return Error{"certificate validity must be at least one day"};
  Owned<EVP_PKEY> root_key(EVP_EC_gen("P-256"));
  Owned<EVP_PKEY> signer_key(EVP_EC_gen("P-256"));
  if (!root_key || !signer_key) return Error{"cannot generate a P-256 key: " + openssl_reason()};
  LV_ASSIGN_OR_RETURN(Owned<X509> root, make_certificate(root_key.get(), common_name + " (test root)", nullptr, root_key.get(), true, valid_days));
  LV_ASSIGN_OR_RETURN(Owned<X509> leaf, make_certificate(signer_key.get(), common_name, root.get(), root_key.get(), false, valid_days));

  C2paTestCredentials out;
  Owned<BIO> key_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || PEM_write_bio_PrivateKey(key_bio.get(), signer_key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Error{"cannot write the key as PEM"};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(key_bio.get(), &data);
  out.key_pem.assign(data, static_cast<size_t>(len));
  LV_ASSIGN_OR_RETURN(std::string leaf_pem, pem_of(leaf.get()));
  LV_ASSIGN_OR_RETURN(std::string root_pem, pem_of(root.get()));
  out.chain_pem = leaf_pem + root_pem;
  return out;
}

}  // namespace lv::mark
