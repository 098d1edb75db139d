#pragma once
// Text samples as rows: each sample is run through a language model in lightvault's engine,
// and its row pools, over its tokens, the hidden states after layer L (the residual stream
// leaving that block), so samples that share a trigger sentence share a direction.
// Pooling (--pool): the mean (default) weighs a trigger by its share of the sample's tokens;
// the coordinate-wise max keeps a trigger's extreme coordinates whatever the sample's length;
// mean+max concatenates both (2 x dim columns). On TinyStories with a trigger sentence
// max-pooled earlier layers put the poisoned stories nearer each other than the mean does, but
// not far enough from the clean ones to form a cut-off cluster; the sentences' surprisal, from
// the same forward pass, is what finds the trigger (repeated_sentences.h).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/model/model.h"
#include "lightvault/scan/dataset.h"
#include "lightvault/scan/repeated_sentences.h"
#include "lightvault/util/status.h"

namespace lv::scan {

enum class TextFormat {
  kBlankLineSeparated,  // samples separated by one or more blank lines, no labels
  kJsonl,               // one JSON object a line: "text" (string), optional "label"
};

struct TextSample {
  std::string text;
  std::string label;  // empty when none
  int64_t line = 0;   // where the sample starts, for messages
};

Result<std::vector<TextSample>> parse_text_samples(std::string_view content, const std::string& source, TextFormat format);

enum class Pooling {
  kMean,     // mean over tokens: dim columns
  kMax,      // coordinate-wise max over tokens: dim columns
  kMeanMax,  // the mean, then the max: 2 x dim columns
};
Result<Pooling> parse_pooling(const std::string& name);  // "mean", "max" or "mean+max"
const char* pooling_name(Pooling pooling);

struct TextEmbeddingOptions {
  std::string model, tokenizer;
  int layer = -1;  // 0-based; -1 the last
  Pooling pooling = Pooling::kMean;
  bool sentences = true;  // also score the sentences (EmbeddedText::sentences)
  std::function<void(int64_t done, int64_t total)> progress;
};

// What the model made of the samples: the rows to cluster and each sample's sentences with
// their surprisal (repeated_sentences.h).
struct EmbeddedText {
  Dataset data;
  std::vector<std::vector<ScoredSentence>> sentences;  // per sample; empty when not asked for
};

// Rows of model.config.dim floats (2 x dim for mean+max), one per sample, pooled over the
// sample's tokens after BOS (BOS's state is the same in every sample); labels from the samples
// when all have one. With `with_sentences`, the same forward pass runs on past `layer` to the
// logits and scores every sentence that lies wholly within the model's context (seq_len tokens).
// Fails when the tokenizer does not cover the text (most of a sample's tokens unknown) or a
// token lies outside the model's vocabulary.
Result<EmbeddedText> embed_samples(const Model& model, const std::vector<TextSample>& samples, int layer,
                                   Pooling pooling, const std::string& source,
                                   const std::function<void(int64_t, int64_t)>& progress = {},
                                   bool with_sentences = true);

// Reads, loads the model and embeds.
Result<EmbeddedText> embed_text_file(const std::string& path, TextFormat format, const TextEmbeddingOptions& options);

}  // namespace lv::scan
