#include "lightvault/hub/storage/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace lv::hub::crypto {
namespace {

[[noreturn]] void die(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  std::fprintf(stderr, "fatal: OpenSSL %s failed: %s\n", what, buf);
  std::abort();
}

std::string openssl_error(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {0};
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string("OpenSSL ") + what + " failed" + (e ? std::string(": ") + buf : std::string());
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) die("EVP_MD_fetch(SHA256)");
    return m;
  }();
  return md;
}

const EVP_CIPHER* gcm_cipher() {
  static const EVP_CIPHER* c = [] {
    EVP_CIPHER* ci = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (!ci) die("EVP_CIPHER_fetch(AES-256-GCM)");
    return ci;
  }();
  return c;
}

EVP_MAC* hmac_mac() {
  static EVP_MAC* m = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!mac) die("EVP_MAC_fetch(HMAC)");
    return mac;
  }();
  return m;
}

// GCM updates take int lengths; feed large buffers in chunks.
constexpr size_t kMaxChunk = size_t(1) << 30;

}  // namespace

Status random_bytes(uint8_t* out, size_t n) {
  while (n > 0) {
    size_t k = n > kMaxChunk ? kMaxChunk : n;
    if (RAND_bytes(out, static_cast<int>(k)) != 1) return Error{openssl_error("RAND_bytes")};
    out += k;
    n -= k;
  }
  return Status::Ok();
}

Result<Key256> random_key() {
  Key256 k{};
  LV_RETURN_IF_ERROR(random_bytes(k.data(), k.size()));
  return k;
}

// ---- SHA-256 ----

Digest sha256(ByteView data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string sha256_hex(std::string_view data) {
  Digest d = sha256(as_bytes(data));
  return hex_encode(d);
}

std::string random_hex(size_t bytes) {
  Bytes raw(bytes);
  if (!random_bytes(raw.data(), raw.size()).ok()) die("RAND_bytes");
  return hex_encode(raw);
}

Sha256::Sha256() {
  ctx_ = EVP_MD_CTX_new();
  if (!ctx_ || EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) != 1) die("EVP_DigestInit_ex2");
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

Sha256::Sha256(Sha256&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

void Sha256::update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) die("EVP_DigestUpdate");
}

Digest Sha256::finish() {
  Digest d{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_, d.data(), &n) != 1 || n != d.size()) die("EVP_DigestFinal_ex");
  if (EVP_DigestInit_ex2(ctx_, sha256_md(), nullptr) != 1) die("EVP_DigestInit_ex2");
  return d;
}

// ---- HMAC ----

HmacSha256::HmacSha256(ByteView key) {
  ctx_ = EVP_MAC_CTX_new(hmac_mac());
  if (!ctx_) die("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  if (EVP_MAC_init(ctx_, k, key.size(), params) != 1) die("EVP_MAC_init(HMAC)");
}

HmacSha256::~HmacSha256() { EVP_MAC_CTX_free(ctx_); }

void HmacSha256::update(ByteView data) {
  if (data.empty()) return;
  if (EVP_MAC_update(ctx_, data.data(), data.size()) != 1) die("EVP_MAC_update");
}

Digest HmacSha256::finish() {
  Digest d{};
  size_t n = 0;
  if (EVP_MAC_final(ctx_, d.data(), &n, d.size()) != 1 || n != d.size()) die("EVP_MAC_final");
  return d;
}

Digest hmac_sha256(ByteView key, ByteView data) {
  HmacSha256 h(key);
  h.update(data);
  return h.finish();
}

// ---- HKDF ----

Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length) {
  if (length == 0 || length > 255 * kSha256Size) die("HKDF length");
  static EVP_KDF* kdf = [] {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    if (!k) die("EVP_KDF_fetch(HKDF)");
    return k;
  }();
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  if (!kctx) die("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  static uint8_t kEmpty = 0;
  OSSL_PARAM params[5];
  int i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[i++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, ikm.empty() ? &kEmpty : const_cast<uint8_t*>(ikm.data()), ikm.size());
  params[i++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_SALT, salt.empty() ? &kEmpty : const_cast<uint8_t*>(salt.data()), salt.size());
  params[i++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, info.empty() ? &kEmpty : const_cast<uint8_t*>(info.data()), info.size());
  params[i++] = OSSL_PARAM_construct_end();
  Bytes out(length);
  if (EVP_KDF_derive(kctx, out.data(), out.size(), params) != 1) die("EVP_KDF_derive(HKDF)");
  EVP_KDF_CTX_free(kctx);
  return out;
}

Key256 hkdf_key(ByteView ikm, ByteView salt, ByteView info) {
  Bytes b = hkdf_sha256(ikm, salt, info, kKeySize);
  Key256 k{};
  std::memcpy(k.data(), b.data(), k.size());
  secure_zero(b.data(), b.size());
  return k;
}

// ---- AES-256-GCM ----

Aes256Gcm::Aes256Gcm(const Key256& key) : key_(key) {
  ctx_ = EVP_CIPHER_CTX_new();
  if (!ctx_) die("EVP_CIPHER_CTX_new");
}

Aes256Gcm::~Aes256Gcm() {
  EVP_CIPHER_CTX_free(ctx_);
  secure_zero(key_.data(), key_.size());
}

Status Aes256Gcm::seal(const Nonce& nonce, ByteView aad, ByteView plaintext, uint8_t* out) {
  if (EVP_EncryptInit_ex2(ctx_, gcm_cipher(), key_.data(), nonce.data(), nullptr) != 1)
    return Error{openssl_error("EVP_EncryptInit_ex2")};
  int len = 0;
  for (size_t off = 0; off < aad.size();) {
    size_t k = std::min(aad.size() - off, kMaxChunk);
    if (EVP_EncryptUpdate(ctx_, nullptr, &len, aad.data() + off, static_cast<int>(k)) != 1)
      return Error{openssl_error("EVP_EncryptUpdate(aad)")};
    off += k;
  }
  size_t written = 0;
  for (size_t off = 0; off < plaintext.size();) {
    size_t k = std::min(plaintext.size() - off, kMaxChunk);
    if (EVP_EncryptUpdate(ctx_, out + written, &len, plaintext.data() + off, static_cast<int>(k)) != 1)
      return Error{openssl_error("EVP_EncryptUpdate")};
    written += static_cast<size_t>(len);
    off += k;
  }
  if (EVP_EncryptFinal_ex(ctx_, out + written, &len) != 1)
    return Error{openssl_error("EVP_EncryptFinal_ex")};
  written += static_cast<size_t>(len);
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize), out + written) != 1)
    return Error{openssl_error("EVP_CTRL_GCM_GET_TAG")};
  return Status::Ok();
}

