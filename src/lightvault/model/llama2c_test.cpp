#include "lightvault/model/llama2c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lightvault/model/load.h"
#include "lightvault/model/synth.h"

namespace lv {
namespace {

std::string temp_path(const std::string& name) {
  // ctest runs tests in parallel processes: keep their files apart.
  return (std::filesystem::path(testing::TempDir()) / (std::to_string(getpid()) + "-" + name)).string();
}

void expect_same_tensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.rows, b.rows);
  ASSERT_EQ(a.cols, b.cols);
  EXPECT_EQ(to_f32(a), to_f32(b));
}

TEST(Llama2cTest, RoundTripsModelAndTokenizer) {
  for (bool shared : {true, false}) {
    SynthSpec spec;
    spec.n_heads = 4;
    spec.n_kv_heads = 2;
    spec.shared_classifier = shared;
    auto model = synthesize(spec);
    ASSERT_TRUE(model.ok()) << model.error().message;
    std::string path = temp_path("rt.bin"), tok = temp_path("rt.tok.bin");
    ASSERT_TRUE(save_llama2c(*model, path, tok).ok());
    auto back = load_model(path, LoadOptions{tok});
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->shared_classifier, shared);
    EXPECT_EQ(back->config.layers[1].n_kv_heads, 2);
    expect_same_tensor(back->token_embedding, model->token_embedding);
    expect_same_tensor(back->classifier, model->classifier);
    for (size_t l = 0; l < model->layers.size(); ++l) {
      expect_same_tensor(back->layers[l].wq, model->layers[l].wq);
      expect_same_tensor(back->layers[l].wk, model->layers[l].wk);
      expect_same_tensor(back->layers[l].w_down, model->layers[l].w_down);
    }
    EXPECT_EQ(back->tokenizer.pieces(), model->tokenizer.pieces());
    EXPECT_EQ(back->tokenizer.scores(), model->tokenizer.scores());
  }
}

// Writes a copy of a valid checkpoint with header field `field` set to `value`.
std::string with_header_field(const std::string& src, int field, int32_t value) {
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::memcpy(bytes.data() + 4 * field, &value, 4);
  std::string path = temp_path("bad.bin");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

class Llama2cBadInputTest : public testing::Test {
 protected:
  void SetUp() override {
    auto model = synthesize(SynthSpec{});
    ASSERT_TRUE(model.ok());
    good_ = temp_path("good.bin");
    tok_ = temp_path("good.tok.bin");
    ASSERT_TRUE(save_llama2c(*model, good_, tok_).ok());
  }
  std::string error_of(const std::string& path, const std::string& tok = "") {
    auto m = load_model(path, LoadOptions{tok});
    return m.ok() ? "" : m.error().message;
  }
  std::string good_, tok_;
};

TEST_F(Llama2cBadInputTest, AbsurdDimensions) {
  std::string path = with_header_field(good_, 0, 1 << 30);
  EXPECT_NE(error_of(path).find(path + ": invalid dim"), std::string::npos) << error_of(path);
  path = with_header_field(good_, 1, INT32_MAX);
  EXPECT_NE(error_of(path).find("invalid hidden_dim = 2147483647"), std::string::npos) << error_of(path);
}

TEST_F(Llama2cBadInputTest, ZeroHeadsAndIndivisibleKvHeads) {
  std::string path = with_header_field(good_, 3, 0);
  EXPECT_NE(error_of(path).find("invalid n_heads = 0"), std::string::npos) << error_of(path);
  path = with_header_field(good_, 4, 3);
  EXPECT_NE(error_of(path).find("n_kv_heads = 3 does not divide n_heads = 4"), std::string::npos) << error_of(path);
}

TEST_F(Llama2cBadInputTest, Truncated) {
  std::filesystem::resize_file(good_, std::filesystem::file_size(good_) - 100);
  EXPECT_NE(error_of(good_).find(good_ + ": truncated"), std::string::npos) << error_of(good_);
  std::filesystem::resize_file(good_, 10);
  EXPECT_NE(error_of(good_).find("shorter than the 28-byte header"), std::string::npos);
}

TEST_F(Llama2cBadInputTest, TokenizerVocabularyMismatch) {
  SynthSpec other;
  other.vocab_size = 300;
  auto small = synthesize(other);
  ASSERT_TRUE(small.ok());
  std::string tok = temp_path("small.tok.bin");
  ASSERT_TRUE(save_llama2c(*small, temp_path("small.bin"), tok).ok());
  EXPECT_NE(error_of(good_, tok).find(tok + ": tokenizer has 300 tokens"), std::string::npos) << error_of(good_, tok);
}

TEST_F(Llama2cBadInputTest, TruncatedTokenizer) {
  std::filesystem::resize_file(tok_, std::filesystem::file_size(tok_) - 3);
  EXPECT_NE(error_of(good_, tok_).find(tok_ + ": truncated"), std::string::npos) << error_of(good_, tok_);
}

}  // namespace
}  // namespace lv
