#include "lightvault/hub/storage/crypto.h"

#include <gtest/gtest.h>

namespace lv::hub::crypto {
namespace {

Bytes hex(std::string_view s) { return hex_decode(s).value(); }

TEST(Crypto, Sha256KnownVectors) {
  EXPECT_EQ(hex_encode(sha256(as_bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_encode(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update(as_bytes("a"));
  h.update(as_bytes("bc"));
  EXPECT_EQ(h.finish(), sha256(as_bytes("abc")));
  // reusable after finish
  h.update(as_bytes("abc"));
  EXPECT_EQ(h.finish(), sha256(as_bytes("abc")));
}

TEST(Crypto, HmacRfc4231Case2) {
  EXPECT_EQ(hex_encode(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  HmacSha256 h(as_bytes("Jefe"));
  h.update(as_bytes("what do ya want "));
  h.update(as_bytes("for nothing?"));
  EXPECT_EQ(hex_encode(h.finish()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HkdfRfc5869Case1) {
  Bytes ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  Bytes salt = hex("000102030405060708090a0b0c");
  Bytes info = hex("f0f1f2f3f4f5f6f7f8f9");
  EXPECT_EQ(hex_encode(hkdf_sha256(ikm, salt, info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Crypto, GcmRoundTripAndTamper) {
  Key256 key = random_key().value();
  Nonce nonce{};
  nonce[11] = 1;
  std::string msg = "attack at dawn";
  auto sealed = aes256gcm_seal(key, nonce, as_bytes("aad"), as_bytes(msg)).value();
  ASSERT_EQ(sealed.size(), msg.size() + kGcmTagSize);
  auto opened = aes256gcm_open(key, nonce, as_bytes("aad"), sealed).value();
  EXPECT_EQ(std::string(opened.begin(), opened.end()), msg);
  EXPECT_FALSE(aes256gcm_open(key, nonce, as_bytes("aaD"), sealed).ok());
  sealed[0] ^= 1;
  auto bad = aes256gcm_open(key, nonce, as_bytes("aad"), sealed);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("authentication failed"), std::string::npos);
  EXPECT_FALSE(aes256gcm_open(key, nonce, {}, Bytes(5)).ok());
  // Known answer: NIST GCM test case 13 (zero key, zero IV, empty plaintext).
  Key256 zero{};
  Nonce zn{};
  EXPECT_EQ(hex_encode(aes256gcm_seal(zero, zn, {}, {}).value()), "530f8afbc74536b9a963b4f1c4cb738b");
  // In place.
  Aes256Gcm g(key);
  Bytes buf(msg.begin(), msg.end());
  buf.resize(msg.size() + kGcmTagSize);
  ASSERT_TRUE(g.seal(nonce, {}, ByteView(buf.data(), msg.size()), buf.data()).ok());
  Bytes out(msg.size());
  ASSERT_TRUE(g.open(nonce, {}, buf, out.data()).ok());
  EXPECT_EQ(std::string(out.begin(), out.end()), msg);
}

TEST(Crypto, Encodings) {
  Bytes data = {0x00, 0xff, 0x10, 0x7f, 0x80};
  EXPECT_EQ(hex_decode(hex_encode(data)).value(), data);
  EXPECT_FALSE(hex_decode("abc").ok());
  EXPECT_FALSE(hex_decode("zz").ok());
  EXPECT_EQ(base64_encode(as_bytes("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(as_bytes("fo")), "Zm8=");
  for (size_t n = 0; n < 10; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + 1);
    EXPECT_EQ(base64_decode(base64_encode(b)).value(), b);
  }
  EXPECT_FALSE(base64_decode("Zm9v!mFy").ok());
  EXPECT_TRUE(is_sha256_hex(hex_encode(sha256(as_bytes("x")))));
  EXPECT_FALSE(is_sha256_hex("ABC"));
  EXPECT_TRUE(ct_equal(as_bytes("abc"), as_bytes("abc")));
  EXPECT_FALSE(ct_equal(as_bytes("abc"), as_bytes("abd")));
  EXPECT_FALSE(ct_equal(as_bytes("abc"), as_bytes("ab")));
}

}  // namespace
}  // namespace lv::hub::crypto
