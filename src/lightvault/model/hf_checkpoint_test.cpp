#include "lightvault/model/hf_checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/model/hf_tokenizer.h"
#include "lightvault/model/safetensors.h"
#include "lightvault/model/synth.h"
#include "lightvault/tensor/dtype.h"

namespace lv {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kMeta = "\xe2\x96\x81";  // U+2581

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lv_hf_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string dir_;
};

// ---------------------------------------------------------------------------------------
// RoPE permutation

TEST(RopePermutation, MovesHalvesToAdjacentPairs) {
  // Two heads of head_dim 4, one float per row: within a head, rows [a0 a1 b0 b1] (halves)
  // become [a0 b0 a1 b1] (pairs).
  std::vector<float> in = {0, 1, 2, 3, 4, 5, 6, 7}, out(8), back(8);
  rope_halves_to_pairs(in.data(), out.data(), 2, 4, sizeof(float));
  EXPECT_EQ(out, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  rope_pairs_to_halves(out.data(), back.data(), 2, 4, sizeof(float));
  EXPECT_EQ(back, in);

  std::vector<float> wide(16), wide_out(16);  // head_dim 8, rows of two floats
  for (int i = 0; i < 16; ++i) wide[i] = static_cast<float>(i);
  rope_halves_to_pairs(wide.data(), wide_out.data(), 1, 8, 2 * sizeof(float));
  EXPECT_EQ(wide_out, (std::vector<float>{0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15}));
}

// Hugging Face's rotary embedding: x[i] pairs with x[i + d/2].
std::vector<double> rope_rotate_half(const std::vector<double>& x, int pos, double theta) {
  size_t half = x.size() / 2;
  std::vector<double> out(x.size());
  for (size_t i = 0; i < half; ++i) {
    double angle = pos * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(x.size()));
    out[i] = x[i] * std::cos(angle) - x[i + half] * std::sin(angle);
    out[i + half] = x[i + half] * std::cos(angle) + x[i] * std::sin(angle);
  }
  return out;
}

// lv's (llama2.c, GGUF) rotary embedding: x[2i] pairs with x[2i + 1].
std::vector<double> rope_adjacent_pairs(const std::vector<double>& x, int pos, double theta) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size() / 2; ++i) {
    double angle = pos * std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(x.size()));
    out[2 * i] = x[2 * i] * std::cos(angle) - x[2 * i + 1] * std::sin(angle);
    out[2 * i + 1] = x[2 * i + 1] * std::cos(angle) + x[2 * i] * std::sin(angle);
  }
  return out;
}

TEST(RopePermutation, MakesAdjacentPairRopeEqualRotateHalf) {
  // q = W x: permuting W's rows permutes q. The permutation is right when adjacent-pair
  // RoPE of the permuted q is the permuted rotate-half RoPE of q, at every position.
  const int head_dim = 8;
  std::vector<double> q(head_dim);
  for (int i = 0; i < head_dim; ++i) q[i] = std::sin(1.0 + i);
  auto permute = [&](const std::vector<double>& v) {
    std::vector<double> out(v.size());
    rope_halves_to_pairs(v.data(), out.data(), 1, head_dim, sizeof(double));
    return out;
  };
  for (int pos : {0, 1, 5, 100}) {
    auto want = permute(rope_rotate_half(q, pos, 10000.0));
    auto got = rope_adjacent_pairs(permute(q), pos, 10000.0);
    for (int i = 0; i < head_dim; ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "pos " << pos << " i " << i;
  }
}

// ---------------------------------------------------------------------------------------
// tokenizer.json

// A small SentencePiece-style BPE tokenizer.json, checked by hand. Ids deliberately do not
// follow merge ranks ("he" has a low id but the last merge) so that scores taken from ids
// would tokenize differently from BPE.
json tokenizer_fixture(bool merges_as_pairs = false, bool metaspace = false) {
  json vocab = json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    vocab[buf] = 3 + b;
  }
  std::vector<std::string> pieces = {"he", kMeta + "wor", kMeta, "h", "e", "l", "o", "w", "r", "d", "ll",
                                     kMeta + "h", "ell", kMeta + "hell", kMeta + "hello", "or", kMeta + "w"};
  for (size_t i = 0; i < pieces.size(); ++i) vocab[pieces[i]] = 259 + static_cast<int>(i);
  std::vector<std::pair<std::string, std::string>> merges = {
      {"l", "l"}, {kMeta, "h"}, {"e", "ll"}, {kMeta + "h", "ell"}, {kMeta + "hell", "o"},
      {"o", "r"}, {kMeta, "w"}, {kMeta + "w", "or"}, {"h", "e"}};
  json merge_list = json::array();
  for (const auto& [a, b] : merges) {
    if (merges_as_pairs) merge_list.push_back(json::array({a, b}));
    else merge_list.push_back(a + " " + b);
  }
  auto added = [](int id, const char* content) {
    return json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  json root = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", {added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")}},
      {"normalizer", {{"type", "Sequence"},
                      {"normalizers", {{{"type", "Prepend"}, {"prepend", kMeta}},
                                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kMeta}}}}}},
      {"pre_tokenizer", nullptr},
      {"decoder", {{"type", "Sequence"}, {"decoders", json::array()}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"},
                 {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
                 {"byte_fallback", true}, {"vocab", vocab}, {"merges", merge_list}}},
  };
  if (metaspace) {
    root["normalizer"] = nullptr;
    root["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", "first"},
                             {"split", false}};
  }
  return root;
}

