#include "lightvault/scan/scanner.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "lightvault/scan/report.h"

namespace lv::scan {
namespace {

// Three labels, each a blob of 200 rows in 8 dimensions; `poisoned` rows of labels 1 and 2
// get a trigger (a shift in the last two dimensions) and label 0.
Dataset blobs(int poisoned, std::set<int64_t>* truth) {
  std::mt19937_64 rng(21);
  std::normal_distribution<float> noise(0, 1);
  Dataset d;
  d.source = "blobs";
  d.dim = 8;
  for (const char* name : {"a", "b", "c"}) d.label_id(name);
  for (int64_t i = 0; i < 600; ++i) {
    const int label = static_cast<int>(i % 3);
    for (int j = 0; j < d.dim; ++j) d.values.push_back(noise(rng) + (j == label ? 10.0f : 0.0f));
    d.labels.push_back(label);
  }
  d.rows = 600;
  int planted = 0;
  for (int64_t i = 0; i < d.rows && planted < poisoned; ++i) {
    if (d.labels[i] == 0) continue;
    d.values[i * d.dim + 6] += 4;
    d.values[i * d.dim + 7] += 4;
    d.labels[i] = 0;
    truth->insert(i);
    ++planted;
  }
  return d;
}

TEST(ScanScanner, FindsPlantedGroupAndLeavesCleanDataAlone) {
  std::set<int64_t> truth;
  const Dataset poisoned = blobs(40, &truth);
  auto report = run_scan(poisoned, ScanOptions{});
  ASSERT_TRUE(report.ok()) << report.error().message;
  int hits = 0;
  for (const auto& f : report->flagged) {
    hits += truth.count(f.index) > 0;
    EXPECT_FALSE(f.reasons.empty());
  }
  EXPECT_GE(hits, 36);
  EXPECT_LE(static_cast<int>(report->flagged.size()) - hits, 4);
  EXPECT_EQ(report->suspicious_labels, (std::vector<std::string>{"a"}));

  std::set<int64_t> none;
  auto clean = run_scan(blobs(0, &none), ScanOptions{});
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->flagged.empty()) << report_table(*clean);
}

// Labels the features hardly separate (two overlapping blobs, labelled by which side of the
// middle a row was drawn on, then a fifth of the labels swapped) put every group's shift ratio
// near 1, random groups' too: nothing is evidence of poison, nothing is flagged.
TEST(ScanScanner, LabelsTheFeaturesHardlySeparateFlagNothing) {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  Dataset d;
  d.source = "overlap";
  d.dim = 8;
  for (const char* name : {"left", "right"}) d.label_id(name);
  for (int64_t i = 0; i < 600; ++i) {
    const int side = static_cast<int>(i % 2);
    for (int j = 0; j < d.dim; ++j) d.values.push_back(noise(rng) + (j == 0 ? (side ? 0.6f : -0.6f) : 0.0f));
    d.labels.push_back(uniform(rng) < 0.2 ? 1 - side : side);
  }
  d.rows = 600;
  for (uint64_t seed : {1, 2, 3}) {
    ScanOptions options;
    options.seed = seed;
    auto report = run_scan(d, options);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->flagged.empty()) << "seed " << seed << "\n" << report_table(*report);
  }
}

TEST(ScanScanner, FindsAGroupAsLargeAsTheCleanRowsOfItsLabel) {
  // 180 planted rows against 200 clean ones in label a: not a minority, yet the half of a's
  // 2-means split that is other labels plus one shift.
  std::set<int64_t> truth;
  const Dataset poisoned = blobs(180, &truth);
  auto report = run_scan(poisoned, ScanOptions{});
  ASSERT_TRUE(report.ok()) << report.error().message;
  int hits = 0;
  for (const auto& f : report->flagged) hits += truth.count(f.index) > 0;
  EXPECT_GE(hits, 170) << report_table(*report);
  EXPECT_LE(static_cast<int>(report->flagged.size()) - hits, 10) << report_table(*report);
}

