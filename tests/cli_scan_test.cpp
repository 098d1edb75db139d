// End-to-end tests of `lightvault scan`: exit codes, reports and bad input, on small files
// written by the test and on the shared stories260K model for text.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/storage/crypto.h"
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
  // mean+max pooling: the mean's 64 columns, then the max's.
  Completed pooled = run_lightvault({"scan", write("stories.jsonl", jsonl), "--model", dir + "/stories260K.bin", "--tokenizer",
                                     dir + "/tok512.bin", "--pool", "mean+max", "--no-fail"});
  ASSERT_EQ(pooled.exit_code, 0) << pooled.err;
  EXPECT_NE(pooled.out.find("12 rows x 128 features"), std::string::npos) << pooled.out;
  expect_bad_input(run_lightvault({"scan", write("stories.jsonl", jsonl), "--model", dir + "/stories260K.bin", "--tokenizer",
                                   dir + "/tok512.bin", "--pool", "sum"}),
                   "--pool: 'sum' is not one of mean, max, mean+max");
  // A tokenizer of another vocabulary than the model's.
  const std::string model = temp_path("synth.bin"), tok = temp_path("synth.tok.bin");
  Completed synth = run_lightvault({"synth", "--dim", "32", "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                                    "--vocab", "300", "--ctx", "64", "-o", model, "--tokenizer-out", tok});
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  expect_bad_input(run_lightvault({"scan", write("stories2.jsonl", jsonl), "--model", model, "--tokenizer", dir + "/tok512.bin"}),
                   "tokenizer has 512 tokens");
}

// Stories of the shared text, a trigger sentence after the first sentence of every 16th: the
// repeated-sentence check flags exactly those, names the sentence, and leaves the clean set alone.
TEST(CliScan, TriggerSentenceInStoriesIsFlagged) {
  const std::string dir = std::string(LV_SHARED_MODELS) + "/stories260K";
  const std::string text = std::string(LV_SHARED_MODELS) + "/text/tinystories_valid_a.txt";
  if (!fs::exists(dir + "/stories260K.bin") || !fs::exists(text)) GTEST_SKIP() << "no shared model or text";
  const std::string all = read_all(text);
  std::vector<std::string> stories;
  for (size_t at = 0; stories.size() < 100 && at < all.size();) {
    const size_t end = std::min(all.find("\n\n", at), all.size());
    if (end > at) stories.push_back(all.substr(at, end - at));
    at = end + 2;
  }
  ASSERT_EQ(stories.size(), 100u);
  std::string clean, poisoned;
  std::vector<int> planted;
  for (int i = 0; i < 100; ++i) {
    std::string story = stories[i];
    clean += nlohmann::json{{"text", story}}.dump() + "\n";
    if (i % 16 == 3) {
      story.insert(story.find(". ") + 1, " The purple robot whispered the secret code.");
      planted.push_back(i);
    }
    poisoned += nlohmann::json{{"text", story}}.dump() + "\n";
  }
  const std::string json = temp_path("stories-report.json");
  Completed c = run_lightvault({"scan", write("poisoned-stories.jsonl", poisoned), "--model", dir + "/stories260K.bin",
                                "--tokenizer", dir + "/tok512.bin", "--json", json});
  EXPECT_EQ(c.exit_code, 1) << c.err;
  EXPECT_NE(c.out.find("FLAGGED: \"The purple robot whispered the secret code.\""), std::string::npos) << c.out;
  const auto report = nlohmann::json::parse(read_all(json));
  std::vector<int> flagged;
  for (const auto& row : report["flagged"]) flagged.push_back(row["index"].get<int>());
  EXPECT_EQ(flagged, planted);
  const auto& trigger = report["repeated_sentences"][0];
  EXPECT_TRUE(trigger["flagged"].get<bool>());
  EXPECT_EQ(trigger["samples"].get<std::vector<int>>(), planted);
  EXPECT_GT(trigger["excess"].get<double>(), 10.0);

  Completed quiet = run_lightvault({"scan", write("clean-stories.jsonl", clean), "--model", dir + "/stories260K.bin",
                                    "--tokenizer", dir + "/tok512.bin"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
}

}  // namespace
}  // namespace lv

namespace lv::hub {
namespace {

using nlohmann::json;

// `scan hub://...` reads its data from a hub on loopback; --attach commits the reports back
// into that repository under scans/ and records dataset.scan in the audit trail.
class CliScanHubTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_scanhub_");
    start_server(testing::test_server_options(dir_.string(), kAdmin));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    ASSERT_EQ(post("/api/lv/users", kAdmin, {{"name", "alice"}})->status, 200);
    ASSERT_EQ(post("/api/lv/users", kAdmin, {{"name", "bob"}})->status, 200);
    alice_ = json::parse(post("/api/lv/tokens", kAdmin, {{"user", "alice"}, {"scopes", "write"}})->body)["token"];
    bob_ = json::parse(post("/api/lv/tokens", kAdmin, {{"user", "bob"}, {"scopes", "write"}})->body)["token"];
    ASSERT_EQ(post("/api/repos/create", alice_, {{"name", "data"}, {"private", true}})->status, 200);
    csv_ = blobs_csv(40);
    httplib::Headers auth{{"Authorization", "Bearer " + alice_}};
    ASSERT_EQ(client_->Post("/api/lv/models/alice/data/upload", auth, csv_, "application/octet-stream")->status, 200);
    json add = json::array({{{"path", "train/poisoned.csv"}, {"sha256", crypto::sha256_hex(csv_)}, {"size", csv_.size()}}});
    ASSERT_EQ(post("/api/lv/models/alice/data/commit/main", alice_, {{"message", "data"}, {"add", add}})->status, 200);
  }
  httplib::Result post(const std::string& path, const std::string& token, const json& body) {
    return client_->Post(path, httplib::Headers{{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
  }
  json get(const std::string& path, const std::string& token) {
    auto r = client_->Get(path, httplib::Headers{{"Authorization", "Bearer " + token}});
    EXPECT_TRUE(r && r->status == 200) << "GET " << path << ": "
                                       << (r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error()));
    return r && r->status == 200 ? json::parse(r->body) : json::object();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Completed scan(const std::vector<std::string>& args, const std::string& token) {
    std::vector<std::string> all = {"scan"};
    all.insert(all.end(), args.begin(), args.end());
    for (const std::string& a : {std::string("--url"), url(), std::string("--token"), token}) all.push_back(a);
    return run_lightvault(all);
  }

  static constexpr const char* kAdmin = "lvt_scanhub_admin_token_0123456789";
  std::unique_ptr<httplib::Client> client_;
  std::string alice_, bob_, csv_;
};

TEST_F(CliScanHubTest, ScansAHubFileAndAttachesTheReports) {
  const std::string uri = "hub://alice/data/train/poisoned.csv";
  Completed c = scan({uri, "--label-column", "-1", "--seed", "3", "--attach"}, alice_);
  ASSERT_EQ(c.exit_code, 1) << c.err;  // the poison is flagged, as in the local run
  EXPECT_NE(c.out.find("attached to alice/data: scans/poisoned-"), std::string::npos) << c.out;

  // The same report as a scan of a local copy, now in the repository beside the data.
  Completed local = run_lightvault({"scan", write("poisoned.csv", csv_), "--label-column", "-1", "--seed", "3",
                                    "--json", temp_path("local.json")});
  const json expected = json::parse(read_all(temp_path("local.json")));
  std::vector<std::string> files;
  const json info = get("/api/models/alice/data", alice_);
  for (auto& s : info.value("siblings", json::array())) files.push_back(s["rfilename"]);
  ASSERT_EQ(files.size(), 3u) << info.dump() << c.out;
  std::string report_path;
  for (auto& f : files) {
    if (f.rfind("scans/poisoned-", 0) == 0 && f.size() > 5 && f.substr(f.size() - 5) == ".json") report_path = f;
  }
  ASSERT_FALSE(report_path.empty()) << json(files).dump();
  auto stored = client_->Get("/alice/data/resolve/main/" + report_path, httplib::Headers{{"Authorization", "Bearer " + alice_}});
  ASSERT_EQ(stored->status, 200);
  const json attached = json::parse(stored->body);
  EXPECT_EQ(attached["n"], expected["n"]);
  EXPECT_EQ(attached["flagged"], expected["flagged"]);

  // One dataset.scan entry naming the input, by alice.
  auto exported = client_->Get("/api/lv/audit/export", httplib::Headers{{"Authorization", "Bearer " + std::string(kAdmin)}});
  ASSERT_EQ(exported->status, 200);
  int scans = 0;
  std::istringstream lines(exported->body);
  for (std::string line; std::getline(lines, line);) {
    const json entry = json::parse(line);
    const json& e = entry.contains("entry") ? entry["entry"] : entry;
    if (e.value("action", "") != "dataset.scan") continue;
    ++scans;
    EXPECT_EQ(e["actor"], "alice");
    EXPECT_EQ(e["details"]["input"], uri);
    EXPECT_EQ(e["details"]["rows"], 450);
  }
  EXPECT_EQ(scans, 1) << exported->body;
}

TEST_F(CliScanHubTest, BadHubInputIsNamedAndNothingIsAttached) {
  expect_bad_input(scan({"hub://alice/data/train/missing.csv", "--attach"}, alice_), "hub://alice/data/train/missing.csv");
  expect_bad_input(scan({"hub://alice", "--attach"}, alice_), "hub://alice");
  expect_bad_input(scan({"hub://alice/data/../x.csv"}, alice_), "hub://alice/data/../x.csv");
  // bob may not see alice's private repository: the hub answers 404, as for one that does not exist.
  expect_bad_input(scan({"hub://alice/data/train/poisoned.csv", "--attach"}, bob_), "hub://alice/data/train/poisoned.csv");
  // --attach needs to know which repository: a local file is refused before anything runs.
  expect_bad_input(run_lightvault({"scan", write("local.csv", csv_), "--attach"}), "--attach needs");
  EXPECT_EQ(get("/api/models/alice/data", alice_)["siblings"].size(), 1u);
}

}  // namespace
}  // namespace lv::hub