Tokenizer parse_fixture(const json& j) {
  auto tok = parse_hf_tokenizer(j.dump(), "tokenizer.json");
  EXPECT_TRUE(tok.ok()) << tok.error().message;
  return tok.ok() ? tok.value() : Tokenizer();
}

std::vector<int> encode(const Tokenizer& tok, const std::string& text, bool bos = false) {
  auto ids = tok.encode(text, bos);
  EXPECT_TRUE(ids.ok()) << ids.error().message;
  return ids.ok() ? ids.value() : std::vector<int>();
}

std::string parse_error(const json& j) {
  auto tok = parse_hf_tokenizer(j.dump(), "tok.json");
  EXPECT_FALSE(tok.ok());
  return tok.ok() ? "" : tok.error().message;
}

TEST(HfTokenizer, ConvertsVocabularyTypesAndScores) {
  Tokenizer tok = parse_fixture(tokenizer_fixture());
  ASSERT_EQ(tok.vocab_size(), 276);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_EQ(tok.piece(273), kMeta + "hello");
  EXPECT_EQ(tok.type(0), static_cast<int32_t>(TokenType::Unknown));
  EXPECT_EQ(tok.type(1), static_cast<int32_t>(TokenType::Control));
  EXPECT_EQ(tok.type(2), static_cast<int32_t>(TokenType::Control));
  EXPECT_EQ(tok.type(3 + 0x41), static_cast<int32_t>(TokenType::Byte));
  EXPECT_EQ(tok.type(273), static_cast<int32_t>(TokenType::Normal));
  // Merge rank r gives its piece score -r; pieces no merge makes score -(number of merges).
  EXPECT_EQ(tok.score(269), 0.0f);    // "ll", rank 0
  EXPECT_EQ(tok.score(270), -1.0f);   // "▁h", rank 1
  EXPECT_EQ(tok.score(259), -8.0f);   // "he", rank 8
  EXPECT_EQ(tok.score(262), -9.0f);   // "h": no merge
  EXPECT_EQ(tok.score(1), -9.0f);     // "<s>"
}

TEST(HfTokenizer, EncodesInBpeMergeOrder) {
  Tokenizer tok = parse_fixture(tokenizer_fixture());
  // BPE: "l l" (rank 0), "▁ h" (1), "e ll" (2), "▁h ell" (3), "▁hell o" (4), "o r" (5),
  // "▁ w" (6), "▁w or" (7); "h e" (8) never applies. "!" has no piece: byte 0x21.
  EXPECT_EQ(encode(tok, "hello world!"), (std::vector<int>{273, 260, 264, 268, 3 + 0x21}));
  EXPECT_EQ(encode(tok, "hello hello", true), (std::vector<int>{1, 273, 273}));
  // "é" is not in the vocabulary: its two UTF-8 bytes; "ll o" is no merge.
  EXPECT_EQ(encode(tok, "h\xc3\xa9llo"), (std::vector<int>{270, 3 + 0xc3, 3 + 0xa9, 269, 265}));
  EXPECT_EQ(encode(tok, "he"), (std::vector<int>{270, 263}));  // "▁ h" outranks "h e"
  EXPECT_EQ(encode(tok, "xhe"), (std::vector<int>{261, 3 + 'x', 259}));

  std::string text;
  int prev = 1;
  for (int id : encode(tok, "hello world!")) {
    text += tok.decode(prev, id);
    prev = id;
  }
  EXPECT_EQ(text, "hello world!");
}

TEST(HfTokenizer, AcceptsPairMergesAndMetaspace) {
  Tokenizer plain = parse_fixture(tokenizer_fixture());
  for (const json& variant : {tokenizer_fixture(true, false), tokenizer_fixture(false, true)}) {
    Tokenizer tok = parse_fixture(variant);
    EXPECT_EQ(tok.scores(), plain.scores());
    EXPECT_EQ(encode(tok, "hello world! he"), encode(plain, "hello world! he"));
  }
}