Status Aes256Gcm::open(const Nonce& nonce, ByteView aad, ByteView sealed, uint8_t* out) {
  if (sealed.size() < kGcmTagSize) return Error{"authentication failed (ciphertext shorter than the tag)"};
  size_t ct_len = sealed.size() - kGcmTagSize;
  if (EVP_DecryptInit_ex2(ctx_, gcm_cipher(), key_.data(), nonce.data(), nullptr) != 1)
    return Error{openssl_error("EVP_DecryptInit_ex2")};
  int len = 0;
  for (size_t off = 0; off < aad.size();) {
    size_t k = std::min(aad.size() - off, kMaxChunk);
    if (EVP_DecryptUpdate(ctx_, nullptr, &len, aad.data() + off, static_cast<int>(k)) != 1)
      return Error{openssl_error("EVP_DecryptUpdate(aad)")};
    off += k;
  }
  size_t written = 0;
  for (size_t off = 0; off < ct_len;) {
    size_t k = std::min(ct_len - off, kMaxChunk);
    if (EVP_DecryptUpdate(ctx_, out + written, &len, sealed.data() + off, static_cast<int>(k)) != 1)
      return Error{openssl_error("EVP_DecryptUpdate")};
    written += static_cast<size_t>(len);
    off += k;
  }
  uint8_t tag[kGcmTagSize];
  std::memcpy(tag, sealed.data() + ct_len, kGcmTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) != 1)
    return Error{openssl_error("EVP_CTRL_GCM_SET_TAG")};
  if (EVP_DecryptFinal_ex(ctx_, out + written, &len) != 1) {
    ERR_clear_error();
    return Error{"authentication failed"};
  }
  return Status::Ok();
}

Result<Bytes> aes256gcm_seal(const Key256& key, const Nonce& nonce, ByteView aad, ByteView plaintext) {
  Aes256Gcm g(key);
  Bytes out(plaintext.size() + kGcmTagSize);
  LV_RETURN_IF_ERROR(g.seal(nonce, aad, plaintext, out.data()));
  return out;
}

Result<Bytes> aes256gcm_open(const Key256& key, const Nonce& nonce, ByteView aad, ByteView sealed) {
  if (sealed.size() < kGcmTagSize) return Error{"authentication failed (ciphertext shorter than the tag)"};
  Aes256Gcm g(key);
  Bytes out(sealed.size() - kGcmTagSize);
  Status st = g.open(nonce, aad, sealed, out.data());
  if (!st.ok()) {
    secure_zero(out.data(), out.size());
    return st.error();
  }
  return out;
}

// ---- encodings ----

std::string hex_encode(ByteView data) {
  static const char* kDigits = "0123456789abcdef";
  std::string s(data.size() * 2, '0');
  for (size_t i = 0; i < data.size(); ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 15];
  }
  return s;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<Bytes> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return Error{"hex string has odd length " + std::to_string(hex.size())};
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error{"invalid hex digit at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1)};
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string base64_encode(ByteView data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8 | data[i + 2];
    s += kAlphabet[v >> 18];
    s += kAlphabet[(v >> 12) & 63];
    s += kAlphabet[(v >> 6) & 63];
    s += kAlphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(data[i]) << 16;
    s += kAlphabet[v >> 18];
    s += kAlphabet[(v >> 12) & 63];
    s += "==";
  } else if (rest == 2) {
    uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8;
    s += kAlphabet[v >> 18];
    s += kAlphabet[(v >> 12) & 63];
    s += kAlphabet[(v >> 6) & 63];
    s += '=';
  }
  return s;
}

Result<Bytes> base64_decode(std::string_view b64) {
  while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
  if (b64.size() % 4 == 1) return Error{"invalid base64 length"};
  Bytes out;
  out.reserve(b64.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < b64.size(); ++i) {
    char c = b64[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else return Error{"invalid base64 character at offset " + std::to_string(i)};
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return Error{"invalid base64 (non-zero padding bits)"};
  return out;
}

bool ct_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_zero(void* p, size_t n) {
  if (p && n) OPENSSL_cleanse(p, n);
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace lv::hub::crypto
