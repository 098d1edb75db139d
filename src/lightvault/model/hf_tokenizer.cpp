#include "lightvault/model/hf_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

#include "lightvault/util/json_reason.h"
#include "lightvault/util/mapped_file.h"
#include "lightvault/util/text.h"

namespace lv {
namespace {

using json = nlohmann::json;

constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581
constexpr uint64_t kMaxVocab = 1 << 22;           // as ModelConfig::validate allows
constexpr size_t kMaxMerges = size_t{1} << 24;    // ranks stay exact in a float
constexpr int kMaxNesting = 8;                    // of Sequence normalizers / pre-tokenizers

// A piece or name as it appears in a message.
std::string quote_piece(std::string_view s) { return quote_for_message(s, 80); }

// "SOURCE: PATH: what".
Error error_at(const std::string& source, const std::string& path, const std::string& what) {
  return make_error(source, path + ": " + what);
}

std::string type_of(const json& node) {
  auto it = node.find("type");
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> parse_json(std::string_view text, const std::string& source) {
  try {
    json root = json::parse(text.begin(), text.end());
    if (!root.is_object()) return make_error(source, "not a JSON object");
    return root;
  } catch (const json::parse_error& e) {
    return make_error(source, "not valid JSON: " + json_reason(e) + " (offset " +
                                  std::to_string(e.byte > 0 ? e.byte - 1 : 0) + ")");
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    return make_error(source, "not valid JSON: " + json_reason(e));
  }
}

// What the normalizer and pre-tokenizer do to text before BPE, as far as lv::Tokenizer can
// reproduce it: write spaces as "▁" and put one "▁" in front.
struct Preprocessing {
  bool spaces_to_meta = false;
  bool prefix_meta = false;
};

// Calls `step` for each step of a normalizer or pre-tokenizer, in order: the node itself, or
// the members of a {"type": "Sequence", LIST_KEY: [...]} (nested Sequences flattened).
using StepReader = std::function<Status(const json& node, const std::string& path, const std::string& type)>;
Status for_each_step(const json& node, const std::string& path, const std::string& source, const char* list_key,
                     const StepReader& step, int depth = 0) {
  if (node.is_null()) return Status::Ok();
  if (depth > kMaxNesting) return error_at(source, path, "nested too deeply");
  if (!node.is_object()) return error_at(source, path, "not a JSON object");
  std::string type = type_of(node);
  if (type != "Sequence") return step(node, path, type);
  const std::string list_path = path + "." + list_key;
  auto list = node.find(list_key);
  if (list == node.end() || !list->is_array()) return error_at(source, list_path, "not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    LV_RETURN_IF_ERROR(
        for_each_step((*list)[i], list_path + "[" + std::to_string(i) + "]", source, list_key, step, depth + 1));
  }
  return Status::Ok();
}

Status read_normalizer(const json& root_node, const std::string& source, Preprocessing& pre) {
  return for_each_step(root_node, "normalizer", source, "normalizers",
                       [&](const json& node, const std::string& path, const std::string& type) -> Status {
    if (type == "Prepend" && node.value("prepend", json()) == kSpace) {
      pre.prefix_meta = true;
      return Status::Ok();
    }
    if (type == "Replace" && node.value("content", json()) == kSpace) {
      auto pattern = node.find("pattern");
      if (pattern != node.end() && pattern->is_object() && pattern->value("String", json()) == " ") {
        pre.spaces_to_meta = true;
        return Status::Ok();
      }
    }
    return error_at(source, path, "normalizer " + quote_piece(type) +
                                      " is not supported (only SentencePiece's Prepend and Replace of spaces by U+2581)");
  });
}

Status read_pre_tokenizer(const json& root_node, const std::string& source, Preprocessing& pre) {
  return for_each_step(root_node, "pre_tokenizer", source, "pretokenizers",
                       [&](const json& node, const std::string& path, const std::string& type) -> Status {
    if (type == "ByteLevel") {
      return error_at(source, path, "byte-level BPE (GPT-2 / Llama 3 style) is not supported; only "
                                    "SentencePiece-style BPE tokenizers (Llama 1 and 2) are");
    }
    if (type == "Metaspace") {
      if (node.value("replacement", json()) != kSpace) {
        return error_at(source, path + ".replacement", "only U+2581 is supported");
      }
      pre.spaces_to_meta = true;
      auto scheme = node.find("prepend_scheme");
      if (scheme != node.end()) {
        pre.prefix_meta = pre.prefix_meta || *scheme == "first" || *scheme == "always";
      } else {
        pre.prefix_meta = pre.prefix_meta || node.value("add_prefix_space", json(true)) == true;
      }
      return Status::Ok();
    }
    return error_at(source, path, "pre-tokenizer " + quote_piece(type) + " is not supported");
  });
}

// The model must be a SentencePiece-style BPE whose pre-processing lv::Tokenizer reproduces.
Status check_kind(const json& root, const std::string& source) {
  auto model = root.find("model");
  if (model == root.end() || !model->is_object()) return error_at(source, "model", "missing or not a JSON object");
  std::string type = type_of(*model);
  if (type != "BPE") {
    return error_at(source, "model.type", quote_piece(type) + " is not supported; only SentencePiece-style BPE is");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = model->find(key);
    if (it != model->end() && !it->is_null() && *it != "") {
      return error_at(source, std::string("model.") + key, "is set; SentencePiece-style BPE has none");
    }
  }
  Preprocessing pre;
  auto normalizer = root.find("normalizer");
  if (normalizer != root.end()) LV_RETURN_IF_ERROR(read_normalizer(*normalizer, source, pre));
  auto pre_tokenizer = root.find("pre_tokenizer");
  if (pre_tokenizer != root.end()) LV_RETURN_IF_ERROR(read_pre_tokenizer(*pre_tokenizer, source, pre));
  if (!pre.spaces_to_meta || !pre.prefix_meta) {
    return make_error(source, "normalizer and pre_tokenizer do not write spaces as U+2581 with one in front, "
                              "as SentencePiece does");
  }
  return Status::Ok();
}

// Pieces by id, gathered from model.vocab and added_tokens.
struct Vocab {
  uint64_t max_size = 0;  // entries in model.vocab and added_tokens: ids must lie below
  std::vector<std::optional<std::string>> pieces;
  std::vector<int32_t> types;
  std::unordered_map<std::string, int> ids;