TEST(HfTokenizer, LoadsFromFile) {
  std::string tmpl = (fs::temp_directory_path() / "lv_tok_XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  std::string p = tmpl + "/tokenizer.json";
  write_text(p, tokenizer_fixture().dump(2));
  auto tok = load_hf_tokenizer(p);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->vocab_size(), 276);
  write_text(p, "{\"model\": ");
  auto bad = load_hf_tokenizer(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message, p + ": not valid JSON")) << bad.error().message;
  fs::remove_all(tmpl);
  auto missing = load_hf_tokenizer(p);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message, p + ": cannot open")) << missing.error().message;
}

TEST(HfTokenizer, RejectsOtherKindsOfTokenizer) {
  json j = tokenizer_fixture();
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
  EXPECT_TRUE(contains(parse_error(j), "tok.json: pre_tokenizer: byte-level BPE (GPT-2 / Llama 3 style) is not supported"));
  j = tokenizer_fixture();
  j["model"]["type"] = "Unigram";
  EXPECT_TRUE(contains(parse_error(j), "tok.json: model.type: 'Unigram' is not supported"));
  j = tokenizer_fixture();
  j["normalizer"] = {{"type", "NFKC"}};
  EXPECT_TRUE(contains(parse_error(j), "tok.json: normalizer: normalizer 'NFKC' is not supported"));
  j = tokenizer_fixture();
  j["normalizer"] = nullptr;
  EXPECT_TRUE(contains(parse_error(j), "do not write spaces as U+2581"));
  j = tokenizer_fixture(false, true);
  j["pre_tokenizer"]["prepend_scheme"] = "never";
  EXPECT_TRUE(contains(parse_error(j), "do not write spaces as U+2581"));
  EXPECT_TRUE(contains(parse_error(json::array()), "tok.json: not a JSON object"));
}

TEST(HfTokenizer, ErrorsNameTheJsonPath) {
  json j = tokenizer_fixture();
  j["model"]["merges"][2] = "e zz";
  EXPECT_EQ(parse_error(j), "tok.json: model.merges[2]: 'zz' is not in model.vocab");
  j = tokenizer_fixture();
  j["model"]["merges"][3] = "l o";
  EXPECT_EQ(parse_error(j), "tok.json: model.merges[3]: the merged piece 'lo' is not in model.vocab");
  j = tokenizer_fixture();
  j["model"]["merges"][0] = "lll";
  EXPECT_EQ(parse_error(j), "tok.json: model.merges[0]: 'lll' is not two pieces separated by one space");
  j = tokenizer_fixture();
  j["model"]["vocab"]["h"] = -1;
  EXPECT_EQ(parse_error(j), "tok.json: model.vocab['h']: id is not a non-negative integer");
  j = tokenizer_fixture();
  j["model"]["vocab"]["h"] = 5;
  EXPECT_EQ(parse_error(j), "tok.json: model.vocab['h']: id 5 already belongs to '<0x02>'");
  j = tokenizer_fixture();
  j["model"]["vocab"]["h"] = 400;
  EXPECT_TRUE(contains(parse_error(j), "tok.json: model.vocab['h']: id 400 leaves a gap")) << parse_error(j);
  j = tokenizer_fixture();
  j["added_tokens"][1]["content"] = "<bos>";
  EXPECT_EQ(parse_error(j), "tok.json: added_tokens[1]: id 1 already belongs to '<s>'");
  j = tokenizer_fixture();
  j["model"]["unk_token"] = "<nope>";
  EXPECT_EQ(parse_error(j), "tok.json: model.unk_token: '<nope>' is not in model.vocab");
  j = tokenizer_fixture();
  j["model"].erase("merges");
  EXPECT_EQ(parse_error(j), "tok.json: model.merges: missing or not an array");
}

