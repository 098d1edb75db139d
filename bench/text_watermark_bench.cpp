// The text watermark's cost and robustness on a real model (issue 11):
//  - perplexity of watermarked and plain generations, scored by the same model without the
//    bias, and top-1 agreement (the generated token is the unbiased model's argmax);
//  - z of the watermarked texts after deleting, inserting or substituting 10/20/30% of their
//    words at random (inserted words drawn from human text), and of their middle half alone;
//  - z of greedy watermarked text by length.
// Usage: text_watermark_bench [MODEL.bin TOKENIZER.bin HUMAN_TEXT [CHART.svg]] (default: ../shared/models)
// Prints Markdown tables; deterministic (fixed key, seeds and edits).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "lightvault/mark/text_watermark.h"
#include "lightvault/model/load.h"
#include "lightvault/runtime/generate.h"
#include "lightvault/util/text.h"

namespace lv {
namespace {

const std::string kKey = "text watermark bench key, 32+ bytes";
const mark::WatermarkParams kParams;  // gamma 0.25, delta 2, context 1
const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog", "Lily wanted to", "One day, a boy named Tom",
                                           "The sun was shining", "Tim and Sue", "There was a big tree", "Mom said",
                                           "The cat saw a bird", "A girl found a box"};
constexpr int kSeedsPerPrompt = 3;
constexpr int kSteps = 256;

struct Generation {
  std::vector<int> tokens;  // BOS, prompt, generated
  int prompt_tokens = 0;
  std::string text;  // as `lightvault run` prints it
};

Generation run(Transformer& model, const std::string& prompt, float temperature, uint64_t seed, bool watermark, int steps) {
  const Tokenizer& tok = model.model().tokenizer;
  const std::vector<int> prompt_tokens = tok.encode(prompt, true).value();
  Generation g;
  g.prompt_tokens = static_cast<int>(prompt_tokens.size());
  g.tokens = {prompt_tokens[0]};
  GenerateOptions options{.steps = steps, .temperature = temperature, .seed = seed};
  mark::TextWatermarker marker(kKey, kParams);
  if (watermark) options.logits_processor = [&](std::span<const int> t, float* l, int n) { marker.bias(t, l, n); };
  // on_token sees the prompt's tokens after BOS, then the generated ones.
  auto stats = generate(model, prompt_tokens, options, [&](int prev, int next) {
    g.tokens.push_back(next);
    std::string piece = tok.decode(prev, next);
    auto c = static_cast<unsigned char>(piece.empty() ? ' ' : piece[0]);
    if (piece.size() != 1 || std::isprint(c) || std::isspace(c)) g.text += piece;  // as run prints it
  });
  if (!stats.ok()) std::abort();
  return g;
}

struct Score {
  double nll = 0;
  int64_t count = 0, top1 = 0;
};

// NLL and argmax agreement of the generated tokens under the unbiased model (temperature 1).
void score(Transformer& model, const Generation& g, Score* s) {
  const int n = static_cast<int>(g.tokens.size()), vocab = model.config().vocab_size;
  KvCache cache(model.config(), n);
  std::vector<KvCache*> caches = {&cache};
  Batch batch;
  batch.add(0, g.tokens.data(), n - 1, 0);
  std::vector<int> rows;
  for (int i = g.prompt_tokens - 1; i < n - 1; ++i) rows.push_back(i);
  std::vector<float> logits(rows.size() * vocab);
  model.forward(batch, caches, rows, logits.data());
  for (size_t r = 0; r < rows.size(); ++r) {
    const float* l = &logits[r * vocab];
    const int target = g.tokens[rows[r] + 1];
    double max = *std::max_element(l, l + vocab), sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(l[v] - max);
    s->nll += -(l[target] - max - std::log(sum));
    s->top1 += argmax(l, vocab) == target;
    ++s->count;
  }
}

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

enum class Edit { Delete, Insert, Substitute };

std::string attack(const std::string& text, Edit edit, double fraction, const std::vector<std::string>& human, std::mt19937& rng) {
  std::vector<std::string> words = words_of(text);
  const int edits = static_cast<int>(std::lround(fraction * words.size()));
  for (int e = 0; e < edits && !words.empty(); ++e) {
    const std::string& other = human[rng() % human.size()];
    switch (edit) {
      case Edit::Delete: words.erase(words.begin() + rng() % words.size()); break;
      case Edit::Insert: words.insert(words.begin() + rng() % (words.size() + 1), other); break;
      case Edit::Substitute: words[rng() % words.size()] = other; break;
    }
  }
  return join(words);
}

struct Summary {
  double mean = 0, median = 0, min = 0;
  double found = 0;  // share with z >= 4
};

Summary summarize(std::vector<double> z) {
  std::sort(z.begin(), z.end());
  Summary s;
  for (double v : z) {
    s.mean += v / z.size();
    s.found += (v >= 4.0) / static_cast<double>(z.size());
  }
  s.median = z[z.size() / 2];
  s.min = z.front();
  return s;
}

double z_of(const Tokenizer& tok, const std::string& text) {
  mark::GreenList green(kKey, kParams);
  return mark::detect_text_watermark(green, tok.encode(text, false).value(), kParams.gamma).z;
}

// Mean z of each edit as a bar, the lowest z as a tick, the detection threshold as a line.
void write_chart(const std::string& path, const std::vector<std::pair<std::string, Summary>>& rows) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "error: %s: cannot create\n", path.c_str());
    return;
  }
  const double left = 170, width = 420, bar = 18, gap = 6, top = 40, zmax = 10;
  const double height = top + rows.size() * (bar + gap) + 30;
  auto x = [&](double z) { return left + std::clamp(z, 0.0, zmax) / zmax * width; };
  std::fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' font-size='12'>\n",
               left + width + 40, height);
  std::fprintf(f, "<text x='10' y='20' font-size='14'>Text watermark z after random word edits (bar: mean, tick: lowest)</text>\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const double y = top + i * (bar + gap);
    const Summary& s = rows[i].second;
    std::fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='end'>%s</text>\n", left - 8, y + bar - 5, rows[i].first.c_str());
    std::fprintf(f, "<rect x='%.0f' y='%.0f' width='%.1f' height='%.0f' fill='#4a7ab5'/>\n", left, y, x(s.mean) - left, bar);
    std::fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.0f' y2='%.0f' stroke='#c33' stroke-width='2'/>\n", x(s.min), x(s.min), y, y + bar);
    std::fprintf(f, "<text x='%.1f' y='%.0f'>%.1f</text>\n", x(s.mean) + 4, y + bar - 5, s.mean);
  }
  const double bottom = top + rows.size() * (bar + gap);
  std::fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.0f' y2='%.0f' stroke='#333' stroke-dasharray='4 3'/>\n", x(4), x(4), top - 6, bottom);
  std::fprintf(f, "<text x='%.1f' y='%.0f' text-anchor='middle'>z = 4 (found)</text>\n", x(4), bottom + 16);
  std::fprintf(f, "</svg>\n");
  std::fclose(f);
}

