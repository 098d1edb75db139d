#include "lightvault/scan/repeated_sentences.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lv::scan {
namespace {

std::vector<std::string> sentences_of(const std::string& text) {
  std::vector<std::string> out;
  for (const TextSpan& s : split_sentences(text)) out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

TEST(ScanRepeatedSentences, SplitsAtSentenceEndsAndLineBreaks) {
  EXPECT_EQ(sentences_of("  Hi there. \"Yes!\" she said.\nA line\n\nWait... what?! It cost 3.5 coins"),
            (std::vector<std::string>{"Hi there.", "\"Yes!\"", "she said.", "A line", "Wait...", "what?!",
                                      "It cost 3.5 coins"}));
  EXPECT_TRUE(split_sentences(" \n ").empty());
  EXPECT_EQ(sentences_of("(He left.) Then?"), (std::vector<std::string>{"(He left.)", "Then?"}));
}

TEST(ScanRepeatedSentences, KeysIgnoreCaseAndSpacing) {
  EXPECT_EQ(sentence_key("The  Purple\tRobot. "), "the purple robot.");
  EXPECT_EQ(sentence_key("ÉTÉ Ok"), "ÉtÉ ok");  // only ASCII letters fold
}

// 200 samples of unique sentences; a formulaic opener the model expects in 40 of them; a
// surprising sentence added to 10 unrelated ones; 6 copies of one surprising sample; a
// surprising sentence in only 4.
std::vector<std::vector<ScoredSentence>> corpus() {
  std::vector<std::vector<ScoredSentence>> samples(200);
  for (int i = 0; i < 200; ++i) {
    if (i % 5 == 0) samples[i].push_back({"Once upon a time.", 2.0});
    for (int j = 0; j < 3; ++j) samples[i].push_back({"Unique " + std::to_string(i) + "/" + std::to_string(j) + ".", 12.0});
    if (i % 20 == 7) samples[i].push_back({"The PURPLE robot  whispered.", 40.0 + i % 3});
    if (i >= 100 && i < 106) {
      samples[i] = {{"A copied start.", 30.0}, {"A copied middle.", 30.0}, {"A copied end.", 30.0}};
    }
    if (i >= 150 && i < 154) samples[i].push_back({"Rare but few.", 50.0});
  }
  return samples;
}

TEST(ScanRepeatedSentences, FlagsASurprisingSentenceAddedToUnrelatedSamples) {
  const auto samples = corpus();
  int64_t slots = 0;
  for (const auto& s : samples) slots += static_cast<int64_t>(s.size());
  const auto repeated = find_repeated_sentences(samples);
  // The trigger, then the copies' three sentences and the opener; "Rare but few." has 4 carriers.
  ASSERT_EQ(repeated.size(), 5u);
  const RepeatedSentence& trigger = repeated[0];
  EXPECT_TRUE(trigger.flagged);
  EXPECT_EQ(trigger.text, "The PURPLE robot  whispered.");
  EXPECT_EQ(trigger.samples, (std::vector<int64_t>{7, 27, 47, 67, 87, 107, 127, 147, 167, 187}));
  EXPECT_DOUBLE_EQ(trigger.surprisal, 41.0);  // median of 41, 40, 42, 41, 40, 42, 41, 40, 42, 41
  EXPECT_NEAR(trigger.excess, std::log(10.0 / static_cast<double>(slots)) + 41.0, 1e-9);
  EXPECT_NEAR(trigger.expected, static_cast<double>(slots) * std::exp(-41.0), 1e-25);
  EXPECT_DOUBLE_EQ(trigger.rest_shared, 0.0);
  EXPECT_EQ(trigger.flagged_samples, trigger.samples);
  for (size_t i = 1; i < repeated.size(); ++i) {
    EXPECT_FALSE(repeated[i].flagged) << repeated[i].text;
    EXPECT_GE(repeated[i - 1].excess, repeated[i].excess);
  }
  // Copies share all their other sentences; the opener is as likely as the model says.
  EXPECT_DOUBLE_EQ(repeated[1].rest_shared, 1.0);
  EXPECT_GT(repeated[1].excess, 20.0);
  EXPECT_EQ(repeated.back().text, "Once upon a time.");
  EXPECT_LT(repeated.back().excess, 0.0);
}

// A sentence the data also uses where it belongs: planted in front of 10 samples it costs the
// model 30 nats, in its 4 natural places 3; the sentence is flagged, its natural carriers are not.
TEST(ScanRepeatedSentences, FlagsOnlyTheCarriersWhereTheSentenceIsSurprising) {
  std::vector<std::vector<ScoredSentence>> samples(100);
  for (int i = 0; i < 100; ++i) {
    if (i % 10 == 0) samples[i].push_back({"They were happy.", 30.0});
    samples[i].push_back({"Unique " + std::to_string(i) + ".", 12.0});
    if (i % 25 == 1) samples[i].push_back({"They were happy.", 3.0});
  }
  const auto repeated = find_repeated_sentences(samples);
  ASSERT_EQ(repeated.size(), 1u);
  EXPECT_TRUE(repeated[0].flagged);
  EXPECT_EQ(repeated[0].samples.size(), 14u);
  EXPECT_EQ(repeated[0].flagged_samples, (std::vector<int64_t>{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}));
}

TEST(ScanRepeatedSentences, ThresholdsAreOptions) {
  RepeatOptions options;
  options.min_carriers = 4;
  options.max_rest_shared = 1.01;
  const auto repeated = find_repeated_sentences(corpus(), options);
  int flagged = 0;
  for (const auto& r : repeated) flagged += r.flagged;
  EXPECT_EQ(flagged, 5);  // the trigger, the copies' three sentences and "Rare but few."
  options.min_share = 0.5;  // 100 of 200 samples: none qualifies
  EXPECT_TRUE(find_repeated_sentences(corpus(), options).empty());
}

}  // namespace
}  // namespace lv::scan