// The converted tokenizer of a real SentencePiece vocabulary (stories260K's tok512, turned
// into tokenizer.json the way Hugging Face converts SentencePiece models: every split of a
// piece into two pieces is a merge, ranked by the merged piece's score) tokenizes real text
// exactly as the SentencePiece scores do.
TEST(HfTokenizer, MatchesSentencePieceScoresOnRealVocabulary) {
  const std::string tok_path = std::string(LV_SHARED_MODELS) + "/stories260K/tok512.bin";
  const std::string text_path = std::string(LV_SHARED_MODELS) + "/text/tinystories_valid_a.txt";
  if (!fs::exists(tok_path) || !fs::exists(text_path)) GTEST_SKIP() << "no " << tok_path;

  // llama2.c tokenizer.bin: int32 max length, then per token: float score, int32 length, bytes.
  std::string bin = read_text(tok_path);
  std::vector<std::string> pieces;
  std::vector<float> scores;
  for (size_t at = 4; at + 8 <= bin.size();) {
    float score;
    int32_t len;
    std::memcpy(&score, &bin[at], 4);
    std::memcpy(&len, &bin[at + 4], 4);
    std::string piece = bin.substr(at + 8, static_cast<size_t>(len));
    at += 8 + static_cast<size_t>(len);
    for (size_t p; (p = piece.find(' ')) != std::string::npos;) piece.replace(p, 1, kMeta);  // llama2.c wrote spaces
    pieces.push_back(piece);
    scores.push_back(score);
  }
  ASSERT_EQ(pieces.size(), 512u);
  pieces[1] = "<s>";  // llama2.c exports them as "\n<s>\n" and "\n</s>\n"
  pieces[2] = "</s>";
  Tokenizer spm(pieces, scores, {});

  std::map<std::string, int> ids;
  for (size_t i = 0; i < pieces.size(); ++i) ids.emplace(pieces[i], static_cast<int>(i));
  struct Merge {
    float score;
    int left, right;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i];
    for (size_t cut = 1; cut < p.size(); ++cut) {
      if ((static_cast<unsigned char>(p[cut]) & 0xc0) == 0x80) continue;  // inside a UTF-8 character
      auto l = ids.find(p.substr(0, cut)), r = ids.find(p.substr(cut));
      if (l != ids.end() && r != ids.end()) merges.push_back({scores[i], l->second, r->second});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return a.score != b.score ? a.score > b.score : std::make_pair(a.left, a.right) < std::make_pair(b.left, b.right);
  });
  json j = tokenizer_fixture();
  j["model"]["vocab"] = json::object();
  for (size_t i = 0; i < pieces.size(); ++i) j["model"]["vocab"][pieces[i]] = i;
  j["model"]["merges"] = json::array();
  for (const auto& m : merges) j["model"]["merges"].push_back(json::array({pieces[m.left], pieces[m.right]}));
  Tokenizer converted = parse_fixture(j);
  ASSERT_EQ(converted.vocab_size(), 512);

  std::istringstream text(read_text(text_path));
  std::string line;
  int lines = 0;
  while (std::getline(text, line) && lines < 3000) {
    if (line.empty()) continue;
    ++lines;
    ASSERT_EQ(encode(converted, line, true), encode(spm, line, true)) << "line: " << line;
  }
  EXPECT_GT(lines, 100);
}

// ---------------------------------------------------------------------------------------
// Checkpoints

// What a stored value reads back as after being written as `dtype`.
float stored_value(float x, StDType dtype) {
  switch (dtype) {
    case StDType::F16: return f16_to_f32(f32_to_f16(x));
    case StDType::BF16: {
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      bits = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000u;  // round to nearest even
      float y;
      std::memcpy(&y, &bits, 4);
      return y;
    }
    default: return x;
  }
}

std::vector<uint8_t> encode_values(const std::vector<float>& values, StDType dtype) {
  std::vector<uint8_t> bytes(values.size() * st_dtype_size(dtype));
  for (size_t i = 0; i < values.size(); ++i) {
    float v = stored_value(values[i], dtype);
    if (dtype == StDType::F32) {
      std::memcpy(&bytes[4 * i], &v, 4);
    } else {
      uint16_t h;
      if (dtype == StDType::F16) {
        h = f32_to_f16(v);
      } else {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        h = static_cast<uint16_t>(bits >> 16);
      }
      std::memcpy(&bytes[2 * i], &h, 2);
    }
  }
  return bytes;
}

struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;  // Hugging Face layout
  StDType dtype = StDType::F32;
};

// The tensors of `m` under their Hugging Face names and in Hugging Face's layout: q_proj
// and k_proj rows put back into rotate-half order.
std::vector<HfTensor> hf_tensors(const Model& m, bool with_lm_head) {
  const ModelConfig& c = m.config;
  std::vector<HfTensor> out;
  auto add = [&](const std::string& name, const Tensor& t, bool vector = false, int rope_heads = 0) {
    std::vector<float> values = to_f32(t);
    if (rope_heads > 0) {
      std::vector<float> hf(values.size());
      rope_pairs_to_halves(values.data(), hf.data(), rope_heads, c.head_dim, static_cast<size_t>(t.cols) * 4);
      values = hf;
    }
    out.push_back({name, vector ? std::vector<int64_t>{t.cols} : std::vector<int64_t>{t.rows, t.cols}, values});
  };
  add("model.embed_tokens.weight", m.token_embedding);
  for (int l = 0; l < c.n_layers(); ++l) {
    const LayerWeights& w = m.layers[l];
    std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", w.attn_norm, true);
    add(p + "self_attn.q_proj.weight", w.wq, false, c.layers[l].n_heads);
    add(p + "self_attn.k_proj.weight", w.wk, false, c.layers[l].n_kv_heads);
    add(p + "self_attn.v_proj.weight", w.wv);
    add(p + "self_attn.o_proj.weight", w.wo);
    add(p + "post_attention_layernorm.weight", w.ffn_norm, true);
    add(p + "mlp.gate_proj.weight", w.w_gate);
    add(p + "mlp.up_proj.weight", w.w_up);
    add(p + "mlp.down_proj.weight", w.w_down);
  }
  add("model.norm.weight", m.output_norm, true);
  if (with_lm_head) add("lm_head.weight", m.classifier);
  return out;
}

