#include "lightvault/scan/text_embedding.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lightvault/eval/perplexity.h"
#include "lightvault/model/load.h"
#include "lightvault/runtime/batch.h"
#include "lightvault/runtime/kv_cache.h"
#include "lightvault/runtime/transformer.h"
#include "lightvault/util/text.h"

namespace lv::scan {

Result<std::vector<TextSample>> parse_text_samples(std::string_view content, const std::string& source, TextFormat format) {
  std::vector<TextSample> samples;
  TextSample current;
  auto close_sample = [&] {
    if (!current.text.empty()) samples.push_back(std::move(current));
    current = TextSample{};
  };
  Status status = for_each_line(content, [&](int64_t line_number, std::string_view line) -> Status {
    const bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (format == TextFormat::kBlankLineSeparated) {
      if (blank) {
        close_sample();
        return Status::Ok();
      }
      if (current.text.empty()) current.line = line_number;
      else current.text += '\n';
      current.text += line;
      return Status::Ok();
    }
    if (blank) return Status::Ok();
    const auto json = nlohmann::json::parse(line, nullptr, false);
    const std::string where = " (line " + std::to_string(line_number) + ")";
    if (json.is_discarded() || !json.is_object()) return make_error(source, "not a JSON object" + where);
    if (!json.contains("text") || !json["text"].is_string()) return make_error(source, "no string field \"text\"" + where);
    TextSample sample{json["text"].get<std::string>(), "", line_number};
    if (json.contains("label")) {
      const auto& label = json["label"];
      if (label.is_string()) sample.label = label.get<std::string>();
      else if (label.is_number_integer()) sample.label = std::to_string(label.get<int64_t>());
      else return make_error(source, "field \"label\" is not a string or an integer" + where);
      if (sample.label.empty()) return make_error(source, "empty label" + where);
    }
    if (sample.text.empty()) return make_error(source, "empty text" + where);
    samples.push_back(std::move(sample));
    return Status::Ok();
  });
  if (!status.ok()) return status.error();
  close_sample();
  if (samples.empty()) return make_error(source, "empty file: no samples");
  return samples;
}

const char* pooling_name(Pooling pooling) {
  switch (pooling) {
    case Pooling::kMax: return "max";
    case Pooling::kMeanMax: return "mean+max";
    default: return "mean";
  }
}

Result<Pooling> parse_pooling(const std::string& name) {
  for (Pooling p : {Pooling::kMean, Pooling::kMax, Pooling::kMeanMax}) {
    if (name == pooling_name(p)) return p;
  }
  return make_error("--pool", "'" + name + "' is not one of mean, max, mean+max");
}

namespace {

// A sample's sentences, each with the surprisal of its tokens. surprisal[t] is -log p of
// token t given the tokens before it (t >= 1). A token belongs to the sentence holding the first
// byte it prints that is not a space; a sentence is kept only when the tokens reach its end.
std::vector<ScoredSentence> score_sentences(const Tokenizer& tokenizer, const std::string& text,
                                            const std::vector<int>& tokens, const std::vector<double>& surprisal) {
  const std::vector<TextSpan> spans = split_sentences(text);
  std::vector<double> nats(spans.size(), 0.0);
  size_t offset = 0, sentence = 0;
  for (size_t t = 1; t < tokens.size(); ++t) {
    const std::string printed = tokenizer.decode(tokens[t - 1], tokens[t]);
    const size_t visible = printed.find_first_not_of(" \t\r\n");
    if (visible != std::string::npos) {
      const size_t at = offset + visible;
      while (sentence < spans.size() && spans[sentence].end <= at) ++sentence;
      if (sentence < spans.size() && spans[sentence].begin <= at) nats[sentence] += surprisal[t];
    }
    offset += printed.size();
  }
  std::vector<ScoredSentence> scored;
  for (size_t i = 0; i < spans.size() && spans[i].end <= offset; ++i) {
    scored.push_back({text.substr(spans[i].begin, spans[i].end - spans[i].begin), nats[i]});
  }
  return scored;
}

}  // namespace

Result<EmbeddedText> embed_samples(const Model& model, const std::vector<TextSample>& samples, int layer,
                                   Pooling pooling, const std::string& source,
                                   const std::function<void(int64_t, int64_t)>& progress, bool with_sentences) {
  const ModelConfig& config = model.config;
  if (layer < 0) layer = config.n_layers() - 1;
  if (layer >= config.n_layers()) {
    return make_error(source, "--layer " + std::to_string(layer) + " is out of range: the model has " +
                                  std::to_string(config.n_layers()) + " layers");
  }
  if (model.tokenizer.empty()) return make_error(source, "the model has no tokenizer; pass one with --tokenizer");
  EmbeddedText out;
  Dataset& data = out.data;
  data.source = source;
  const bool with_mean = pooling != Pooling::kMax, with_max = pooling != Pooling::kMean;
  data.dim = config.dim * (with_mean && with_max ? 2 : 1);
  data.rows = static_cast<int64_t>(samples.size());
  data.values.resize(static_cast<size_t>(data.rows) * data.dim);
  if (with_sentences) out.sentences.resize(samples.size());
  const bool labelled = std::all_of(samples.begin(), samples.end(), [](const TextSample& s) { return !s.label.empty(); });
  Transformer transformer(model);
  constexpr int kLogitRows = 64;  // logits are computed this many positions at a time
  std::vector<float> x, logits(with_sentences ? static_cast<size_t>(kLogitRows) * config.vocab_size : 0);
  std::vector<double> surprisal;
  for (size_t s = 0; s < samples.size(); ++s) {
    const std::string where = " (sample " + std::to_string(s) + ", line " + std::to_string(samples[s].line) + ")";
    LV_ASSIGN_OR_RETURN(std::vector<int> tokens, model.tokenizer.encode(samples[s].text, true, source));
    if (static_cast<int>(tokens.size()) > config.seq_len) tokens.resize(static_cast<size_t>(config.seq_len));
    int unknown = 0;
    for (int t : tokens) {
      if (t < 0 || t >= config.vocab_size) {
        return make_error(source, "token " + std::to_string(t) + " is outside the model's vocabulary of " +
                                      std::to_string(config.vocab_size) + ": the tokenizer does not match the model" + where);
      }
      unknown += t == model.tokenizer.unk_id();
    }
    if (2 * unknown > static_cast<int>(tokens.size()) - 1) {
      return make_error(source, std::to_string(unknown) + " of " + std::to_string(tokens.size() - 1) +
                                    " tokens are unknown to the tokenizer: it does not match the text" + where);
    }
    Batch batch;
    batch.add(0, tokens.data(), static_cast<int>(tokens.size()), 0);
    KvCache cache(config, static_cast<int>(tokens.size()));
    std::vector<KvCache*> caches{&cache};
    x.assign(tokens.size() * static_cast<size_t>(config.dim), 0.0f);
    transformer.embed(batch, x.data());
    for (int l = 0; l <= layer; ++l) transformer.run_layer(l, batch, caches, x.data());
    float* row = data.values.data() + s * static_cast<size_t>(data.dim);
    // BOS is the same token at the same position in every sample, so its state is the same
    // too and tells nothing about the sample; its norm is about twice a word's (stories260K),
    // so in the mean it would add a length-dependent shift and in the max mask coordinates.
    const size_t first = tokens.size() > 1 ? 1 : 0;
    const auto pooled = static_cast<float>(tokens.size() - first);
    if (with_mean) {
      for (size_t t = first; t < tokens.size(); ++t) {
        for (int d = 0; d < config.dim; ++d) row[d] += x[t * config.dim + d] / pooled;
      }
    }
    if (with_max) {
      float* top = with_mean ? row + config.dim : row;
      std::copy(x.begin() + static_cast<std::ptrdiff_t>(first * config.dim),
                x.begin() + static_cast<std::ptrdiff_t>((first + 1) * config.dim), top);
      for (size_t t = first + 1; t < tokens.size(); ++t) {
        for (int d = 0; d < config.dim; ++d) top[d] = std::max(top[d], x[t * config.dim + d]);
      }
    }
    if (with_sentences) {
      for (int l = layer + 1; l < config.n_layers(); ++l) transformer.run_layer(l, batch, caches, x.data());
      surprisal.assign(tokens.size(), 0.0);
      for (int from = 0; from + 1 < static_cast<int>(tokens.size()); from += kLogitRows) {
        std::vector<int> rows;
        for (int r = from; r < from + kLogitRows && r + 1 < static_cast<int>(tokens.size()); ++r) rows.push_back(r);
        transformer.compute_logits(x.data(), rows, logits.data());
        for (size_t i = 0; i < rows.size(); ++i) {
          surprisal[rows[i] + 1] = next_token_nll(&logits[i * config.vocab_size], config.vocab_size, tokens[rows[i] + 1]);
        }
      }
      out.sentences[s] = score_sentences(model.tokenizer, samples[s].text, tokens, surprisal);
    }
    if (labelled) data.labels.push_back(data.label_id(samples[s].label));
    if (progress) progress(static_cast<int64_t>(s + 1), data.rows);
  }
  return out;
}

Result<EmbeddedText> embed_text_file(const std::string& path, TextFormat format, const TextEmbeddingOptions& options) {
  LV_ASSIGN_OR_RETURN(std::string content, read_file(path));
  LV_ASSIGN_OR_RETURN(auto samples, parse_text_samples(content, path, format));
  LV_ASSIGN_OR_RETURN(Model model, load_model(options.model, LoadOptions{options.tokenizer}));
  return embed_samples(model, samples, options.layer, options.pooling, path, options.progress, options.sentences);
}

}  // namespace lv::scan
