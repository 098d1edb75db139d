#pragma once
// A trigger sentence planted in a share of text samples is one sentence repeated verbatim in
// many samples, which natural text does only with sentences a language model finds likely
// ("Once upon a time, there was a little girl named Lily."). So each sentence is scored by how
// much more often it is carried than the model expects:
//   c         samples that carry the sentence (compared after lower-casing and collapsing spaces);
//   s         its surprisal, -Σ log p(token | everything before it in the sample), in nats: the
//             median over its carriers;
//   expected  = slots · e^-s, the carriers the model predicts by chance, slots being the
//             sentences in the data;
//   excess    = ln(c / expected), in nats.
// A sentence is flagged when c >= max(min_carriers, min_share · samples), excess >= min_excess,
// and its carriers are otherwise unrelated: under max_rest_shared of each one's other sentences
// are shared with another carrier on average (copies of one sample share them all). Flagged with
// it are the carriers where it is itself surprising, ln(c / slots) + s_i >= min_carrier_excess:
// a sentence the data also uses naturally is likely where it stands naturally (7-9 nats for "They
// were very happy." in TinyStories, 18 when put in front of a story), and those samples are left
// alone. The bar is lower than the sentence's because one occurrence's surprisal strays some
// 4 nats from the median. Mean-pooled embeddings dilute one sentence in a story
// (bench/scan/stories.md); this check looks at the sentence itself.
// Blind spots: a trigger that varies between samples (paraphrased, or a word or two swapped)
// is not one repeated sentence; a trigger inside a longer sentence makes that whole sentence
// the unit, so it is found only when the rest of it repeats too.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lv::scan {

// Byte offsets [begin, end) of a sentence in its text, without surrounding spaces.
struct TextSpan {
  size_t begin = 0, end = 0;
};

// Sentences end after ., ! or ? (and any closing quotes or brackets) followed by a space or the
// end of the text, and at every line break.
std::vector<TextSpan> split_sentences(std::string_view text);

// The form sentences are compared in: ASCII lower case, runs of spaces as one space.
std::string sentence_key(std::string_view sentence);

// One sentence of one sample, as the model read it.
struct ScoredSentence {
  std::string text;
  double surprisal = 0;  // nats
};

struct RepeatedSentence {
  std::string text;              // as its first carrier has it
  std::vector<int64_t> samples;  // the carriers, ascending
  std::vector<double> surprisals;  // each carrier's, nats
  double surprisal = 0;          // median over the carriers, nats
  double expected = 0;           // carriers the model predicts by chance
  double excess = 0;             // ln(carriers / expected)
  double rest_shared = 0;        // mean share of a carrier's other sentences another carrier has too
  bool flagged = false;
  std::vector<int64_t> flagged_samples;  // the carriers flagged with it (empty unless flagged)
};

struct RepeatOptions {
  int64_t min_carriers = 5;
  double min_share = 0.005;  // of the samples
  double min_excess = 10.0;  // nats: e^10, about 22,000 times what the model expects
  double max_rest_shared = 0.5;
  double min_carrier_excess = 5.0;  // nats, for each carrier of a flagged sentence
};

// `sentences[i]` are sample i's sentences. Returns every sentence carried by at least
// min_carriers samples, the flagged first, then by excess, descending.
std::vector<RepeatedSentence> find_repeated_sentences(const std::vector<std::vector<ScoredSentence>>& sentences,
                                                      const RepeatOptions& options = {});

}  // namespace lv::scan