json config_json(const ModelConfig& c, bool tie) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_act", "silu"},
          {"hidden_size", c.dim},
          {"intermediate_size", c.hidden_dim},
          {"num_hidden_layers", c.n_layers()},
          {"num_attention_heads", c.layers[0].n_heads},
          {"num_key_value_heads", c.layers[0].n_kv_heads},
          {"vocab_size", c.vocab_size},
          {"max_position_embeddings", c.seq_len},
          {"rms_norm_eps", c.norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", nullptr},
          {"attention_bias", false},
          {"tie_word_embeddings", tie},
          {"torch_dtype", "float32"}};
}

TEST(HfConfig, AppliesLlamaConfigDefaults) {
  auto hf = parse_hf_config(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 3, "num_attention_heads": 8, "vocab_size": 1000})", "config.json");
  ASSERT_TRUE(hf.ok()) << hf.error().message;
  const ModelConfig& c = hf->config;
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 128);
  EXPECT_EQ(c.n_layers(), 3);
  EXPECT_EQ(c.layers[2].n_heads, 8);
  EXPECT_EQ(c.layers[2].n_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.vocab_size, 1000);
  EXPECT_EQ(c.seq_len, 2048);
  EXPECT_EQ(c.norm_eps, 1e-6f);
  EXPECT_EQ(c.rope_theta, 10000.0f);
  EXPECT_FALSE(hf->tie_word_embeddings);
}

TEST(HfConfig, ReadsExplicitValues) {
  auto hf = parse_hf_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 60, "head_dim": 16,
      "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 6, "num_key_value_heads": 2,
      "vocab_size": 1000, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
      "tie_word_embeddings": true, "rope_scaling": null, "mlp_bias": false})", "config.json");
  ASSERT_TRUE(hf.ok()) << hf.error().message;
  EXPECT_EQ(hf->config.head_dim, 16);
  EXPECT_EQ(hf->config.layers[0].n_kv_heads, 2);
  EXPECT_EQ(hf->config.seq_len, 4096);
  EXPECT_EQ(hf->config.norm_eps, 1e-5f);
  EXPECT_EQ(hf->config.rope_theta, 500000.0f);
  EXPECT_TRUE(hf->tie_word_embeddings);
  auto bad = parse_hf_config(R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
      "num_hidden_layers": 1, "num_attention_heads": 8, "vocab_size": 1000, "mlp_bias": true})", "c.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "c.json: biases are not supported (field 'mlp_bias')");
  bad = parse_hf_config(R"({"model_type": "llama", "hidden_size": 1e400})", "c.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error().message, "c.json: not valid JSON")) << bad.error().message;
}

class HfCheckpointTest : public TempDirTest {
 protected:
  static Model synth(bool shared_classifier) {
    SynthSpec spec;
    spec.dim = 32;
    spec.hidden_dim = 48;
    spec.n_layers = 2;
    spec.n_heads = 4;
    spec.n_kv_heads = 2;
    spec.vocab_size = 300;
    spec.seq_len = 64;
    spec.shared_classifier = shared_classifier;
    spec.seed = 7;
    auto m = synthesize(spec);
    EXPECT_TRUE(m.ok()) << m.error().message;
    return std::move(m).value();
  }

  // Writes `tensors` as model.safetensors, or as `shards` shards plus the index.
  void write_weights(const std::vector<HfTensor>& tensors, int shards = 1) {
    std::vector<std::vector<uint8_t>> storage;
    std::vector<std::vector<StTensorRef>> files(static_cast<size_t>(shards));
    json weight_map = json::object();
    for (size_t i = 0; i < tensors.size(); ++i) {
      const HfTensor& t = tensors[i];
      storage.push_back(encode_values(t.values, t.dtype));
      size_t shard = i % static_cast<size_t>(shards);
      files[shard].push_back({t.name, t.dtype, t.shape, storage.back().data()});
      weight_map[t.name] = shard_name(shard, shards);
    }
    if (shards == 1) {
      ASSERT_TRUE(write_safetensors(path("model.safetensors"), files[0], {{"format", "pt"}}).ok());
      return;
    }
    for (int s = 0; s < shards; ++s) {
      ASSERT_TRUE(write_safetensors(path(shard_name(s, shards)), files[static_cast<size_t>(s)]).ok());
    }
    write_text(path("model.safetensors.index.json"), json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump());
  }

