#pragma once
// Hugging Face tokenizer.json files of SentencePiece-style BPE tokenizers (Llama 1 and 2,
// Mistral, TinyLlama, ...), converted to lv::Tokenizer.
//
// What is accepted: "model": {"type": "BPE", "vocab": {piece: id}, "merges": ["a b", ...] or
// [["a", "b"], ...], "unk_token", "byte_fallback"}, with spaces written U+2581 ("▁") and
// the byte pieces "<0x00>".."<0xFF>"; "added_tokens": [{"id", "content", "special"}]; and
// the SentencePiece pre-processing in either of its spellings (a normalizer that prepends
// "▁" and replaces " " by "▁", or a Metaspace pre-tokenizer that prepends it to the first
// word), which is what lv::Tokenizer::encode does. Byte-level BPE (GPT-2, Llama 3: "Ġ"
// pieces), Unigram and WordPiece models are refused with an error that says so, as are
// normalizers lv::Tokenizer does not apply.
//
// Conversion:
// - pieces by id: model.vocab plus added_tokens; ids must be 0..n-1 without gaps.
// - types: special added tokens are Control (non-special ones UserDefined), the unk token is
//   Unknown, "<0xXX>" pieces are Byte, everything else Normal.
// - scores: BPE applies the listed merge of lowest rank first; lv::Tokenizer merges the
//   adjacent pair whose concatenation has the highest score first (leftmost on ties). So a
//   piece that merge rank r produces scores -r (the lowest rank when several merges produce
//   it), which makes the two orders agree. Pieces no merge produces (single characters,
//   bytes, special tokens) score -(number of merges), below every merge result: a single
//   character is never the product of merging two symbols, so its score is never consulted.
//   The one difference left: lv::Tokenizer joins any two adjacent symbols whose
//   concatenation is a piece, BPE only listed pairs. Tokenizers converted from SentencePiece
//   list every split of every piece into two pieces, so for them the token streams are the
//   same (the tests check this on a real vocabulary); elsewhere an unlisted join happens at
//   the priority of the piece it makes. Ranks are exact in a float up to 2^24 merges; more
//   are refused.
// - bos/eos: the ids of "<s>" and "</s>" (required); unk: model.unk_token, else "<unk>",
//   else id 0 (keeping its type; lv::Tokenizer uses it only for bytes without a byte piece).
// Errors read "FILE: JSON.PATH: what is wrong", e.g. "tokenizer.json: model.merges[7]: 'a'
// is not in model.vocab".
#include <string>
#include <string_view>

#include "lightvault/model/tokenizer.h"
#include "lightvault/util/status.h"

namespace lv {

// Reads and converts the tokenizer.json at `path`.
Result<Tokenizer> load_hf_tokenizer(const std::string& path);

// The same from the file's content; `source` names it in errors.
Result<Tokenizer> parse_hf_tokenizer(std::string_view json_text, const std::string& source);

}  // namespace lv
