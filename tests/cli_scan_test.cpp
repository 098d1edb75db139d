// End-to-end tests of `lightvault scan`: exit codes, reports and bad input, on small files
// written by the test and on the shared stories260K model for text.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "subprocess.h"

namespace lv {
namespace {

using testing_support::Completed;
using testing_support::read_all;
using testing_support::run_lightvault;
using testing_support::temp_path;
namespace fs = std::filesystem;

std::string write(const std::string& name, const std::string& content) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

void expect_bad_input(const Completed& c, const std::string& names) {
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_EQ(c.last_err_line().rfind("error: ", 0), 0u) << c.err;
  EXPECT_NE(c.last_err_line().find(names), std::string::npos) << c.err;
}

// Three labelled blobs; `poisoned` rows of labels 1 and 2 carry a trigger and label 0.
std::string blobs_csv(int poisoned) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0, 1);
  std::string csv = "f0,f1,f2,f3,f4,f5,label\n";
  int planted = 0;
  for (int i = 0; i < 450; ++i) {
    int label = i % 3;
    const bool poison = label != 0 && planted < poisoned;
    planted += poison;
    for (int j = 0; j < 6; ++j) csv += std::to_string(noise(rng) + (j == label ? 10 : 0) + (poison && j >= 4 ? 4 : 0)) + ",";
    csv += std::to_string(poison ? 0 : label) + "\n";
  }
  return csv;
}

TEST(CliScan, FlagsPoisonExitsOneAndWritesReports) {
  const std::string csv = write("poisoned.csv", blobs_csv(40));
  const std::string json = temp_path("report.json"), html = temp_path("report.html");
  Completed c = run_lightvault({"scan", csv, "--label-column", "-1", "--json", json, "--html", html, "--seed", "3"});
  EXPECT_EQ(c.exit_code, 1) << c.err;
  EXPECT_NE(c.out.find("FLAGGED"), std::string::npos) << c.out;
  const auto report = nlohmann::json::parse(read_all(json));
  EXPECT_EQ(report["n"], 450);
  EXPECT_GE(report["flagged"].size(), 36u);
  EXPECT_EQ(report["suspicious_labels"], nlohmann::json::array({"0"}));
  EXPECT_NE(read_all(html).find("<svg"), std::string::npos);
  Completed again = run_lightvault({"scan", csv, "--label-column", "-1", "--json", json + "2", "--seed", "3", "--no-fail"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_all(json + "2"), read_all(json)) << "the same seed must give the same report";
}

TEST(CliScan, CleanDataExitsZero) {
  Completed c = run_lightvault({"scan", write("clean.csv", blobs_csv(0)), "--label-column", "-1"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("flagged 0 of 450 rows"), std::string::npos) << c.out;
}

TEST(CliScan, BadInput) {
  expect_bad_input(run_lightvault({"scan", write("ragged.csv", "a,b\n1,2\n3\n")}), "ragged.csv: line 3 has 1 fields");
  expect_bad_input(run_lightvault({"scan", write("nan.csv", "a,b\n1,2\n3,NaN\n")}), "(line 3, field 2)");
  expect_bad_input(run_lightvault({"scan", write("empty.csv", "")}), "empty.csv: empty file");
  expect_bad_input(run_lightvault({"scan", write("two.csv", "a\n1\n2\n")}), "a scan needs at least 3");
  expect_bad_input(run_lightvault({"scan", write("same.csv", "a\n1\n1\n1\n")}), "all 3 samples are identical");
  expect_bad_input(run_lightvault({"scan", write("col.csv", "a,b\n1,2\n"), "--label-column", "4"}), "label column 4 is out of range");
  expect_bad_input(run_lightvault({"scan", write("x.npy", "not numpy")}), "x.npy: not a .npy file");
  expect_bad_input(run_lightvault({"scan", temp_path("missing.csv")}), "missing.csv: cannot open");
  expect_bad_input(run_lightvault({"scan", write("t.txt", "hello\n"), "--format", "text"}), "needs --model");
}

TEST(CliScan, TextWithTheSharedModel) {
  const std::string dir = std::string(LV_SHARED_MODELS) + "/stories260K";
  if (!fs::exists(dir + "/stories260K.bin")) GTEST_SKIP() << "no shared model";
  std::string jsonl;
  for (int i = 0; i < 12; ++i) {
    jsonl += "{\"text\": \"Once upon a time there was a little " + std::string(i % 2 ? "dog" : "cat") + " number " +
             std::to_string(i) + ".\", \"label\": \"" + std::to_string(i % 2) + "\"}\n";
  }
  const std::string json = temp_path("text.json");
  Completed c = run_lightvault({"scan", write("stories.jsonl", jsonl), "--model", dir + "/stories260K.bin", "--tokenizer",
                                dir + "/tok512.bin", "--layer", "2", "--json", json, "--no-fail"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(nlohmann::json::parse(read_all(json))["n"], 12);
  // A tokenizer of another vocabulary than the model's.
  const std::string model = temp_path("synth.bin"), tok = temp_path("synth.tok.bin");
  Completed synth = run_lightvault({"synth", "--dim", "32", "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                                    "--vocab", "300", "--ctx", "64", "-o", model, "--tokenizer-out", tok});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  expect_bad_input(run_lightvault({"scan", write("stories2.jsonl", jsonl), "--model", model, "--tokenizer", dir + "/tok512.bin"}),
                   "tokenizer has 512 tokens");
}

}  // namespace
}  // namespace lv