  static std::string shard_name(size_t s, int shards) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05zu-of-%05d.safetensors", s + 1, shards);
    return buf;
  }

  void write_checkpoint(const Model& m, StDType dtype, bool tie, bool with_lm_head, int shards = 1) {
    auto tensors = hf_tensors(m, with_lm_head);
    for (auto& t : tensors) t.dtype = dtype;
    write_weights(tensors, shards);
    write_text(path("config.json"), config_json(m.config, tie).dump(2));
  }

  Result<Model> load() { return load_hf_checkpoint(dir_); }

  std::string load_error() {
    auto m = load();
    EXPECT_FALSE(m.ok());
    return m.ok() ? "" : m.error().message;
  }
};

void expect_same_values(const Tensor& got, const Tensor& want, StDType stored, const std::string& what) {
  ASSERT_EQ(got.rows, want.rows) << what;
  ASSERT_EQ(got.cols, want.cols) << what;
  std::vector<float> g = to_f32(got), w = to_f32(want);
  int mismatches = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    float expected = stored_value(w[i], stored);
    if (g[i] != expected && mismatches++ == 0) {
      ADD_FAILURE() << what << "[" << i << "] = " << g[i] << ", expected " << expected;
    }
  }
  EXPECT_EQ(mismatches, 0) << what;
}

void expect_same_model(const Model& got, const Model& want, StDType stored) {
  ASSERT_EQ(got.layers.size(), want.layers.size());
  expect_same_values(got.token_embedding, want.token_embedding, stored, "token_embedding");
  for (size_t l = 0; l < want.layers.size(); ++l) {
    const LayerWeights &g = got.layers[l], &w = want.layers[l];
    std::string p = "layer " + std::to_string(l) + " ";
    expect_same_values(g.attn_norm, w.attn_norm, stored, p + "attn_norm");
    expect_same_values(g.wq, w.wq, stored, p + "wq");
    expect_same_values(g.wk, w.wk, stored, p + "wk");
    expect_same_values(g.wv, w.wv, stored, p + "wv");
    expect_same_values(g.wo, w.wo, stored, p + "wo");
    expect_same_values(g.ffn_norm, w.ffn_norm, stored, p + "ffn_norm");
    expect_same_values(g.w_gate, w.w_gate, stored, p + "w_gate");
    expect_same_values(g.w_up, w.w_up, stored, p + "w_up");
    expect_same_values(g.w_down, w.w_down, stored, p + "w_down");
  }
  expect_same_values(got.output_norm, want.output_norm, stored, "output_norm");
  expect_same_values(got.classifier, want.classifier, stored, "classifier");
}

bool same_owner(const Tensor& a, const Tensor& b) {
  return !a.owner.owner_before(b.owner) && !b.owner.owner_before(a.owner);
}

TEST_F(HfCheckpointTest, LoadsF32WeightsEqualToTheOriginal) {
  Model want = synth(false);
  write_checkpoint(want, StDType::F32, false, true);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  const ModelConfig &gc = got->config, &wc = want.config;
  EXPECT_EQ(gc.dim, wc.dim);
  EXPECT_EQ(gc.hidden_dim, wc.hidden_dim);
  EXPECT_EQ(gc.vocab_size, wc.vocab_size);
  EXPECT_EQ(gc.seq_len, wc.seq_len);
  EXPECT_EQ(gc.head_dim, wc.head_dim);
  EXPECT_EQ(gc.norm_eps, wc.norm_eps);
  EXPECT_EQ(gc.rope_theta, wc.rope_theta);
  ASSERT_EQ(gc.n_layers(), 2);
  EXPECT_EQ(gc.layers[1].n_heads, 4);
  EXPECT_EQ(gc.layers[1].n_kv_heads, 2);
  EXPECT_FALSE(got->shared_classifier);
  EXPECT_EQ(got->format, "safetensors");
  EXPECT_EQ(got->path, dir_);
  EXPECT_GT(got->file_size, static_cast<uint64_t>(want.parameter_count()) * 4);
  EXPECT_TRUE(got->tokenizer.empty());
  expect_same_model(*got, want, StDType::F32);
  // Unpermuted F32 weights stay in the mapping (all share it); q and k are heap copies.
  EXPECT_EQ(got->layers[0].wv.dtype, DType::F32);
  EXPECT_TRUE(same_owner(got->layers[0].wv, got->layers[1].w_down));
  EXPECT_TRUE(same_owner(got->layers[0].wv, got->token_embedding));
  EXPECT_FALSE(same_owner(got->layers[0].wq, got->layers[0].wv));
  EXPECT_TRUE(got->validate().ok());
}

TEST_F(HfCheckpointTest, LoadsF16AsF16) {
  Model want = synth(false);
  write_checkpoint(want, StDType::F16, false, true);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->layers[0].wq.dtype, DType::F16);
  EXPECT_EQ(got->layers[0].wv.dtype, DType::F16);
  EXPECT_EQ(got->output_norm.dtype, DType::F16);
  expect_same_model(*got, want, StDType::F16);
}

