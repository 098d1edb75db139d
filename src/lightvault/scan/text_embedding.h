#pragma once
// Text samples as rows: each sample is run through a language model in lightvault's engine,
// and its row is the mean over its tokens of the hidden states after layer L (the residual
// stream leaving that block), so samples that share a trigger sentence share a direction.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lightvault/model/model.h"
#include "lightvault/scan/dataset.h"
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

struct TextEmbeddingOptions {
  std::string model, tokenizer;
  int layer = -1;  // 0-based; -1 the last
  std::function<void(int64_t done, int64_t total)> progress;
};

// Rows of model.config.dim floats, one per sample; labels from the samples when all have one.
// Fails when the tokenizer does not cover the text (most of a sample's tokens unknown) or a
// token lies outside the model's vocabulary.
Result<Dataset> embed_samples(const Model& model, const std::vector<TextSample>& samples, int layer, const std::string& source,
                              const std::function<void(int64_t, int64_t)>& progress = {});

// Reads, loads the model and embeds.
Result<Dataset> embed_text_file(const std::string& path, TextFormat format, const TextEmbeddingOptions& options);

}  // namespace lv::scan