  // Records `piece` as `id`; an error message (empty on success) otherwise.
  std::string add(const std::string& piece, uint64_t id) {
    if (id >= max_size) {
      return "id " + std::to_string(id) + " leaves a gap: there are only " + std::to_string(max_size) + " pieces";
    }
    if (pieces.size() <= id) {
      pieces.resize(id + 1);
      types.resize(id + 1, static_cast<int32_t>(TokenType::Normal));
    }
    if (pieces[id] && *pieces[id] != piece) return "id " + std::to_string(id) + " already belongs to " + quote_piece(*pieces[id]);
    auto [it, inserted] = ids.emplace(piece, static_cast<int>(id));
    if (!inserted && it->second != static_cast<int>(id)) {
      return quote_piece(piece) + " already has id " + std::to_string(it->second);
    }
    pieces[id] = piece;
    if (byte_of_piece(piece)) types[id] = static_cast<int32_t>(TokenType::Byte);
    return "";
  }

  int find(const std::string& piece) const {
    auto it = ids.find(piece);
    return it == ids.end() ? -1 : it->second;
  }
};

// How many pieces model.vocab and added_tokens list together (an upper bound on the ids).
uint64_t count_entries(const json& root) {
  uint64_t n = 0;
  auto model = root.find("model");
  auto vocab = model->find("vocab");
  if (vocab != model->end() && vocab->is_object()) n += vocab->size();
  auto added = root.find("added_tokens");
  if (added != root.end() && added->is_array()) n += added->size();
  return n;
}

Status read_vocab(const json& model, const std::string& source, Vocab& vocab) {
  auto node = model.find("vocab");
  if (node == model.end() || !node->is_object()) return error_at(source, "model.vocab", "missing or not a JSON object");
  for (const auto& [piece, id] : node->items()) {
    std::string path = "model.vocab[" + quote_piece(piece) + "]";
    if (!id.is_number_unsigned()) return error_at(source, path, "id is not a non-negative integer");
    std::string problem = vocab.add(piece, id.get<uint64_t>());
    if (!problem.empty()) return error_at(source, path, problem);
  }
  return Status::Ok();
}

Status read_added_tokens(const json& root, const std::string& source, Vocab& vocab) {
  auto node = root.find("added_tokens");
  if (node == root.end() || node->is_null()) return Status::Ok();
  if (!node->is_array()) return error_at(source, "added_tokens", "not an array");
  for (size_t i = 0; i < node->size(); ++i) {
    const json& token = (*node)[i];
    std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!token.is_object()) return error_at(source, path, "not a JSON object");
    auto id = token.find("id");
    auto content = token.find("content");
    if (id == token.end() || !id->is_number_unsigned()) return error_at(source, path + ".id", "not a non-negative integer");
    if (content == token.end() || !content->is_string()) return error_at(source, path + ".content", "not a string");
    const std::string& piece = content->get_ref<const std::string&>();
    std::string problem = vocab.add(piece, id->get<uint64_t>());
    if (!problem.empty()) return error_at(source, path, problem);
    bool special = token.value("special", json(false)) == true;
    int32_t& type = vocab.types[id->get<uint64_t>()];
    if (special) {
      type = static_cast<int32_t>(TokenType::Control);
    } else if (type != static_cast<int32_t>(TokenType::Byte)) {
      type = static_cast<int32_t>(TokenType::UserDefined);
    }
  }
  return Status::Ok();
}

// One entry of model.merges, either "a b" or ["a", "b"].
Status read_merge(const json& entry, const std::string& path, const std::string& source, std::string& left,
                  std::string& right) {
  if (entry.is_string()) {
    const std::string& s = entry.get_ref<const std::string&>();
    size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      return error_at(source, path, quote_piece(s) + " is not two pieces separated by one space");
    }
    left = s.substr(0, space);
    right = s.substr(space + 1);
    return Status::Ok();
  }
  if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
    left = entry[0].get<std::string>();
    right = entry[1].get<std::string>();
    return Status::Ok();
  }
  return error_at(source, path, "not \"a b\" or [\"a\", \"b\"]");
}