int main_impl(int argc, char** argv) {
  const std::string shared = "../shared/models";
  const std::string model_path = argc > 1 ? argv[1] : shared + "/stories260K/stories260K.bin";
  const std::string tok_path = argc > 2 ? argv[2] : shared + "/stories260K/tok512.bin";
  const std::string human_path = argc > 3 ? argv[3] : shared + "/text/tinystories_valid_a.txt";
  auto model = load_model(model_path, LoadOptions{tok_path});
  auto human_text = read_file(human_path);
  if (!model.ok() || !human_text.ok()) {
    std::fprintf(stderr, "error: %s\n", (!model.ok() ? model.error() : human_text.error()).message.c_str());
    return 2;
  }
  Transformer transformer(*model);
  const Tokenizer& tok = model->tokenizer;
  const std::vector<std::string> human = words_of(human_text->substr(0, human_text->size() / 2));

  std::printf("model %s, gamma %.2f, delta %.1f, context %d, %zu prompts x %d seeds, %d positions\n\n", model_path.c_str(),
              kParams.gamma, kParams.delta, kParams.context, kPrompts.size(), kSeedsPerPrompt, kSteps);
  std::printf("| decoding | watermark | generated tokens | perplexity (unbiased model) | top-1 agreement | mean z | z >= 4 |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::vector<std::string> marked_texts;
  for (float temperature : {0.8f, 0.0f}) {
    for (bool watermark : {false, true}) {
      Score s;
      std::vector<double> z;
      for (size_t p = 0; p < kPrompts.size(); ++p) {
        for (int seed = 0; seed < (temperature > 0 ? kSeedsPerPrompt : 1); ++seed) {
          Generation g = run(transformer, kPrompts[p], temperature, 1000 + 17 * p + seed, watermark, kSteps);
          score(transformer, g, &s);
          z.push_back(z_of(tok, g.text));
          if (watermark && temperature > 0) marked_texts.push_back(g.text);
        }
      }
      Summary zs = summarize(z);
      std::printf("| %s | %s | %lld | %.3f | %.1f%% | %.2f | %.0f%% |\n", temperature > 0 ? "T 0.8, top-p 0.9" : "greedy",
                  watermark ? "yes" : "no", static_cast<long long>(s.count), std::exp(s.nll / s.count),
                  100.0 * s.top1 / s.count, zs.mean, 100 * zs.found);
    }
  }

  std::printf("\nRobustness: the %zu watermarked T 0.8 texts, edited at random (inserted words drawn from human text)\n\n",
              marked_texts.size());
  std::printf("| edit | share of words | mean z | median z | min z | z >= 4 |\n|---|---|---|---|---|---|\n");
  std::mt19937 rng(11);
  std::vector<std::pair<std::string, Summary>> chart;
  auto row = [&](const char* name, const std::string& share, auto&& transform) {
    std::vector<double> z;
    for (const auto& t : marked_texts) z.push_back(z_of(tok, transform(t)));
    Summary s = summarize(z);
    std::printf("| %s | %s | %.2f | %.2f | %.2f | %.0f%% |\n", name, share.c_str(), s.mean, s.median, s.min, 100 * s.found);
    chart.push_back({std::string(name) + " " + share, s});
  };
  row("none", "0%", [](const std::string& t) { return t; });
  const std::pair<const char*, Edit> edits[] = {{"delete", Edit::Delete}, {"insert", Edit::Insert}, {"substitute", Edit::Substitute}};
  for (auto [name, edit] : edits) {
    for (double f : {0.1, 0.2, 0.3}) {
      row(name, std::to_string(static_cast<int>(f * 100)) + "%", [&](const std::string& t) { return attack(t, edit, f, human, rng); });
    }
  }
  row("middle half only", "50% kept", [](const std::string& t) {
    std::vector<std::string> w = words_of(t);
    return join(std::vector<std::string>(w.begin() + w.size() / 4, w.begin() + 3 * w.size() / 4));
  });

  if (argc > 4) write_chart(argv[4], chart);

  std::printf("\nGreedy decoding with the key, by length (positions counted with the prompt, as run -n)\n\n");
  std::printf("| positions | mean scored tokens | mean z | z >= 4 |\n|---|---|---|---|\n");
  for (int steps : {32, 64, 96, 128, 192, 256, 512}) {
    std::vector<double> z;
    double scored = 0;
    for (const auto& prompt : kPrompts) {
      Generation g = run(transformer, prompt, 0.0f, 1, true, steps);
      mark::GreenList green(kKey, kParams);
      auto d = mark::detect_text_watermark(green, tok.encode(g.text, false).value(), kParams.gamma);
      z.push_back(d.z);
      scored += static_cast<double>(d.tokens) / kPrompts.size();
    }
    Summary s = summarize(z);
    std::printf("| %d | %.0f | %.2f | %.0f%% |\n", steps, scored, s.mean, 100 * s.found);
  }

  // The bias's cost per generated token, against one decode step of this model (same run).
  std::printf("\nCost of the bias per generated token (shared machine: ratios only)\n\n");
  std::printf("| vocabulary | bias per token / one stories260K decode step |\n|---|---|\n");
  using Clock = std::chrono::steady_clock;
  KvCache cache(transformer.config(), 2);
  std::vector<KvCache*> caches = {&cache};
  std::vector<float> logits(32000);
  const int token = 1;
  auto t0 = Clock::now();
  for (int i = 0; i < 2000; ++i) {
    Batch b;
    b.add(0, &token, 1, 0);
    transformer.forward(b, caches, {0}, logits.data());
  }
  const double step = std::chrono::duration<double>(Clock::now() - t0).count() / 2000;
  for (int vocab : {512, 32000}) {
    mark::TextWatermarker marker(kKey, kParams);
    std::vector<int> history = {1, 2, 3};
    auto t1 = Clock::now();
    for (int i = 0; i < 2000; ++i) {
      history.back() = i;
      marker.bias(history, logits.data(), vocab);
    }
    const double bias = std::chrono::duration<double>(Clock::now() - t1).count() / 2000;
    std::printf("| %d | %.3f |\n", vocab, bias / step);
  }
  return 0;
}

}  // namespace
}  // namespace lv

int main(int argc, char** argv) { return lv::main_impl(argc, argv); }
