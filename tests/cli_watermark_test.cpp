// End-to-end tests of the text watermark and labels: `run --watermark-key` generates, `detect`
// finds the mark in what was printed, `mark` labels a file. On the shared stories260K model
// when present (the figures), otherwise on a synthetic model the test writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace lv {
namespace {

using testing_support::Completed;
using testing_support::read_all;
using testing_support::run_lightvault;
namespace fs = std::filesystem;

const std::string kShared = LV_SHARED_MODELS;
const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog", "Lily wanted to", "One day, a boy named Tom",
                                           "The sun was shining"};

class CliWatermarkTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(testing::TempDir()) / ("wm-" + std::to_string(getpid()))).string();
    fs::create_directories(dir_);
    if (fs::exists(kShared + "/stories260K/stories260K.bin")) {
      model_ = kShared + "/stories260K/stories260K.bin";
      tok_ = kShared + "/stories260K/tok512.bin";
      shared_ = true;
    } else {
      model_ = file("synth.bin");
      tok_ = file("synth.tok.bin");
      Completed c = run_lightvault({"synth", "--dim", "32", "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                                    "--vocab", "512", "--ctx", "256", "-o", model_, "--tokenizer-out", tok_});
      ASSERT_EQ(c.exit_code, 0) << c.err;
    }
    key_ = write("key", "a 32-byte watermark key for tests");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(file(name), std::ios::binary) << bytes;
    return file(name);
  }

  std::string generate(const std::string& prompt, const std::string& temp, int seed, bool with_key, int steps = 256) {
    std::vector<std::string> args = {"run", model_, "--tokenizer", tok_, "-p", prompt, "-n", std::to_string(steps),
                                     "--temp", temp, "--seed", std::to_string(seed)};
    if (with_key) args.insert(args.end(), {"--watermark-key", key_});
    Completed c = run_lightvault(args);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return c.out;
  }

  Completed detect(const std::string& path, const std::string& key) {
    return run_lightvault({"detect", path, "--model", model_, "--tokenizer", tok_, "--watermark-key", key, "--json"});
  }
  nlohmann::json detect_text(const std::string& text) {
    Completed c = detect(write("text.txt", text), key_);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return nlohmann::json::parse(c.out)["text_watermark"];
  }

  std::string dir_, model_, tok_, key_;
  bool shared_ = false;
};

void expect_bad_input(const Completed& c, const std::string& names) {
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_EQ(c.last_err_line().rfind("error: ", 0), 0u) << c.err;
  EXPECT_NE(c.last_err_line().find(names), std::string::npos) << c.err;
}

TEST_F(CliWatermarkTest, SampledTextWithTheKeyIsFoundAndTextWithoutItIsNot) {
  int found = 0;
  double largest_unmarked = -1e9;
  std::vector<size_t> lengths;
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    std::string marked = generate(kPrompts[i], "0.8", 100 + static_cast<int>(i), true);
    nlohmann::json m = detect_text(marked);
    found += m["found"].get<bool>();
    std::string plain = generate(kPrompts[i], "0.8", 100 + static_cast<int>(i), false);
    nlohmann::json p = detect_text(plain);
    EXPECT_LT(p["z"].get<double>(), 4.0) << plain;
    largest_unmarked = std::max(largest_unmarked, p["z"].get<double>());
    lengths.push_back(plain.size());
    std::printf("prompt %zu: with key z = %.2f (%d tokens), without z = %.2f\n", i, m["z"].get<double>(), m["tokens"].get<int>(),
                p["z"].get<double>());
  }
  EXPECT_GE(found, 4);
  if (!shared_) return;
  // Human TinyStories text of the generations' lengths, read past the first stories.
  std::string human = read_all(kShared + "/text/tinystories_valid_a.txt");
  size_t at = human.size() / 2;
  for (size_t length : lengths) {
    size_t start = human.find("\n\n", at) + 2;
    std::string text = human.substr(start, length);
    at = start + length;
    double z = detect_text(text)["z"].get<double>();
    EXPECT_LT(z, 4.0) << text;
    std::printf("human text of %zu bytes: z = %.2f\n", text.size(), z);
    largest_unmarked = std::max(largest_unmarked, z);
  }
  std::printf("largest z without the key (generations and human text): %.2f\n", largest_unmarked);
}

TEST_F(CliWatermarkTest, GreedyTextWithTheKeyIsFound) {
  std::string text = generate("Once upon a time", "0", 1, true);
  nlohmann::json d = detect_text(text);
  std::printf("greedy, 256 positions: z = %.2f over %d scored tokens\n", d["z"].get<double>(), d["tokens"].get<int>());
  EXPECT_TRUE(d["found"].get<bool>()) << text;
  EXPECT_NE(text, generate("Once upon a time", "0", 1, false)) << "the bias changes greedy choices";
}

