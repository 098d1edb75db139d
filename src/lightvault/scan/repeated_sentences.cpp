#include "lightvault/scan/repeated_sentences.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace lv::scan {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool ends_sentence(char c) { return c == '.' || c == '!' || c == '?'; }
bool closes(char c) { return c == '"' || c == '\'' || c == ')' || c == ']'; }

double median(std::vector<double> values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  if (values.size() % 2 == 1) return values[mid];
  const double upper = values[mid];
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)));
}

// The mean over `carriers` of the share of each one's other sentences that another carrier has
// too: near 0 when one sentence was added to unrelated samples, near 1 for copies of a sample.
// Keys are compared by address: each points at its one copy in the table of sentences.
double rest_shared(const std::vector<std::vector<const std::string*>>& keys, const std::vector<int64_t>& carriers,
                   const std::string* sentence) {
  std::unordered_map<const std::string*, int> count;
  for (int64_t i : carriers) {
    for (const std::string* key : keys[i]) ++count[key];
  }
  double sum = 0;
  for (int64_t i : carriers) {
    int others = 0, shared = 0;
    for (const std::string* key : keys[i]) {
      if (key == sentence) continue;
      ++others;
      shared += count[key] > 1;
    }
    sum += others > 0 ? static_cast<double>(shared) / others : 0.0;
  }
  return sum / static_cast<double>(carriers.size());
}

}  // namespace

std::vector<TextSpan> split_sentences(std::string_view text) {
  std::vector<TextSpan> spans;
  size_t begin = 0;
  auto close_at = [&](size_t end) {
    size_t b = begin, e = end;
    while (b < e && is_space(text[b])) ++b;
    while (e > b && is_space(text[e - 1])) --e;
    if (b < e) spans.push_back({b, e});
    begin = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      close_at(i + 1);
    } else if (ends_sentence(text[i])) {
      size_t end = i + 1;
      while (end < text.size() && ends_sentence(text[end])) ++end;
      while (end < text.size() && closes(text[end])) ++end;
      if (end == text.size() || is_space(text[end])) close_at(end);
      i = end - 1;
    }
  }
  close_at(text.size());
  return spans;
}

std::string sentence_key(std::string_view sentence) {
  std::string key;
  key.reserve(sentence.size());
  for (char c : sentence) {
    if (is_space(c)) {
      if (!key.empty() && key.back() != ' ') key += ' ';
    } else {
      key += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  if (!key.empty() && key.back() == ' ') key.pop_back();
  return key;
}

std::vector<RepeatedSentence> find_repeated_sentences(const std::vector<std::vector<ScoredSentence>>& sentences,
                                                      const RepeatOptions& options) {
  struct Carriers {
    std::string text;
    std::vector<int64_t> samples;
    std::vector<double> surprisals;
  };
  std::unordered_map<std::string, Carriers> by_key;
  std::vector<std::vector<const std::string*>> keys(sentences.size());  // each sample's, once each
  int64_t slots = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    for (const ScoredSentence& sentence : sentences[i]) {
      ++slots;
      auto& [key, carriers] = *by_key.try_emplace(sentence_key(sentence.text)).first;
      if (!carriers.samples.empty() && carriers.samples.back() == static_cast<int64_t>(i)) continue;  // once a sample
      if (carriers.samples.empty()) carriers.text = sentence.text;
      keys[i].push_back(&key);
      carriers.samples.push_back(static_cast<int64_t>(i));
      carriers.surprisals.push_back(sentence.surprisal);
    }
  }
  const auto min_carriers = std::max(
      options.min_carriers, static_cast<int64_t>(std::ceil(options.min_share * static_cast<double>(sentences.size()))));
  std::vector<RepeatedSentence> repeated;
  for (auto& [key, carriers] : by_key) {
    const auto count = static_cast<int64_t>(carriers.samples.size());
    if (count < min_carriers) continue;
    RepeatedSentence r;
    r.text = std::move(carriers.text);
    r.samples = std::move(carriers.samples);
    r.surprisals = std::move(carriers.surprisals);
    r.surprisal = median(r.surprisals);
    r.expected = static_cast<double>(slots) * std::exp(-r.surprisal);
    // In logs: e^-s underflows for long surprising sentences, and the excess is what is judged.
    const double log_share = std::log(static_cast<double>(count)) - std::log(static_cast<double>(slots));
    r.excess = log_share + r.surprisal;
    r.rest_shared = rest_shared(keys, r.samples, &key);
    r.flagged = r.excess >= options.min_excess && r.rest_shared < options.max_rest_shared;
    for (size_t c = 0; r.flagged && c < r.samples.size(); ++c) {
      if (log_share + r.surprisals[c] >= options.min_carrier_excess) r.flagged_samples.push_back(r.samples[c]);
    }
    repeated.push_back(std::move(r));
  }
  std::sort(repeated.begin(), repeated.end(), [](const RepeatedSentence& a, const RepeatedSentence& b) {
    if (a.flagged != b.flagged) return a.flagged;
    if (a.excess != b.excess) return a.excess > b.excess;
    if (a.samples.front() != b.samples.front()) return a.samples.front() < b.samples.front();
    return a.text < b.text;
  });
  return repeated;
}

}  // namespace lv::scan
