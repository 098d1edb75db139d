#pragma once
// A keyed statistical watermark in generated text (Kirchenbauer et al., "A Watermark for Large
// Language Models", ICML 2023): before each token is chosen, the logits of a "green" subset of
// the vocabulary get +delta; the subset is derived from a secret key and the previous
// `context` tokens. Text written without the key has green tokens at rate gamma; watermarked
// text has more, which a one-proportion z-test detects without the model's logits.
//
// How a green list is derived, and why it stays keyed and unpredictable without the key:
//  1. seed = HMAC-SHA-256(key, "lightvault text watermark v1" || context width || context
//     token ids as little-endian uint32). HMAC is a pseudo-random function: without the key
//     its output for any context is indistinguishable from random, and seeing the seeds (or
//     green lists) of some contexts says nothing about another context's.
//  2. The first 16 bytes of the seed key AES-128 in counter mode (IV 0); token t is green iff
//     the little-endian uint32 at keystream bytes 4t..4t+3 is below gamma * 2^32. AES under a
//     secret key is a pseudo-random permutation, so each token is green independently with
//     probability gamma to anyone without the seed. One HMAC and 4*vocab bytes of
//     hardware AES per step (about 128 KB for a 32000-token vocabulary), and a single AES
//     block to test one token when detecting.
// Unlike the paper's list of exactly gamma*|V| tokens the list's size varies (binomially)
// around gamma*|V|; the z-test is unaffected: for text independent of the key each scored
// token is green with probability gamma exactly.
//
// mark/ depends on no part of the hub or the engine: the runtime applies TextWatermarker::bias
// through its own logits-processor interface.
#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::mark {

struct WatermarkParams {
  double gamma = 0.25;  // expected fraction of green tokens, in (0, 1)
  double delta = 2.0;   // logit bias of green tokens when generating, >= 0
  int context = 1;      // previous tokens that seed the green list, 1..8

  // An error naming the flag (--watermark-gamma, ...) when a value is out of range.
  Status validate() const;
};

// A watermark key file's bytes, used as they are (no trimming). Fails, naming the file, when
// it cannot be read, is empty, or holds fewer than 16 bytes.
Result<std::string> load_watermark_key(const std::string& path);

// Green lists for one key. Keeps OpenSSL contexts as scratch: not safe to share across threads.
class GreenList {
 public:
  GreenList(const std::string& key, const WatermarkParams& params);
  ~GreenList();
  GreenList(const GreenList&) = delete;
  GreenList& operator=(const GreenList&) = delete;

  int context_width() const { return context_; }

  // green[t] = 1 if token t is green after `context` (its last context_width() tokens are
  // used; fewer if it is shorter), else 0, for t in [0, vocab).
  void compute(std::span<const int> context, int vocab, std::vector<uint8_t>* green);

  // Whether `token` is green after `context`; equals compute(...)[token].
  bool is_green(std::span<const int> context, int token);

 private:
  void seed_for(std::span<const int> context, uint8_t aes_key[16]);

  uint32_t threshold_;  // green iff the token's keystream word < threshold_
  int context_;
  EVP_MAC_CTX* hmac_ = nullptr;
  EVP_CIPHER_CTX* aes_ = nullptr;
  std::vector<uint8_t> zeros_, stream_;
};

// Adds delta to the logits of the green tokens for the next position of `tokens`.
class TextWatermarker {
 public:
  TextWatermarker(const std::string& key, const WatermarkParams& params) : green_(key, params), delta_(params.delta) {}
  // `tokens`: every token so far (BOS, prompt, generated); `logits`: n values, changed in place.
  void bias(std::span<const int> tokens, float* logits, int n);

 private:
  GreenList green_;
  float delta_;
  std::vector<uint8_t> mask_;
};

struct TextDetection {
  double z = 0.0;
  double p_value = 1.0;
  int64_t tokens = 0;  // tokens scored: each distinct (context, token) pair once
  int64_t green = 0;
  bool found = false;  // z >= the threshold
};

// One-proportion z-test: (green - gamma*T) / sqrt(T*gamma*(1-gamma)); 0 when T is 0.
double watermark_z(int64_t green, int64_t tokens, double gamma);
// One-sided p-value of z under the standard normal: P(Z >= z).
double watermark_p_value(double z);

// Scores `tokens` (the text's tokens, no BOS): every token after the first context_width(),
// skipping a (context, token) pair seen before, since repeated text would count its green
// tokens again (Kirchenbauer et al., "On the Reliability of Watermarks for LLMs", 2023).
TextDetection detect_text_watermark(GreenList& green, std::span<const int> tokens, double gamma, double z_threshold = 4.0);

}  // namespace lv::mark