TEST_F(HfCheckpointTest, ConvertsBF16ToF32) {
  Model want = synth(false);
  write_checkpoint(want, StDType::BF16, false, true);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->layers[0].wv.dtype, DType::F32);
  EXPECT_EQ(got->classifier.dtype, DType::F32);
  expect_same_model(*got, want, StDType::BF16);
}

TEST_F(HfCheckpointTest, LoadsShardedCheckpoints) {
  Model want = synth(false);
  write_checkpoint(want, StDType::F32, false, true, 3);
  EXPECT_FALSE(fs::exists(path("model.safetensors")));
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  expect_same_model(*got, want, StDType::F32);
  auto via_index = load_hf_checkpoint(path("model.safetensors.index.json"));
  ASSERT_TRUE(via_index.ok()) << via_index.error().message;
  expect_same_model(*via_index, want, StDType::F32);
}

TEST_F(HfCheckpointTest, LoadsAFileNamedDirectly) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, false);
  fs::rename(path("model.safetensors"), path("weights.safetensors"));
  auto got = load_hf_checkpoint(path("weights.safetensors"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  expect_same_model(*got, want, StDType::F32);
  EXPECT_TRUE(contains(load_error(), "no model.safetensors or model.safetensors.index.json"));
  EXPECT_TRUE(is_hf_checkpoint_path(dir_));
  EXPECT_TRUE(is_hf_checkpoint_path(path("weights.safetensors")));
  EXPECT_FALSE(is_hf_checkpoint_path(path("model.gguf")));
}

TEST_F(HfCheckpointTest, CopiesMisalignedWeights) {
  // A valid file whose data buffer starts 2 bytes off a 4-byte boundary: F32 tensors cannot
  // be used in place (a misaligned float read is undefined behaviour), so they are copied.
  Model want = synth(true);
  write_text(path("config.json"), config_json(want.config, true).dump());
  json header = json::object();
  std::string data;
  for (const HfTensor& t : hf_tensors(want, false)) {
    std::vector<uint8_t> bytes = encode_values(t.values, t.dtype);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data.append(bytes.begin(), bytes.end());
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 4 != 2) text += ' ';
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(text.size() >> (8 * i));
  write_text(path("model.safetensors"), file + text + data);

  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  expect_same_model(*got, want, StDType::F32);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(got->layers[0].wv.data) % 4, 0u);
  EXPECT_FALSE(same_owner(got->layers[0].wv, got->layers[0].wo));
}

TEST_F(HfCheckpointTest, TiedEmbeddingsShareTheClassifier) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, false);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->shared_classifier);
  EXPECT_EQ(got->classifier.data, got->token_embedding.data);
  expect_same_model(*got, want, StDType::F32);
}

TEST_F(HfCheckpointTest, TiedEmbeddingsIgnoreAStoredLmHead) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, true);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->shared_classifier);
  EXPECT_EQ(got->classifier.data, got->token_embedding.data);
}

TEST_F(HfCheckpointTest, AbsentLmHeadMeansShared) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, false, false);
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->shared_classifier);
  expect_same_model(*got, want, StDType::F32);
}

TEST_F(HfCheckpointTest, ReadsTokenizerJsonAndPadsItToVocabSize) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, false);
  write_text(path("tokenizer.json"), tokenizer_fixture().dump());
  auto got = load();
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->tokenizer.vocab_size(), 300);
  EXPECT_EQ(got->tokenizer.piece(276), "[PAD276]");
  EXPECT_EQ(got->tokenizer.type(299), static_cast<int32_t>(TokenType::Unused));
  auto ids = got->tokenizer.encode("hello world!", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids.value(), (std::vector<int>{1, 273, 260, 264, 268, 3 + 0x21}));

  json big = tokenizer_fixture();
  for (int i = 0; i < 30; ++i) big["model"]["vocab"]["extra" + std::to_string(i)] = 276 + i;
  write_text(path("tokenizer.json"), big.dump());
  EXPECT_EQ(load_error(), path("tokenizer.json") + ": has 306 tokens but config.json's vocab_size is 300");
}

TEST_F(HfCheckpointTest, RejectsNonLlamaModels) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, false);
  json c = config_json(want.config, true);
  c["model_type"] = "gpt2";
  write_text(path("config.json"), c.dump());
  EXPECT_EQ(load_error(), path("config.json") + ": model_type 'gpt2' is not supported (field 'model_type'; only 'llama' is)");
  c.erase("model_type");
  c["architectures"] = {"GPT2LMHeadModel"};
  write_text(path("config.json"), c.dump());
  EXPECT_TRUE(contains(load_error(), "not a Llama model"));
  c["architectures"] = {"LlamaForCausalLM"};
  write_text(path("config.json"), c.dump());
  EXPECT_TRUE(load().ok());
}

