#pragma once
// Thin, misuse-resistant wrappers over OpenSSL 3 EVP: SHA-256, HMAC-SHA256, HKDF-SHA256,
// AES-256-GCM, random bytes, hex/base64 and constant-time comparison. No other crypto code
// exists in lightvault; everything else calls these.
//
// Contracts:
//  - Hash/HMAC/HKDF functions cannot fail for valid inputs; an internal OpenSSL failure (only
//    possible on memory exhaustion) aborts the process with a message instead of returning a
//    wrong digest.
//  - AEAD and random functions return Status: an authentication failure is an Error whose
//    message says "authentication failed" (callers add the blob/file context).
//  - Keys are fixed-size arrays (Key256); callers wipe them with secure_zero when done.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/util/status.h"

struct evp_cipher_ctx_st;
struct evp_md_ctx_st;
struct evp_mac_ctx_st;

namespace lv::hub::crypto {

inline constexpr size_t kKeySize = 32;       // AES-256 / HMAC-SHA256 key
inline constexpr size_t kGcmNonceSize = 12;  // 96-bit GCM nonce
inline constexpr size_t kGcmTagSize = 16;    // 128-bit GCM tag
inline constexpr size_t kSha256Size = 32;

using Bytes = std::vector<uint8_t>;
using Key256 = std::array<uint8_t, kKeySize>;
using Digest = std::array<uint8_t, kSha256Size>;
using Nonce = std::array<uint8_t, kGcmNonceSize>;
using ByteView = std::span<const uint8_t>;

// Views the bytes of a string (no copy).
inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Fills `out` from the OpenSSL CSPRNG (RAND_bytes). Error only if the RNG is unavailable.
Status random_bytes(uint8_t* out, size_t n);
Result<Key256> random_key();

// One-shot SHA-256.
Digest sha256(ByteView data);
// Its lowercase hex (64 characters).
std::string sha256_hex(std::string_view data);
// `bytes` random bytes as lowercase hex, for names and ids; aborts if the RNG is unavailable.
std::string random_hex(size_t bytes);

// Incremental SHA-256 (for streaming uploads). Not copyable; movable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(ByteView data);
  // Returns the digest; the object is reset and may be reused afterwards.
  Digest finish();

 private:
  evp_md_ctx_st* ctx_ = nullptr;
};

// One-shot HMAC-SHA256 (EVP_MAC "HMAC", digest SHA256). Any key length is allowed.
Digest hmac_sha256(ByteView key, ByteView data);

// Incremental HMAC-SHA256 over several pieces (avoids concatenating buffers).
class HmacSha256 {
 public:
  explicit HmacSha256(ByteView key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  void update(ByteView data);
  Digest finish();  // single use: construct a new object for the next MAC

 private:
  evp_mac_ctx_st* ctx_ = nullptr;
};

// HKDF-SHA256 (RFC 5869, extract-then-expand). `length` <= 255*32.
Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length);
// Convenience: a 32-byte key from HKDF.
Key256 hkdf_key(ByteView ikm, ByteView salt, ByteView info);

// AES-256-GCM with a reusable context (the key schedule is computed once). One object must
// not be used by two threads at the same time; create one per thread/stream.
class Aes256Gcm {
 public:
  explicit Aes256Gcm(const Key256& key);
  ~Aes256Gcm();
  Aes256Gcm(const Aes256Gcm&) = delete;
  Aes256Gcm& operator=(const Aes256Gcm&) = delete;

  // Encrypts `plaintext` into `out`, which must hold plaintext.size() + kGcmTagSize bytes:
  // ciphertext followed by the 16-byte tag. `out` may alias `plaintext` exactly (in place).
  Status seal(const Nonce& nonce, ByteView aad, ByteView plaintext, uint8_t* out);
  // Decrypts `sealed` (ciphertext || tag, at least kGcmTagSize bytes) into `out`, which must
  // hold sealed.size() - kGcmTagSize bytes. Returns Error "authentication failed" when the tag
  // does not verify; `out` then holds garbage that the caller must not use.
  Status open(const Nonce& nonce, ByteView aad, ByteView sealed, uint8_t* out);

 private:
  evp_cipher_ctx_st* ctx_ = nullptr;
  Key256 key_{};
};

// One-shot helpers returning new buffers (small data such as wrapped keys).
Result<Bytes> aes256gcm_seal(const Key256& key, const Nonce& nonce, ByteView aad, ByteView plaintext);
Result<Bytes> aes256gcm_open(const Key256& key, const Nonce& nonce, ByteView aad, ByteView sealed);

// Lowercase hex.
std::string hex_encode(ByteView data);
// Accepts upper- or lowercase hex; errors name the offending offset.
Result<Bytes> hex_decode(std::string_view hex);
// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(ByteView data);
// Accepts standard or URL-safe alphabet, padding optional; whitespace is not allowed.
Result<Bytes> base64_decode(std::string_view b64);

// Constant-time comparison (CRYPTO_memcmp); false when sizes differ.
bool ct_equal(ByteView a, ByteView b);
// Wipes memory in a way the compiler cannot elide (OPENSSL_cleanse).
void secure_zero(void* p, size_t n);

// True for exactly 64 lowercase hex digits (the canonical form of a SHA-256 in lightvault).
bool is_sha256_hex(std::string_view s);

}  // namespace lv::hub::crypto
