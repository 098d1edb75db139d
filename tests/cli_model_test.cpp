// End-to-end tests of the model commands: the real binary on real and synthetic models.
#include <gtest/gtest.h>

#include <cstring>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "subprocess.h"

namespace lv {
namespace {

using testing_support::Completed;
using testing_support::read_all;
using testing_support::run_lightvault;
using testing_support::temp_path;
namespace fs = std::filesystem;

const std::string kShared = LV_SHARED_MODELS;

void expect_bad_input(const Completed& c, const std::string& names) {
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_EQ(c.last_err_line().rfind("error: ", 0), 0u) << c.err;
  EXPECT_NE(c.last_err_line().find(names), std::string::npos) << c.err;
}

class SharedModelTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = kShared + "/" + GetParam();
    if (!fs::exists(dir_ + "/" + GetParam() + ".bin")) GTEST_SKIP() << "no shared model at " << dir_;
  }
  std::string dir_;
};

TEST_P(SharedModelTest, GreedyGenerationMatchesLlama2cReference) {
  Completed c = run_lightvault({"run", dir_ + "/" + GetParam() + ".bin", "--tokenizer", dir_ + "/tok512.bin", "-p",
                                "Once upon a time", "-n", "100", "--temp", "0"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, read_all(dir_ + "/greedy_once_upon_a_time.txt"));
  EXPECT_NE(c.last_err_line().find("prefill: "), std::string::npos);
  EXPECT_NE(c.last_err_line().find(" tok/s, decode: "), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Models, SharedModelTest, testing::Values("stories260K", "aidreams260K"));

class CliBadInputTest : public testing::Test {
 protected:
  void SetUp() override {
    model_ = temp_path("cli.bin");
    tok_ = temp_path("cli.tok.bin");
    Completed c = run_lightvault({"synth", "--dim", "32", "--hidden", "64", "--layers", "2", "--heads", "4",
                                  "--kv-heads", "2", "--vocab", "300", "--ctx", "64", "-o", model_, "--tokenizer-out", tok_});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  std::string model_, tok_;
};

TEST_F(CliBadInputTest, SynthesizedModelRuns) {
  Completed c = run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "hello", "-n", "20", "--temp", "0.8", "--seed", "7"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  Completed again = run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "hello", "-n", "20", "--temp", "0.8", "--seed", "7"});
  EXPECT_EQ(c.out, again.out) << "the same seed must give the same text";
}

TEST_F(CliBadInputTest, NonUtf8Prompt) {
  expect_bad_input(run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "caf\xe9", "-n", "8"}), "prompt: not valid UTF-8 (offset 3)");
}

TEST_F(CliBadInputTest, TruncatedModel) {
  fs::resize_file(model_, fs::file_size(model_) / 2);
  expect_bad_input(run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "hi"}), model_ + ": truncated");
}

TEST_F(CliBadInputTest, MissingFile) {
  expect_bad_input(run_lightvault({"eval", temp_path("nope.bin"), "--text", tok_}), "nope.bin: no such file");
}

TEST_F(CliBadInputTest, TokenizerOfAnotherVocabulary) {
  std::string tok = kShared + "/stories260K/tok512.bin";
  if (!fs::exists(tok)) GTEST_SKIP() << "no shared tokenizer";
  expect_bad_input(run_lightvault({"run", model_, "--tokenizer", tok, "-p", "hi"}), "tokenizer has 512 tokens");
}

TEST_F(CliBadInputTest, AbsurdDimensions) {
  std::string bytes = read_all(model_);
  int32_t huge = INT32_MAX;
  std::memcpy(bytes.data(), &huge, 4);
  std::ofstream(model_, std::ios::binary | std::ios::trunc) << bytes;
  expect_bad_input(run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "hi"}), "invalid dim = 2147483647");
}

TEST_F(CliBadInputTest, GgufFileWithAWrongMagic) {
  std::string gguf = temp_path("cli.gguf");
  ASSERT_EQ(run_lightvault({"convert", model_, "--tokenizer", tok_, "-o", gguf}).exit_code, 0);
  std::string bytes = read_all(gguf);
  bytes[3] = 'X';
  std::ofstream(gguf, std::ios::binary | std::ios::trunc) << bytes;
  expect_bad_input(run_lightvault({"inspect", gguf}), gguf + ": not a GGUF file: magic is 'GGUX'");
}

}  // namespace
}  // namespace lv