TEST_F(CliWatermarkTest, AnotherKeyFindsNothing) {
  std::string marked = write("marked.txt", generate(kPrompts[0], "0.8", 7, true));
  Completed c = detect(marked, write("other.key", "another key of sufficient length"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_LT(nlohmann::json::parse(c.out)["text_watermark"]["z"].get<double>(), 4.0);
}

TEST_F(CliWatermarkTest, ReportIsTheDocumentedJson) {
  nlohmann::json report = nlohmann::json::parse(detect(write("t.txt", "The cat sat on the mat."), key_).out);
  ASSERT_EQ(report.size(), 1u);
  const auto& t = report["text_watermark"];
  EXPECT_EQ(t.size(), 5u);
  EXPECT_TRUE(t["z"].is_number_float() && t["p_value"].is_number_float());
  EXPECT_TRUE(t["tokens"].is_number_integer() && t["green"].is_number_integer() && t["found"].is_boolean());
  Completed plain = run_lightvault({"detect", file("t.txt"), "--model", model_, "--tokenizer", tok_, "--watermark-key", key_});
  EXPECT_EQ(plain.out.rfind("text watermark: not found (z = ", 0), 0u) << plain.out;
}

TEST_F(CliWatermarkTest, BadInputIsAClearErrorOrNoMark) {
  expect_bad_input(detect(write("empty.txt", ""), key_), "empty.txt: empty file");
  expect_bad_input(detect(write("bin", std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10)), key_), "bin: binary data");
  expect_bad_input(detect(write("latin1.txt", "caf\xe9 au lait"), key_), "latin1.txt: not valid UTF-8 (offset 3)");
  expect_bad_input(detect(write("i.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16)), key_), "i.png: PNG: truncated PNG data");
  expect_bad_input(detect(write("t.txt", "Once upon a time"), write("empty.key", "")), "empty.key: watermark key file is empty");
  expect_bad_input(detect(file("t.txt"), file("no.key")), "no.key: cannot open");
  expect_bad_input(detect(file("t.txt"), dir_), dir_);
  expect_bad_input(run_lightvault({"detect", file("t.txt"), "--watermark-key", key_}), "needs --model");
  expect_bad_input(run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "hi", "--watermark-key", key_, "--watermark-gamma", "1.5"}),
                   "--watermark-gamma");
  // Another language: the byte tokens carry no mark, so z stays near 0.
  nlohmann::json chinese = detect_text("从前，有一个小女孩，她住在森林旁边的一座小房子里。她每天都去河边看鱼。有一天，她看见一只很大的鸟。");
  EXPECT_LT(std::abs(chinese["z"].get<double>()), 4.0);
  EXPECT_GT(chinese["tokens"].get<int>(), 50);
}

TEST_F(CliWatermarkTest, LabelsGoAtTheStartOrTheEnd) {
  std::string story = write("story.txt", "Once upon a time there was a cat.\n");
  ASSERT_EQ(run_lightvault({"mark", story, "-o", file("out.txt")}).exit_code, 0);
  EXPECT_EQ(read_all(file("out.txt")), "【AI生成】\nOnce upon a time there was a cat.\n");
  Completed again = run_lightvault({"mark", file("out.txt"), "-o", file("out.txt")});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(read_all(file("out.txt")), "【AI生成】\nOnce upon a time there was a cat.\n") << "labelled once";
  ASSERT_EQ(run_lightvault({"mark", story, "-o", file("end.txt"), "--label", "AI合成", "--label-position", "end"}).exit_code, 0);
  EXPECT_EQ(read_all(file("end.txt")), "Once upon a time there was a cat.\nAI合成\n");
  Completed odd = run_lightvault({"mark", story, "-o", file("odd.txt"), "--label", "made by a machine"});
  EXPECT_EQ(odd.exit_code, 0);
  EXPECT_NE(odd.err.find("warning: --label does not say"), std::string::npos);
  expect_bad_input(run_lightvault({"mark", write("e.txt", ""), "-o", file("x.txt")}), "e.txt: empty file");
  expect_bad_input(run_lightvault({"mark", story, "-o", file("x.txt"), "--label-position", "middle"}), "--label-position");
  EXPECT_FALSE(fs::exists(file("x.txt")));

  Completed run = run_lightvault({"run", model_, "--tokenizer", tok_, "-p", "Once", "-n", "8", "--temp", "0", "--label"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("【AI生成】\nOnce", 0), 0u) << run.out;
  Completed end = run_lightvault(
      {"run", model_, "--tokenizer", tok_, "-p", "Once", "-n", "8", "--temp", "0", "--label", "AI生成", "--label-position", "end"});
  ASSERT_EQ(end.exit_code, 0) << end.err;
  EXPECT_TRUE(end.out.ends_with("\nAI生成\n")) << end.out;
}

}  // namespace
}  // namespace lv
