#include "lightvault/mark/cose.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lightvault/mark/cbor.h"

namespace lv::mark {
namespace {

C2paSigner test_signer() {
  auto credentials = make_c2pa_test_credentials("cose test");
  EXPECT_TRUE(credentials.ok());
  auto signer = c2pa_signer_from_pem(credentials->key_pem, credentials->chain_pem, "test");
  EXPECT_TRUE(signer.ok()) << signer.error().message;
  return *signer;
}

TEST(CoseSign1, SignsAndVerifiesADetachedPayload) {
  const C2paSigner signer = test_signer();
  auto cose = cose_sign1_es256(signer, "the claim");
  ASSERT_TRUE(cose.ok()) << cose.error().message;
  auto parsed = cbor::decode(*cose, "t");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, cbor::Value::Type::Tag);
  EXPECT_EQ(parsed->number, 18u);
  ASSERT_EQ(parsed->items[0].items.size(), 4u);
  EXPECT_EQ(parsed->items[0].items[2].type, cbor::Value::Type::Null);  // detached
  EXPECT_EQ(parsed->items[0].items[3].string.size(), 64u);              // raw r || s

  auto good = cose_verify_sign1(*cose, "the claim", "sig");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_TRUE(good->signature_valid);
  EXPECT_TRUE(good->problems.empty()) << good->problems.front();
  EXPECT_NE(good->signer_subject.find("CN=cose test"), std::string::npos) << good->signer_subject;
  EXPECT_FALSE(good->self_signed);

  auto other = cose_verify_sign1(*cose, "another claim", "sig");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->signature_valid);
  EXPECT_FALSE(other->problems.empty());

  std::string flipped = *cose;
  flipped[flipped.size() - 5] ^= 0x01;
  auto bad = cose_verify_sign1(flipped, "the claim", "sig");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->signature_valid);
}

TEST(CoseSign1, RejectsWhatIsNotASign1) {
  for (const std::string& bytes : {cbor::encode(cbor::Value::tagged(98, cbor::Value::array({}))),
                                   cbor::encode(cbor::Value::array({cbor::Value::null()})), std::string("\xff")}) {
    EXPECT_FALSE(cose_verify_sign1(bytes, "x", "sig").ok());
  }
}

TEST(C2paCredentials, MeetTheC2paSigningCertificateProfile) {
  auto credentials = make_c2pa_test_credentials("profile test", 30);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(credentials->chain_pem.data(), static_cast<int>(credentials->chain_pem.size())), BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<X509, decltype(&X509_free)> root(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  ASSERT_TRUE(leaf && root);
  EXPECT_EQ(X509_get_version(leaf.get()), 2);  // v3
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_NE(X509_check_ca(root.get()), 0);
  EXPECT_TRUE(X509_get_key_usage(leaf.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(X509_get_key_usage(leaf.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_extended_key_usage(leaf.get()) & XKU_SMIME);
  EXPECT_GE(X509_get_ext_by_NID(leaf.get(), NID_key_usage, -1), 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf.get(), X509_get_ext_by_NID(leaf.get(), NID_key_usage, -1))), 1);
  EXPECT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(leaf.get()), X509_get_issuer_name(leaf.get())), 0);  // not self-signed
  EXPECT_EQ(X509_verify(leaf.get(), X509_get0_pubkey(root.get())), 1);
}

TEST(C2paCredentials, RefusesKeysThatAreNotP256OrDoNotMatch) {
  auto a = make_c2pa_test_credentials("a");
  auto b = make_c2pa_test_credentials("b");
  ASSERT_TRUE(a.ok() && b.ok());
  auto mismatch = c2pa_signer_from_pem(a->key_pem, b->chain_pem, "key.pem, cert.pem");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("key.pem, cert.pem: "), std::string::npos);

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> p384(EVP_EC_gen("P-384"), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(out.get(), p384.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  auto wrong_curve = c2pa_signer_from_pem(std::string(data, static_cast<size_t>(len)), a->chain_pem, "k");
  ASSERT_FALSE(wrong_curve.ok());
  EXPECT_NE(wrong_curve.error().message.find("P-256"), std::string::npos);
  EXPECT_FALSE(c2pa_signer_from_pem("not pem", a->chain_pem, "k").ok());
  EXPECT_FALSE(c2pa_signer_from_pem(a->key_pem, "not pem", "k").ok());
}

}  // namespace
}  // namespace lv::mark
