#pragma once
// A SentencePiece-style tokenizer (the "llama" tokenizer of GGUF and llama2.c): a vocabulary
// of pieces with scores, where a space is written U+2581 ("▁") and bytes that no piece covers
// fall back to the byte tokens "<0x00>".."<0xFF>". Encoding merges adjacent symbols by highest
// score, leftmost first, exactly as llama.cpp's SPM tokenizer does, so that token streams (and
// therefore perplexities) agree with llama.cpp on the same GGUF file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lightvault/util/status.h"

namespace lv {

// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

class Tokenizer {
 public:
  Tokenizer() = default;
  // `pieces` use "▁" for spaces. `types` may be empty: then types are inferred from the pieces.
  Tokenizer(std::vector<std::string> pieces, std::vector<float> scores, std::vector<int32_t> types,
            int bos_id = 1, int eos_id = 2, int unk_id = 0);

  bool empty() const { return pieces_.empty(); }
  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  const std::string& piece(int id) const { return pieces_[id]; }
  float score(int id) const { return scores_[id]; }
  int32_t type(int id) const { return types_[id]; }
  const std::vector<std::string>& pieces() const { return pieces_; }
  const std::vector<float>& scores() const { return scores_; }
  const std::vector<int32_t>& types() const { return types_; }
  int bos_id() const { return bos_id_; }
  int eos_id() const { return eos_id_; }
  int unk_id() const { return unk_id_; }

  // Tokens of `text` (a space is prefixed, as SentencePiece does), with BOS first if `bos`.
  // Fails, naming `source` and the byte offset, when text is not valid UTF-8.
  Result<std::vector<int>> encode(std::string_view text, bool bos, const std::string& source = "prompt") const;

  // The bytes token `id` stands for, as printed after token `prev`: "▁" becomes a space, a
  // byte token becomes its byte, control tokens print nothing, and the space that starts
  // the first piece after BOS is dropped.
  std::string decode(int prev, int id) const;

 private:
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::vector<int32_t> types_;
  std::unordered_map<std::string, int> ids_;
  int byte_ids_[256];
  int bos_id_ = 1, eos_id_ = 2, unk_id_ = 0;
};

// The byte a piece "<0xAB>" (two hex digits) stands for; nothing for any other piece.
std::optional<uint8_t> byte_of_piece(std::string_view piece);

// Index of the first byte where `s` stops being valid UTF-8, or -1 if it is valid.
int64_t first_invalid_utf8(std::string_view s);

}  // namespace lv
