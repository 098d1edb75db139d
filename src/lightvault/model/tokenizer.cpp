#include "lightvault/model/tokenizer.h"

#include <queue>

namespace lv {
namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's space

int utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 0;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

// Parsed by hand: sscanf's %X would also take "<0x-1>".
std::optional<uint8_t> byte_of_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
  int high = hex_digit(piece[3]), low = hex_digit(piece[4]);
  if (high < 0 || low < 0) return std::nullopt;
  return static_cast<uint8_t>(high * 16 + low);
}

int64_t first_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int len = utf8_length(c);
    if (len == 0 || i + len > s.size()) return static_cast<int64_t>(i);
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return static_cast<int64_t>(i);
      cp = cp << 6 | (cc & 0x3f);
    }
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return static_cast<int64_t>(i);
    i += len;
  }
  return -1;
}

Tokenizer::Tokenizer(std::vector<std::string> pieces, std::vector<float> scores, std::vector<int32_t> types,
                     int bos_id, int eos_id, int unk_id)
    : pieces_(std::move(pieces)), scores_(std::move(scores)), types_(std::move(types)),
      bos_id_(bos_id), eos_id_(eos_id), unk_id_(unk_id) {
  scores_.resize(pieces_.size(), 0.0f);
  if (types_.size() != pieces_.size()) {
    types_.assign(pieces_.size(), static_cast<int32_t>(TokenType::Normal));
    for (size_t i = 0; i < pieces_.size(); ++i) {
      if (static_cast<int>(i) == unk_id_) types_[i] = static_cast<int32_t>(TokenType::Unknown);
      else if (static_cast<int>(i) == bos_id_ || static_cast<int>(i) == eos_id_) types_[i] = static_cast<int32_t>(TokenType::Control);
      else if (byte_of_piece(pieces_[i])) types_[i] = static_cast<int32_t>(TokenType::Byte);
    }
  }
  for (int& id : byte_ids_) id = -1;
  ids_.reserve(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) {
    ids_[pieces_[i]] = static_cast<int>(i);  // a later duplicate wins, as in llama.cpp
    if (auto byte = byte_of_piece(pieces_[i]); byte && types_[i] == static_cast<int32_t>(TokenType::Byte)) {
      byte_ids_[*byte] = static_cast<int>(i);
    }
  }
}

Result<std::vector<int>> Tokenizer::encode(std::string_view text, bool bos, const std::string& source) const {
  int64_t bad = first_invalid_utf8(text);
  if (bad >= 0) {
    return make_error(source, "not valid UTF-8 (offset " + std::to_string(bad) + ")");
  }
  std::vector<int> tokens;
  if (bos) tokens.push_back(bos_id_);
  if (text.empty()) return tokens;

  // SentencePiece normalization: a leading space, and spaces written as U+2581.
  std::string normalized(kSpace);
  normalized.reserve(text.size() * 2);
  for (char c : text) {
    if (c == ' ') normalized += kSpace;
    else normalized += c;
  }

  // Symbols form a doubly linked list over `normalized`; merging two symbols grows the left
  // one and unlinks the right one.
  struct Symbol {
    int prev, next;
    size_t start, len;
  };
  std::vector<Symbol> symbols;
  for (size_t i = 0; i < normalized.size();) {
    size_t len = static_cast<size_t>(utf8_length(static_cast<unsigned char>(normalized[i])));
    int index = static_cast<int>(symbols.size());
    symbols.push_back({index - 1, index + 1, i, len});
    i += len;
  }
  symbols.back().next = -1;

  struct Bigram {
    int left, right;
    float score;
    size_t len;  // length of the merged text when queued; stale entries no longer match
  };
  auto worse = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    std::string_view merged(normalized.data() + symbols[left].start, symbols[left].len + symbols[right].len);
    auto it = ids_.find(std::string(merged));
    if (it == ids_.end()) return;
    queue.push({left, right, scores_[it->second], merged.size()});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[b.left];
    Symbol& right = symbols[b.right];
    if (left.len == 0 || right.len == 0 || left.len + right.len != b.len) continue;  // stale
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int i = 0; i != -1; i = symbols[i].next) {
    const Symbol& s = symbols[i];
    std::string piece = normalized.substr(s.start, s.len);
    auto it = ids_.find(piece);
    if (it != ids_.end()) {
      tokens.push_back(it->second);
      continue;
    }
    for (unsigned char c : piece) {  // byte fallback
      tokens.push_back(byte_ids_[c] >= 0 ? byte_ids_[c] : unk_id_);
    }
  }
  return tokens;
}

std::string Tokenizer::decode(int prev, int id) const {
  if (id < 0 || id >= vocab_size()) return "";
  auto type = static_cast<TokenType>(types_[id]);
  if (type == TokenType::Control || type == TokenType::Unknown || type == TokenType::Unused) return "";
  const std::string& piece = pieces_[id];
  if (auto byte = byte_of_piece(piece); byte && type == TokenType::Byte) return std::string(1, static_cast<char>(*byte));
  std::string text;
  text.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpace.size(), kSpace) == 0) {
      text += ' ';
      i += kSpace.size();
    } else {
      text += piece[i++];
    }
  }
  if (prev == bos_id_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
  return text;
}

}  // namespace lv
