#include "lightvault/scan/text_embedding.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "lightvault/model/load.h"
#include "lightvault/model/synth.h"
#include "lightvault/runtime/kv_cache.h"
#include "lightvault/runtime/transformer.h"

namespace lv::scan {
namespace {

TEST(ScanTextEmbedding, ParsesBothFormats) {
  auto blank = parse_text_samples("one\ntwo\n\n\nthree\n", "s.txt", TextFormat::kBlankLineSeparated);
  ASSERT_TRUE(blank.ok());
  ASSERT_EQ(blank->size(), 2u);
  EXPECT_EQ((*blank)[0].text, "one\ntwo");
  EXPECT_EQ((*blank)[1].line, 5);
  auto jsonl = parse_text_samples("{\"text\": \"hi\", \"label\": 3}\n\n{\"text\": \"yo\", \"label\": \"x\"}\n", "s.jsonl",
                                  TextFormat::kJsonl);
  ASSERT_TRUE(jsonl.ok());
  EXPECT_EQ((*jsonl)[0].label, "3");
  EXPECT_EQ((*jsonl)[1].label, "x");
  EXPECT_EQ(parse_text_samples("{\"text\": 1}\n", "s.jsonl", TextFormat::kJsonl).error().message,
            "s.jsonl: no string field \"text\" (line 1)");
  EXPECT_EQ(parse_text_samples("{\"text\": \"a\"}\nnot json\n", "s.jsonl", TextFormat::kJsonl).error().message,
            "s.jsonl: not a JSON object (line 2)");
  EXPECT_EQ(parse_text_samples("\n\n", "s.txt", TextFormat::kBlankLineSeparated).error().message, "s.txt: empty file: no samples");
}

Model tiny_model() {
  auto model = synthesize({.dim = 16, .hidden_dim = 32, .n_layers = 2, .n_heads = 2, .n_kv_heads = 2,
                           .vocab_size = 300, .seq_len = 32});
  EXPECT_TRUE(model.ok()) << model.error().message;
  return std::move(model).value();
}

// The residual stream after layers 0..layer of `text`'s tokens (BOS first), by the
// transformer's pieces run by hand: rows × dim.
std::vector<float> hidden_states_by_hand(const Model& model, const std::string& text, int layer) {
  auto tokens = model.tokenizer.encode(text, true);
  EXPECT_TRUE(tokens.ok());
  Transformer t(model);
  Batch batch;
  batch.add(0, tokens->data(), static_cast<int>(tokens->size()), 0);
  KvCache cache(model.config, static_cast<int>(tokens->size()));
  std::vector<KvCache*> caches{&cache};
  std::vector<float> x(tokens->size() * static_cast<size_t>(model.config.dim));
  t.embed(batch, x.data());
  for (int l = 0; l <= layer; ++l) t.run_layer(l, batch, caches, x.data());
  return x;
}

// The embedding is the mean over the tokens after BOS of the residual stream after layer L:
// the same as running the transformer's pieces by hand.
TEST(ScanTextEmbedding, MeanOfTheChosenLayersHiddenStates) {
  const Model model = tiny_model();
  std::vector<TextSample> samples = {{"hello there", "a", 1}, {"a cat sat", "b", 3}, {"hello cat", "a", 5}};
  auto embedded = embed_samples(model, samples, 0, Pooling::kMean, "s.txt");
  ASSERT_TRUE(embedded.ok()) << embedded.error().message;
  const Dataset* data = &embedded->data;
  EXPECT_EQ(data->rows, 3);
  EXPECT_EQ(data->dim, 16);
  EXPECT_EQ(data->labels, (std::vector<int>{0, 1, 0}));

  const std::vector<float> x = hidden_states_by_hand(model, "a cat sat", 0);
  const size_t rows = x.size() / 16;
  for (int d = 0; d < 16; ++d) {
    double mean = 0;
    for (size_t i = 1; i < rows; ++i) mean += x[i * 16 + d];
    mean /= static_cast<double>(rows - 1);
    EXPECT_NEAR(data->row(1)[d], mean, 1e-5 * (1 + std::abs(mean)));
  }
  EXPECT_EQ(embed_samples(model, samples, 2, Pooling::kMean, "s.txt").error().message,
            "s.txt: --layer 2 is out of range: the model has 2 layers");
}

// Max pooling keeps each coordinate's largest value over the tokens after BOS; mean+max is the mean's
// columns followed by the max's.
TEST(ScanTextEmbedding, MaxAndMeanMaxPooling) {
  const Model model = tiny_model();
  std::vector<TextSample> samples = {{"hello there", "", 1}, {"a cat sat on the mat", "", 3}};
  auto mean_text = embed_samples(model, samples, 1, Pooling::kMean, "s.txt");
  auto max_text = embed_samples(model, samples, 1, Pooling::kMax, "s.txt");
  auto both_text = embed_samples(model, samples, 1, Pooling::kMeanMax, "s.txt");
  ASSERT_TRUE(mean_text.ok() && max_text.ok() && both_text.ok());
  const Dataset *mean = &mean_text->data, *max = &max_text->data, *both = &both_text->data;
  EXPECT_EQ(max->dim, 16);
  EXPECT_EQ(both->dim, 32);
  EXPECT_FALSE(max->has_labels());

  const std::vector<float> x = hidden_states_by_hand(model, "a cat sat on the mat", 1);
  for (int d = 0; d < 16; ++d) {
    float top = x[16 + d];  // after BOS
    for (size_t i = 2; i < x.size() / 16; ++i) top = std::max(top, x[i * 16 + d]);
    EXPECT_FLOAT_EQ(max->row(1)[d], top);
    EXPECT_FLOAT_EQ(both->row(1)[16 + d], top);
    EXPECT_FLOAT_EQ(both->row(1)[d], mean->row(1)[d]);
  }
  auto parsed = parse_pooling("mean+max");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, Pooling::kMeanMax);
  EXPECT_STREQ(pooling_name(Pooling::kMax), "max");
  EXPECT_EQ(parse_pooling("sum").error().message, "--pool: 'sum' is not one of mean, max, mean+max");
}

// Each sentence's surprisal is the negative log-likelihood of its tokens from the same forward
// pass as the rows: over a sample, the sentences add up to every token after BOS that prints
// something other than spaces and line breaks, computed here from the full forward pass's logits.
TEST(ScanTextEmbedding, SentencesCarryTheSurprisalOfTheirTokens) {
  const Model model = tiny_model();
  const std::string text = "hello there. a cat sat!\nthe end";
  auto embedded = embed_samples(model, {{text, "", 1}, {"a cat", "", 2}}, 0, Pooling::kMean, "s.txt");
  ASSERT_TRUE(embedded.ok()) << embedded.error().message;
  ASSERT_EQ(embedded->sentences.size(), 2u);
  const auto& sentences = embedded->sentences[0];
  ASSERT_EQ(sentences.size(), 3u);
  EXPECT_EQ(sentences[0].text, "hello there.");
  EXPECT_EQ(sentences[1].text, "a cat sat!");
  EXPECT_EQ(sentences[2].text, "the end");

  auto tokens = model.tokenizer.encode(text, true);
  ASSERT_TRUE(tokens.ok());
  const std::vector<float> x = hidden_states_by_hand(model, text, model.config.n_layers() - 1);
  std::vector<int> rows;
  for (int r = 0; r + 1 < static_cast<int>(tokens->size()); ++r) rows.push_back(r);
  const int vocab = model.config.vocab_size;
  std::vector<float> logits(rows.size() * static_cast<size_t>(vocab));
  Transformer(model).compute_logits(x.data(), rows, logits.data());
  double expected = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int next = (*tokens)[r + 1];
    if (model.tokenizer.decode((*tokens)[r], next).find_first_not_of(" \n") == std::string::npos) continue;
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(logits[r * vocab + v]));
    expected += std::log(sum) - logits[r * vocab + next];
  }
  double total = 0;
  for (const auto& s : sentences) {
    EXPECT_GT(s.surprisal, 0.0) << s.text;
    total += s.surprisal;
  }
  EXPECT_NEAR(total, expected, 1e-4 * expected);
  // Without sentences the rows are the same and no sentence is scored.
  auto rows_only = embed_samples(model, {{text, "", 1}, {"a cat", "", 2}}, 0, Pooling::kMean, "s.txt", {}, false);
  ASSERT_TRUE(rows_only.ok());
  EXPECT_TRUE(rows_only->sentences.empty());
  EXPECT_EQ(rows_only->data.values, embedded->data.values);
}

}  // namespace
}  // namespace lv::scan