TEST(ScanScanner, SameSeedSameReport) {
  std::set<int64_t> truth;
  const Dataset d = blobs(40, &truth);
  ScanOptions options;
  options.seed = 5;
  auto a = run_scan(d, options), b = run_scan(d, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(report_json(*a).dump(), report_json(*b).dump());
  EXPECT_EQ(a->assignment, b->assignment);
}

TEST(ScanScanner, ClassicMethodsFlagAShareOfEveryLabel) {
  std::set<int64_t> none;
  ScanOptions options;
  options.method = Method::kSignature;
  auto report = run_scan(blobs(0, &none), options);
  ASSERT_TRUE(report.ok());
  // Tran et al.'s rule removes 1.5 eps of every label, poisoned or not.
  EXPECT_EQ(report->suspicious_labels.size(), 3u);
  EXPECT_NEAR(static_cast<double>(report->flagged.size()), 600 * 1.5 * options.expected_poison, 3.0);
}

TEST(ScanScanner, ReportsNameTheKeysAndEmbedNoRequests) {
  std::set<int64_t> truth;
  auto report = run_scan(blobs(40, &truth), ScanOptions{});
  ASSERT_TRUE(report.ok());
  const auto j = report_json(*report);
  EXPECT_EQ(j["n"], 600);
  ASSERT_FALSE(j["flagged"].empty());
  EXPECT_TRUE(j["flagged"][0].contains("index"));
  EXPECT_TRUE(j["flagged"][0].contains("score"));
  EXPECT_TRUE(j["flagged"][0]["reasons"].is_array());
  EXPECT_TRUE(j["clusters"].is_array());
  EXPECT_EQ(j["suspicious_labels"], nlohmann::json::array({"a"}));
  const std::string html = report_html(*report, "blobs<x>");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("blobs&lt;x&gt;"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

// A flagged repeated sentence flags its flagged carriers beside the rows the clustering flagged,
// in index order, and names the label they share; an unflagged one only sits in the report.
TEST(ScanScanner, RepeatedSentencesJoinTheFlaggedRows) {
  ScanReport report;
  report.n = 8;
  report.label_names = {"boy", "girl"};
  report.labels = {0, 1, 0, 1, 0, 1, 0, 1};
  report.flagged = {FlaggedRow{3, 2.0, {"clustered"}}, FlaggedRow{6, 1.0, {"clustered"}}};
  RepeatedSentence trigger;
  trigger.text = "The purple robot whispered.";
  trigger.samples = {1, 3, 5, 7};
  trigger.surprisals = {40.0, 41.0, 42.0, 3.0};
  trigger.excess = 30.0;
  trigger.flagged = true;
  trigger.flagged_samples = {1, 3, 5};  // where it is surprising
  RepeatedSentence opener;
  opener.text = "Once upon a time.";
  opener.samples = {0, 2, 4};
  add_repeated_sentences({trigger, opener}, report);
  ASSERT_EQ(report.flagged.size(), 4u);
  std::vector<int64_t> rows;
  for (const auto& f : report.flagged) rows.push_back(f.index);
  EXPECT_EQ(rows, (std::vector<int64_t>{1, 3, 5, 6}));
  EXPECT_EQ(report.flagged[1].reasons.size(), 2u);
  EXPECT_EQ(report.flagged[1].reasons[0], "clustered");
  EXPECT_EQ(report.flagged[1].reasons[1],
            "carries the sentence \"The purple robot whispered.\", as 3 other samples do: e^30.0 times as often as the "
            "model expects; here it costs the model 41.0 nats");
  EXPECT_DOUBLE_EQ(report.flagged[1].score, 30.0);
  EXPECT_EQ(report.flagged[3].reasons, std::vector<std::string>{"clustered"});
  EXPECT_EQ(report.suspicious_labels, std::vector<std::string>{"girl"});
  ASSERT_EQ(report.repeated_sentences.size(), 2u);
  const auto j = report_json(report);
  EXPECT_EQ(j["repeated_sentences"][0]["samples"], nlohmann::json::array({1, 3, 5}));
  EXPECT_EQ(j["repeated_sentences"][0]["carriers"], 4);
  EXPECT_FALSE(j["repeated_sentences"][1].contains("samples"));
  EXPECT_NE(report_table(report).find("FLAGGED: \"The purple robot whispered.\""), std::string::npos);
}

}  // namespace
}  // namespace lv::scan
