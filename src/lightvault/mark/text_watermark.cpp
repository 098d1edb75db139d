#include "lightvault/mark/text_watermark.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_set>

#include "lightvault/util/text.h"

namespace lv::mark {
namespace {

constexpr std::string_view kDomain = "lightvault text watermark v1";
constexpr int kMaxContext = 8;
constexpr size_t kMinKeyBytes = 16;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fatal: OpenSSL %s failed\n", what);
  std::abort();
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

Status WatermarkParams::validate() const {
  if (!(gamma > 0.0 && gamma < 1.0)) return make_error("--watermark-gamma", "must be between 0 and 1 (exclusive)");
  if (!(delta >= 0.0 && delta <= 100.0)) return make_error("--watermark-delta", "must be between 0 and 100");
  if (context < 1 || context > kMaxContext) {
    return make_error("--watermark-context", "must be between 1 and " + std::to_string(kMaxContext));
  }
  return Status::Ok();
}

Result<std::string> load_watermark_key(const std::string& path) {
  LV_ASSIGN_OR_RETURN(std::string key, read_file(path));
  if (key.empty()) return make_error(path, "watermark key file is empty");
  if (key.size() < kMinKeyBytes) {
    return make_error(path, "watermark key is " + std::to_string(key.size()) + " bytes; at least " +
                                std::to_string(kMinKeyBytes) + " are needed (e.g. head -c 32 /dev/urandom > KEY)");
  }
  return key;
}

GreenList::GreenList(const std::string& key, const WatermarkParams& params)
    : threshold_(static_cast<uint32_t>(std::min(std::ldexp(std::clamp(params.gamma, 0.0, 1.0), 32), 4294967295.0))),
      context_(std::clamp(params.context, 1, kMaxContext)) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) die("EVP_MAC_fetch(HMAC)");
  hmac_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (!hmac_) die("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(hmac_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), p) != 1) die("EVP_MAC_init");
  aes_ = EVP_CIPHER_CTX_new();
  if (!aes_ || EVP_EncryptInit_ex(aes_, EVP_aes_128_ctr(), nullptr, nullptr, nullptr) != 1) die("EVP_EncryptInit_ex");
}

GreenList::~GreenList() {
  EVP_MAC_CTX_free(hmac_);
  EVP_CIPHER_CTX_free(aes_);
}

void GreenList::seed_for(std::span<const int> context, uint8_t aes_key[16]) {
  if (context.size() > static_cast<size_t>(context_)) context = context.subspan(context.size() - context_);
  std::string message(kDomain);
  message.push_back(static_cast<char>(context_));
  for (int token : context) put_u32(message, static_cast<uint32_t>(token));
  uint8_t seed[32];
  size_t len = 0;
  // Re-initializing without a key keeps the key set in the constructor.
  if (EVP_MAC_init(hmac_, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(hmac_, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      EVP_MAC_final(hmac_, seed, &len, sizeof seed) != 1 || len != sizeof seed) {
    die("HMAC-SHA-256");
  }
  std::memcpy(aes_key, seed, 16);
}

void GreenList::compute(std::span<const int> context, int vocab, std::vector<uint8_t>* green) {
  uint8_t key[16];
  seed_for(context, key);
  const size_t bytes = static_cast<size_t>(std::max(vocab, 0)) * 4;
  if (zeros_.size() < bytes) {
    zeros_.assign(bytes, 0);
    stream_.resize(bytes);
  }
  const uint8_t iv[16] = {};
  int out_len = 0;
  if (EVP_EncryptInit_ex(aes_, nullptr, nullptr, key, iv) != 1 ||
      EVP_EncryptUpdate(aes_, stream_.data(), &out_len, zeros_.data(), static_cast<int>(bytes)) != 1) {
    die("AES-128-CTR");
  }
  green->resize(static_cast<size_t>(std::max(vocab, 0)));
  for (int t = 0; t < vocab; ++t) (*green)[t] = get_u32(&stream_[4 * static_cast<size_t>(t)]) < threshold_;
}

bool GreenList::is_green(std::span<const int> context, int token) {
  if (token < 0) return false;
  uint8_t key[16];
  seed_for(context, key);
  // The keystream block holding token t's word is block t/4: a counter-mode IV of t/4
  // (big-endian, as CTR increments it) gives that block alone.
  uint8_t iv[16] = {};
  const uint32_t block = static_cast<uint32_t>(token) / 4;
  for (int i = 0; i < 4; ++i) iv[15 - i] = static_cast<uint8_t>(block >> (8 * i));
  const uint8_t zeros[16] = {};
  uint8_t out[16];
  int out_len = 0;
  if (EVP_EncryptInit_ex(aes_, nullptr, nullptr, key, iv) != 1 || EVP_EncryptUpdate(aes_, out, &out_len, zeros, 16) != 1) {
    die("AES-128-CTR");
  }
  return get_u32(&out[4 * (token % 4)]) < threshold_;
}

void TextWatermarker::bias(std::span<const int> tokens, float* logits, int n) {
  green_.compute(tokens, n, &mask_);
  for (int t = 0; t < n; ++t) {
    if (mask_[t]) logits[t] += delta_;
  }
}

double watermark_z(int64_t green, int64_t tokens, double gamma) {
  if (tokens <= 0) return 0.0;
  const double t = static_cast<double>(tokens);
  return (static_cast<double>(green) - gamma * t) / std::sqrt(t * gamma * (1.0 - gamma));
}

double watermark_p_value(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

TextDetection detect_text_watermark(GreenList& green, std::span<const int> tokens, double gamma, double z_threshold) {
  TextDetection d;
  const size_t width = static_cast<size_t>(green.context_width());
  std::unordered_set<std::string> seen;
  std::string pair;
  for (size_t i = width; i < tokens.size(); ++i) {
    pair.clear();
    for (size_t j = i - width; j <= i; ++j) put_u32(pair, static_cast<uint32_t>(tokens[j]));
    if (!seen.insert(pair).second) continue;
    ++d.tokens;
    if (green.is_green(tokens.subspan(i - width, width), tokens[i])) ++d.green;
  }
  d.z = watermark_z(d.green, d.tokens, gamma);
  d.p_value = watermark_p_value(d.z);
  d.found = d.tokens > 0 && d.z >= z_threshold;
  return d;
}

}  // namespace lv::mark