TEST_F(HfCheckpointTest, RejectsBadConfigs) {
  Model want = synth(true);
  write_checkpoint(want, StDType::F32, true, false);
  const std::string cfg = path("config.json");
  auto error_with = [&](const std::function<void(json&)>& edit) {
    json c = config_json(want.config, true);
    edit(c);
    write_text(cfg, c.dump());
    return load_error();
  };
  EXPECT_EQ(error_with([](json& c) { c.erase("hidden_size"); }), cfg + ": missing field 'hidden_size'");
  EXPECT_EQ(error_with([](json& c) { c["num_hidden_layers"] = -2; }),
            cfg + ": field 'num_hidden_layers' is not a positive integer");
  EXPECT_EQ(error_with([](json& c) { c["vocab_size"] = "300"; }), cfg + ": field 'vocab_size' is not a positive integer");
  EXPECT_EQ(error_with([](json& c) { c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}}; }),
            cfg + ": rope_scaling is not supported (field 'rope_scaling')");
  EXPECT_EQ(error_with([](json& c) { c["hidden_act"] = "gelu"; }),
            cfg + ": hidden_act other than 'silu' is not supported (field 'hidden_act')");
  EXPECT_TRUE(contains(error_with([](json& c) { c["num_key_value_heads"] = 3; }), cfg + ": n_kv_heads = 3 does not divide"));
  EXPECT_TRUE(contains(error_with([](json& c) { c["hidden_size"] = 30; }), "hidden_size 30 is not a multiple"));
  write_text(cfg, "{");
  EXPECT_TRUE(contains(load_error(), cfg + ": not valid JSON"));
  fs::remove(cfg);
  EXPECT_EQ(load_error(), dir_ + ": no config.json beside the weights");
}

TEST_F(HfCheckpointTest, ErrorsNameTheFileAndTensor) {
  Model want = synth(true);
  write_text(path("config.json"), config_json(want.config, true).dump());
  const std::string weights = path("model.safetensors");

  auto tensors = hf_tensors(want, false);
  std::erase_if(tensors, [](const HfTensor& t) { return t.name == "model.layers.1.mlp.up_proj.weight"; });
  write_weights(tensors);
  EXPECT_EQ(load_error(), weights + ": missing tensor (tensor 'model.layers.1.mlp.up_proj.weight')");

  tensors = hf_tensors(want, false);
  for (auto& t : tensors) {
    if (t.name == "model.layers.0.self_attn.k_proj.weight") {
      t.shape = {16, 16};
      t.values.resize(256);
    }
  }
  write_weights(tensors);
  EXPECT_EQ(load_error(), weights + ": shape [16, 16] where [16, 32] was expected "
                                    "(tensor 'model.layers.0.self_attn.k_proj.weight')");

  tensors = hf_tensors(want, false);
  for (auto& t : tensors) {
    if (t.name == "model.norm.weight") t.dtype = StDType::I32;
  }
  write_weights(tensors);
  EXPECT_EQ(load_error(), weights + ": dtype I32 is not supported (F32, F16 or BF16 expected) (tensor 'model.norm.weight')");

  // A file the safetensors reader refuses: the tensor's data runs past the end.
  write_weights(hf_tensors(want, false));
  fs::resize_file(weights, fs::file_size(weights) - 4);
  EXPECT_TRUE(contains(load_error(), weights + ": ")) << load_error();
}

TEST_F(HfCheckpointTest, ShardErrorsNameTheIndex) {
  Model want = synth(false);
  write_checkpoint(want, StDType::F32, false, true, 2);
  const std::string index = path("model.safetensors.index.json");
  json j = json::parse(read_text(index));
  j["weight_map"]["model.norm.weight"] = "../elsewhere.safetensors";
  write_text(index, j.dump());
  EXPECT_EQ(load_error(), index + ": shard '../elsewhere.safetensors' is not a file name in the same directory "
                                  "(weight_map['model.norm.weight'])");
  j["weight_map"]["model.norm.weight"] = shard_name(1, 2);
  j["weight_map"]["model.embed_tokens.weight"] = shard_name(1, 2);  // it is in shard 0
  write_text(index, j.dump());
  EXPECT_EQ(load_error(), path(shard_name(1, 2)) + ": tensor listed in model.safetensors.index.json is missing "
                                                     "(tensor 'model.embed_tokens.weight')");
  j["weight_map"]["model.embed_tokens.weight"] = shard_name(0, 2);
  j["weight_map"].erase("model.norm.weight");
  write_text(index, j.dump());
  EXPECT_EQ(load_error(), index + ": missing tensor (tensor 'model.norm.weight')");
  write_text(index, "{\"metadata\": {}}");
  EXPECT_EQ(load_error(), index + ": no \"weight_map\" object");
}

}  // namespace
}  // namespace lv