// Scores per id that make highest-score-first merging follow the merge ranks (see header).
Result<std::vector<float>> merge_scores(const json& model, const Vocab& vocab, const std::string& source) {
  auto node = model.find("merges");
  if (node == model.end() || !node->is_array()) return error_at(source, "model.merges", "missing or not an array");
  if (node->size() > kMaxMerges) {
    return error_at(source, "model.merges", "more than " + std::to_string(kMaxMerges) + " merges");
  }
  const float unmerged = -static_cast<float>(node->size());
  std::vector<float> scores(vocab.pieces.size(), unmerged);
  std::vector<bool> scored(vocab.pieces.size(), false);
  std::string left, right;
  for (size_t rank = 0; rank < node->size(); ++rank) {
    std::string path = "model.merges[" + std::to_string(rank) + "]";
    LV_RETURN_IF_ERROR(read_merge((*node)[rank], path, source, left, right));
    for (const std::string* part : {&left, &right}) {
      if (vocab.find(*part) < 0) return error_at(source, path, quote_piece(*part) + " is not in model.vocab");
    }
    int id = vocab.find(left + right);
    if (id < 0) return error_at(source, path, "the merged piece " + quote_piece(left + right) + " is not in model.vocab");
    if (!scored[id]) {
      scores[id] = -static_cast<float>(rank);
      scored[id] = true;
    }
  }
  return scores;
}

// The id of `piece`, or an error naming what it is for.
Result<int> required_id(const Vocab& vocab, const std::string& piece, const std::string& source) {
  int id = vocab.find(piece);
  if (id < 0) return make_error(source, "no " + quote_piece(piece) + " token in added_tokens or model.vocab");
  return id;
}

}  // namespace

Result<Tokenizer> parse_hf_tokenizer(std::string_view json_text, const std::string& source) {
  LV_ASSIGN_OR_RETURN(json root, parse_json(json_text, source));
  LV_RETURN_IF_ERROR(check_kind(root, source));
  const json& model = *root.find("model");

  Vocab vocab;
  vocab.max_size = std::min<uint64_t>(count_entries(root), kMaxVocab);
  LV_RETURN_IF_ERROR(read_vocab(model, source, vocab));
  LV_RETURN_IF_ERROR(read_added_tokens(root, source, vocab));
  if (vocab.pieces.empty()) return error_at(source, "model.vocab", "is empty");
  for (size_t id = 0; id < vocab.pieces.size(); ++id) {
    if (!vocab.pieces[id]) return error_at(source, "model.vocab", "no piece has id " + std::to_string(id));
  }
  LV_ASSIGN_OR_RETURN(std::vector<float> scores, merge_scores(model, vocab, source));

  int unk_id = vocab.find("<unk>");
  auto unk = model.find("unk_token");
  if (unk != model.end() && !unk->is_null()) {
    if (!unk->is_string()) return error_at(source, "model.unk_token", "not a string");
    unk_id = vocab.find(unk->get<std::string>());
    if (unk_id < 0) return error_at(source, "model.unk_token", quote_piece(unk->get<std::string>()) + " is not in model.vocab");
  }
  if (unk_id >= 0) {
    vocab.types[unk_id] = static_cast<int32_t>(TokenType::Unknown);
  } else {
    unk_id = 0;  // only used for bytes that have no byte piece
  }
  LV_ASSIGN_OR_RETURN(int bos_id, required_id(vocab, "<s>", source));
  LV_ASSIGN_OR_RETURN(int eos_id, required_id(vocab, "</s>", source));

  std::vector<std::string> pieces;
  pieces.reserve(vocab.pieces.size());
  for (auto& piece : vocab.pieces) pieces.push_back(std::move(*piece));
  return Tokenizer(std::move(pieces), std::move(scores), std::move(vocab.types), bos_id, eos_id, unk_id);
}

Result<Tokenizer> load_hf_tokenizer(const std::string& path) {
  LV_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  std::string_view text(reinterpret_cast<const char*>(file->data()), file->size());
  return parse_hf_tokenizer(text, path);
}

}  // namespace lv
