#include "lightvault/model/gguf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>

#include "lightvault/model/gguf_layout.h"
#include "lightvault/model/llama2c.h"
#include "lightvault/model/synth.h"
#include "lightvault/tensor/quantize.h"

namespace lv {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------
// Helpers

// A fresh directory per test, removed afterwards.
class GgufTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(testing::TempDir()) / "gguf_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string dir_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

template <class T>
void poke(std::string& bytes, uint64_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

Result<GgufFile> parse_bytes(const std::string& bytes, const std::string& name = "mem.gguf") {
  return GgufFile::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
}

std::string tensor_bytes(const Tensor& t) {
  if (t.data == nullptr) return "";
  return std::string(static_cast<const char*>(t.data), t.nbytes());
}

void expect_identical(const Tensor& a, const Tensor& b, const std::string& name) {
  EXPECT_EQ(a.dtype, b.dtype) << name;
  EXPECT_EQ(a.rows, b.rows) << name;
  EXPECT_EQ(a.cols, b.cols) << name;
  EXPECT_TRUE(tensor_bytes(a) == tensor_bytes(b)) << name << " differs";
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.seq_len, b.seq_len);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.norm_eps, b.norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  ASSERT_EQ(a.n_layers(), b.n_layers());
  for (int l = 0; l < a.n_layers(); ++l) {
    EXPECT_EQ(a.layers[l].n_heads, b.layers[l].n_heads) << "layer " << l;
    EXPECT_EQ(a.layers[l].n_kv_heads, b.layers[l].n_kv_heads) << "layer " << l;
  }
}

void expect_same_tokenizer(const Tokenizer& a, const Tokenizer& b) {
  EXPECT_EQ(a.pieces(), b.pieces());
  EXPECT_EQ(a.scores(), b.scores());
  EXPECT_EQ(a.types(), b.types());
  EXPECT_EQ(a.bos_id(), b.bos_id());
  EXPECT_EQ(a.eos_id(), b.eos_id());
  EXPECT_EQ(a.unk_id(), b.unk_id());
}

Model synth_model(int dim, int hidden, int n_layers, int heads, int kv_heads, bool shared, uint64_t seed = 7) {
  SynthSpec spec;
  spec.dim = dim;
  spec.hidden_dim = hidden;
  spec.n_layers = n_layers;
  spec.n_heads = heads;
  spec.n_kv_heads = kv_heads;
  spec.vocab_size = 300;
  spec.seq_len = 128;
  spec.shared_classifier = shared;
  spec.seed = seed;
  auto m = synthesize(spec);
  EXPECT_TRUE(m.ok()) << m.error().message;
  return std::move(m).value();
}

// The first `rows` rows of `t` (F32) as a new tensor.
Tensor first_rows(const Tensor& t, int64_t rows) { return Tensor::from_f32(rows, t.cols, t.f32()); }

// The first `cols` columns of each row of `t` (F32) as a new tensor.
Tensor first_cols(const Tensor& t, int64_t cols) {
  Tensor out = Tensor::zeros_f32(t.rows, cols);
  for (int64_t r = 0; r < t.rows; ++r) std::memcpy(out.mutable_f32() + r * cols, t.f32() + r * t.cols, cols * 4);
  return out;
}

// Keeps the first `heads` query heads and `kv` key/value heads of layer `l` (a crude prune).
void keep_heads(Model& m, int l, int heads, int kv) {
  const int64_t hd = m.config.head_dim;
  LayerWeights& w = m.layers[l];
  m.config.layers[l] = LayerShape{heads, kv};
  w.wq = first_rows(w.wq, heads * hd);
  w.wk = first_rows(w.wk, kv * hd);
  w.wv = first_rows(w.wv, kv * hd);
  w.wo = first_cols(w.wo, heads * hd);
}

// Rewrites the GGUF file `in` as `out` after `edit` changes its metadata and tensor list.
void rewrite(const std::string& in, const std::string& out,
             const std::function<void(GgufMetadata&, std::vector<GgufTensorSource>&)>& edit) {
  auto f = GgufFile::open(in);
  ASSERT_TRUE(f.ok()) << f.error().message;
  GgufMetadata md = f->metadata();
  std::vector<GgufTensorSource> tensors;
  for (const GgufTensorInfo& t : f->tensors()) {
    GgufTensorSource src;
    src.name = t.name;
    src.type = t.type;
    src.dims = t.dims;
    GgufBlob blob{f->tensor_data(t), t.nbytes, f->owner()};
    src.bytes = [blob]() -> Result<GgufBlob> { return blob; };
    tensors.push_back(std::move(src));
  }
  edit(md, tensors);
  Status s = write_gguf(out, md, tensors);
  ASSERT_TRUE(s.ok()) << s.error().message;
}

// An error that names `path` first and then a field or an offset.
void expect_gguf_error(const Error& e, const std::string& path, const std::string& needle = "") {
  EXPECT_EQ(e.message.rfind(path + ": ", 0), 0u) << e.message;
  EXPECT_TRUE(e.message.find("(field '") != std::string::npos || e.message.find("(offset ") != std::string::npos)
      << e.message;
  if (!needle.empty()) {
    EXPECT_NE(e.message.find(needle), std::string::npos) << e.message;
  }
}

// ---------------------------------------------------------------------------------------
// Round trips

TEST_F(GgufTest, F32RoundTripIsByteIdentical) {
  for (bool shared : {true, false}) {
    Model m = synth_model(64, 172, 3, 4, 2, shared);
    std::string file = path(shared ? "shared.gguf" : "unshared.gguf");
    Status s = save_gguf(m, file, GgufWriteOptions{GgufWeights::F32, "tiny", 32});
    ASSERT_TRUE(s.ok()) << s.error().message;

    auto back = load_gguf(file);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->format, "gguf");
    EXPECT_EQ(back->path, file);
    EXPECT_EQ(back->file_size, fs::file_size(file));
    EXPECT_EQ(back->shared_classifier, shared);
    expect_same_config(back->config, m.config);
    expect_same_tokenizer(back->tokenizer, m.tokenizer);
    for (const GgufSlot& slot : gguf_slots(m.config, false)) {
      expect_identical(gguf_slot_tensor(*back, slot), gguf_slot_tensor(m, slot), slot.name);
    }
    auto f = GgufFile::open(file);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->find_tensor("output.weight") == nullptr, shared);
    EXPECT_EQ(f->get_string("general.architecture").value(), "llama");
    EXPECT_EQ(f->get_string("general.name").value(), "tiny");
    EXPECT_EQ(f->get_int("general.file_type").value(), 0);
    EXPECT_EQ(f->get_int("llama.rope.dimension_count").value(), 16);
    EXPECT_EQ(f->get_bool("tokenizer.ggml.add_bos_token").value(), true);
    EXPECT_EQ(f->get_bool("tokenizer.ggml.add_eos_token").value(), false);
    EXPECT_EQ(f->metadata().find("llama.attention.head_count")->type(), GgufType::Uint32);
    for (const GgufTensorInfo& t : f->tensors()) {
      EXPECT_EQ(t.file_offset % 32, 0u) << t.name;
      EXPECT_EQ(t.type, kGgmlF32) << t.name;
    }
  }
}

TEST_F(GgufTest, Q8_0WriteEqualsQuantizeQ8_0OfTheOriginals) {
  // hidden 172 is not a multiple of 32: ffn_down (172 columns) stays F32.
  Model m = synth_model(64, 172, 2, 4, 4, /*shared=*/false);
  std::string file = path("q8.gguf");
  Status s = save_gguf(m, file, GgufWriteOptions{GgufWeights::Q8_0, "", 32});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto back = load_gguf(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  int quantized = 0;
  for (const GgufSlot& slot : gguf_slots(m.config, false)) {
    const Tensor& orig = gguf_slot_tensor(m, slot);
    const Tensor& got = gguf_slot_tensor(*back, slot);
    if (!slot.vector && orig.cols % 32 == 0) {
      ++quantized;
      expect_identical(got, quantize_q8_0(orig), slot.name);
    } else {
      expect_identical(got, orig, slot.name);  // norms and ffn_down stay F32
    }
  }
  EXPECT_EQ(quantized, 2 + 2 * 6);  // token_embd, output, and 6 per layer
  auto f = GgufFile::open(file);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->get_int("general.file_type").value(), 7);
  EXPECT_EQ(f->find_tensor("token_embd.weight")->type, kGgmlQ8_0);
  EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->type, kGgmlF32);
  EXPECT_EQ(f->get_string("general.name").value(), "synthetic");

  // Keep writes Q8_0 as it is.
  std::string again = path("q8_again.gguf");
  ASSERT_TRUE(save_gguf(*back, again, {}).ok());
  auto g = GgufFile::open(again);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(read_bytes(again).substr(g->data_offset()), read_bytes(file).substr(f->data_offset()));
}

TEST_F(GgufTest, KeepWritesF16AndConvertsI8) {
  Model m = synth_model(64, 128, 1, 4, 4, true);
  // wq as F16, wk as I8 with per-row scales.
  const Tensor& wq = m.layers[0].wq;
  auto halves = std::shared_ptr<uint16_t[]>(new uint16_t[wq.numel()]);
  for (int64_t i = 0; i < wq.numel(); ++i) halves[i] = f32_to_f16(wq.f32()[i]);
  Tensor f16 = wq;
  f16.dtype = DType::F16;
  f16.data = halves.get();
  f16.owner = std::shared_ptr<const void>(halves, halves.get());
  m.layers[0].wq = f16;
  const Tensor& wk = m.layers[0].wk;
  auto q = std::shared_ptr<int8_t[]>(new int8_t[wk.numel()]);
  auto scales = std::shared_ptr<float[]>(new float[wk.rows]);
  for (int64_t r = 0; r < wk.rows; ++r) scales[r] = quantize_row_i8(wk.f32() + r * wk.cols, q.get() + r * wk.cols, wk.cols);
  Tensor i8 = wk;
  i8.dtype = DType::I8;
  i8.data = q.get();
  i8.scales = scales.get();
  i8.owner = std::shared_ptr<const void>(q, q.get());
  m.layers[0].wk = i8;

  std::string file = path("keep.gguf");
  ASSERT_TRUE(save_gguf(m, file).ok());
  auto back = load_gguf(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_identical(back->layers[0].wq, f16, "wq");
  expect_identical(back->layers[0].wk, i8_as_q8_0(i8), "wk");  // values kept, scale as float16
  expect_identical(back->layers[0].wv, m.layers[0].wv, "wv");
  auto f = GgufFile::open(file);
  EXPECT_EQ(f->get_int("general.file_type").value(), 7);
}

TEST_F(GgufTest, F16WritesEveryWeightAsHalfAndNormsAsF32) {
  Model m = synth_model(64, 172, 2, 4, 2, false);
  std::string file = path("half.gguf");
  ASSERT_TRUE(save_gguf(m, file, GgufWriteOptions{GgufWeights::F16, "", 32}).ok());
  auto f = GgufFile::open(file);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->get_int("general.file_type").value(), 1);
  auto back = load_gguf(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  for (const GgufSlot& slot : gguf_slots(m.config, false)) {
    const Tensor &orig = gguf_slot_tensor(m, slot), &half = gguf_slot_tensor(*back, slot);
    EXPECT_EQ(f->find_tensor(slot.name)->type, slot.vector ? kGgmlF32 : kGgmlF16) << slot.name;
    std::vector<float> a = to_f32(orig), b = to_f32(half);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(b[i], f16_to_f32(f32_to_f16(a[i]))) << slot.name << " [" << i << "]";
    }
  }
}

TEST_F(GgufTest, PerLayerHeadsRoundTripAsDeci) {
  Model m = synth_model(64, 96, 4, 4, 2, false);
  keep_heads(m, 1, 2, 1);
  keep_heads(m, 2, 0, 0);  // an attention-free layer
  ASSERT_TRUE(m.validate().ok()) << m.validate().error().message;
  for (GgufWeights w : {GgufWeights::F32, GgufWeights::Q8_0}) {
    std::string file = path("deci.gguf");
    Status s = save_gguf(m, file, GgufWriteOptions{w, "", 32});
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto f = GgufFile::open(file);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->get_string("general.architecture").value(), "deci");
    const GgufValue* heads = f->metadata().find("deci.attention.head_count");
    ASSERT_NE(heads, nullptr);
    EXPECT_EQ(*heads, GgufValue::array(std::vector<int32_t>{4, 2, 0, 4}));
    EXPECT_EQ(*f->metadata().find("deci.attention.head_count_kv"), GgufValue::array(std::vector<int32_t>{2, 1, 0, 2}));
    EXPECT_EQ(f->get_int("deci.attention.key_length").value(), 16);
    EXPECT_EQ(f->get_int("deci.attention.value_length").value(), 16);
    EXPECT_EQ(f->get_int("deci.block_count").value(), 4);
    EXPECT_EQ(f->metadata().find("llama.block_count"), nullptr);
    for (const char* name : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output"}) {
      EXPECT_EQ(f->find_tensor(std::string("blk.2.") + name + ".weight"), nullptr) << name;
    }
    EXPECT_EQ(f->find_tensor("blk.1.attn_q.weight")->dims, (std::vector<int64_t>{64, 32}));

    auto back = load_gguf(file);
    ASSERT_TRUE(back.ok()) << back.error().message;
    expect_same_config(back->config, m.config);
    for (const GgufSlot& slot : gguf_slots(m.config, false)) {
      const Tensor& orig = gguf_slot_tensor(m, slot);
      bool q8 = w == GgufWeights::Q8_0 && !slot.vector && orig.cols % 32 == 0;
      expect_identical(gguf_slot_tensor(*back, slot), q8 ? quantize_q8_0(orig) : orig, slot.name);
    }
    const LayerWeights& empty = back->layers[2];
    EXPECT_EQ(to_f32(empty.attn_norm), std::vector<float>(64, 1.0f));
    EXPECT_EQ(empty.wq.rows, 0);
    EXPECT_EQ(empty.wo.cols, 0);
    EXPECT_EQ(empty.wo.rows, 64);
    EXPECT_TRUE(back->validate().ok());
  }
}

TEST_F(GgufTest, MisalignedDataIsCopied) {
  // With general.alignment 1, F32 data may start at any byte; such tensors are copied.
  Model m = synth_model(64, 96, 1, 4, 4, false);
  std::string file = path("align1.gguf");
  ASSERT_TRUE(save_gguf(m, file, GgufWriteOptions{GgufWeights::Keep, "odd", 1}).ok());
  auto f = GgufFile::open(file);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->alignment(), 1u);
  int misaligned = 0;
  for (const GgufTensorInfo& t : f->tensors()) misaligned += t.file_offset % 4 != 0;
  EXPECT_GT(misaligned, 0);  // "odd" makes the header length odd
  auto back = gguf_model(*f);
  ASSERT_TRUE(back.ok()) << back.error().message;
  for (const GgufSlot& slot : gguf_slots(m.config, false)) {
    const Tensor& t = gguf_slot_tensor(*back, slot);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 4, 0u) << slot.name;
    expect_identical(t, gguf_slot_tensor(m, slot), slot.name);
  }
  EXPECT_FALSE(save_gguf(m, file, GgufWriteOptions{GgufWeights::Keep, "", 24}).ok());
}

TEST_F(GgufTest, LlamaFileWithPerLayerHeadArraysLoads) {
  // llama.cpp allows head_count to be an array for `llama` too.
  Model m = synth_model(64, 96, 2, 4, 2, true);
  std::string file = path("m.gguf"), arrays = path("arrays.gguf");
  ASSERT_TRUE(save_gguf(m, file).ok());
  rewrite(file, arrays, [](GgufMetadata& md, std::vector<GgufTensorSource>&) {
    md.set("llama.attention.head_count", GgufValue::array(std::vector<uint32_t>{4, 4}));
    md.set("llama.attention.head_count_kv", GgufValue::array(std::vector<int32_t>{2, 2}));
  });
  auto back = load_gguf(arrays);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_config(back->config, m.config);
}

TEST_F(GgufTest, DefaultsApplyWhenOptionalKeysAreAbsent) {
  Model m = synth_model(64, 96, 2, 4, 4, true);
  std::string file = path("m.gguf"), bare = path("bare.gguf");
  ASSERT_TRUE(save_gguf(m, file).ok());
  rewrite(file, bare, [](GgufMetadata& md, std::vector<GgufTensorSource>&) {
    GgufMetadata kept;
    for (const auto& [key, value] : md.entries()) {
      if (key.find("head_count_kv") == std::string::npos && key.find("length") == std::string::npos &&
          key.find("rope") == std::string::npos && key.find("epsilon") == std::string::npos &&
          key.find("tokenizer") == std::string::npos) {
        kept.set(key, value);
      }
    }
    kept.set("llama.embedding_length", GgufValue::scalar(uint32_t{64}));
    kept.set("llama.feed_forward_length", GgufValue::scalar(uint64_t{96}));
    kept.set("llama.context_length", GgufValue::scalar(int32_t{77}));
    md = kept;
  });
  auto back = load_gguf(bare);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->config.head_dim, 16);
  EXPECT_EQ(back->config.layers[1].n_kv_heads, 4);
  EXPECT_EQ(back->config.norm_eps, 1e-5f);
  EXPECT_EQ(back->config.rope_theta, 10000.0f);
  EXPECT_EQ(back->config.seq_len, 77);
  EXPECT_EQ(back->config.vocab_size, 300);  // from token_embd's rows
  EXPECT_TRUE(back->tokenizer.empty());
  auto tok = load_gguf_tokenizer(bare);
  ASSERT_FALSE(tok.ok());
  expect_gguf_error(tok.error(), bare, "no tokenizer");
}

TEST_F(GgufTest, TokenizerLoadsAlone) {
  Model m = synth_model(64, 96, 1, 4, 4, true);
  std::string file = path("m.gguf");
  ASSERT_TRUE(save_gguf(m, file).ok());
  auto tok = load_gguf_tokenizer(file);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  expect_same_tokenizer(*tok, m.tokenizer);
  auto ids = tok->encode("ab a", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, m.tokenizer.encode("ab a", true).value());
}

TEST_F(GgufTest, RealModelRoundTrips) {
  std::string dir = std::string(LV_SHARED_MODELS) + "/stories260K";
  if (!fs::exists(dir + "/stories260K.bin")) GTEST_SKIP() << "no " << dir;
  auto m = load_llama2c(dir + "/stories260K.bin");
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto tok = load_llama2c_tokenizer(dir + "/tok512.bin");
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  m->tokenizer = *tok;
  std::string file = path("stories.gguf");
  ASSERT_TRUE(save_gguf(*m, file).ok());
  auto back = load_gguf(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same_config(back->config, m->config);
  expect_same_tokenizer(back->tokenizer, m->tokenizer);
  for (const GgufSlot& slot : gguf_slots(m->config, m->shared_classifier)) {
    expect_identical(gguf_slot_tensor(*back, slot), gguf_slot_tensor(*m, slot), slot.name);
  }
}

// ---------------------------------------------------------------------------------------
// The generic container

GgufMetadata every_value_type() {
  GgufMetadata md;
  md.set("general.alignment", GgufValue::scalar(uint32_t{64}));
  md.set("t.u8", GgufValue::scalar(uint8_t{255}));
  md.set("t.i8", GgufValue::scalar(int8_t{-128}));
  md.set("t.u16", GgufValue::scalar(uint16_t{65535}));
  md.set("t.i16", GgufValue::scalar(int16_t{-32768}));
  md.set("t.u32", GgufValue::scalar(uint32_t{4000000000u}));
  md.set("t.i32", GgufValue::scalar(int32_t{-2000000000}));
  md.set("t.f32", GgufValue::scalar(-0.0f));
  md.set("t.f32nan", GgufValue::scalar(std::numeric_limits<float>::quiet_NaN()));
  md.set("t.bool", GgufValue::scalar(true));
  md.set("t.string", GgufValue::string(std::string("h\xc3\xa9llo\0w\xe2\x96\x81rld", 14)));
  md.set("t.empty_string", GgufValue::string(""));
  md.set("t.u64", GgufValue::scalar(std::numeric_limits<uint64_t>::max()));
  md.set("t.i64", GgufValue::scalar(std::numeric_limits<int64_t>::min()));
  md.set("t.f64", GgufValue::scalar(1e300));
  md.set("a.u8", GgufValue::array(std::vector<uint8_t>{0, 1, 255}));
  md.set("a.i8", GgufValue::array(std::vector<int8_t>{-1, 2}));
  md.set("a.u16", GgufValue::array(std::vector<uint16_t>{7}));
  md.set("a.i16", GgufValue::array(std::vector<int16_t>{-7, 8}));
  md.set("a.u32", GgufValue::array(std::vector<uint32_t>{1, 2, 3}));
  md.set("a.i32", GgufValue::array(std::vector<int32_t>{-1}));
  md.set("a.f32", GgufValue::array(std::vector<float>{0.5f, -1.25f}));
  md.set("a.bool", GgufValue::array(std::vector<bool>{true, false, true}));
  md.set("a.string", GgufValue::array(std::vector<std::string>{"x", "", "\xe2\x96\x81y"}));
  md.set("a.u64", GgufValue::array(std::vector<uint64_t>{1ull << 63}));
  md.set("a.i64", GgufValue::array(std::vector<int64_t>{-5}));
  md.set("a.f64", GgufValue::array(std::vector<double>{3.5}));
  md.set("a.empty", GgufValue::array(std::vector<float>{}));
  md.set("a.nested", GgufValue::array_of_arrays({
                         GgufValue::array(std::vector<int32_t>{1, 2}),
                         GgufValue::array(std::vector<std::string>{"a"}),
                         GgufValue::array_of_arrays({GgufValue::array(std::vector<bool>{false})}),
                         GgufValue::array_of_arrays({}),
                     }));
  return md;
}

GgufTensorSource raw_tensor(std::string name, uint32_t type, std::vector<int64_t> dims, size_t nbytes, char fill) {
  auto bytes = std::make_shared<std::string>(nbytes, fill);
  GgufTensorSource t;
  t.name = std::move(name);
  t.type = type;
  t.dims = std::move(dims);
  t.bytes = [bytes]() -> Result<GgufBlob> { return GgufBlob{bytes->data(), bytes->size(), bytes}; };
  return t;
}

TEST_F(GgufTest, EveryValueTypeAndTensorTypeRoundTrips) {
  GgufMetadata md = every_value_type();
  std::vector<GgufTensorSource> tensors = {
      raw_tensor("q4k", 12, {256, 2}, 2 * 144, 'a'),    // Q4_K: lightvault cannot load it, but can carry it
      raw_tensor("i32", 26, {3}, 12, 'b'),
      raw_tensor("scalar4d", kGgmlF32, {1, 1, 1, 1}, 4, 'c'),
      raw_tensor("empty", kGgmlF16, {0, 5}, 0, 'd'),
  };
  std::string file = path("all.gguf");
  Status s = write_gguf(file, md, tensors);
  ASSERT_TRUE(s.ok()) << s.error().message;

  auto f = GgufFile::open(file);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_TRUE(f->metadata() == md);
  ASSERT_EQ(f->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = f->tensors()[i];
    EXPECT_EQ(t.name, tensors[i].name);
    EXPECT_EQ(t.type, tensors[i].type);
    EXPECT_EQ(t.dims, tensors[i].dims);
    EXPECT_EQ(t.file_offset % 64, 0u);
    GgufBlob blob = tensors[i].bytes().value();
    ASSERT_EQ(t.nbytes, blob.size);
    EXPECT_EQ(std::memcmp(f->tensor_data(t), blob.data, blob.size), 0) << t.name;
  }
  EXPECT_EQ(f->find_tensor("i32")->numel(), 3);
  EXPECT_EQ(f->find_tensor("q4k")->rows(), 2);

  // Typed getters.
  EXPECT_EQ(f->get_int("t.i64").value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->get_int("t.u32").value(), 4000000000);
  EXPECT_EQ(f->get_float("t.f64").value(), 1e300);
  EXPECT_EQ(f->get_float("t.u8").value(), 255.0);
  EXPECT_EQ(f->get_string("t.string").value(), std::string("h\xc3\xa9llo\0w\xe2\x96\x81rld", 14));
  EXPECT_EQ(f->get_int_or("absent", 42).value(), 42);
  EXPECT_FALSE(f->get_int("t.u64").ok());  // beyond int64
  auto wrong = f->get_int("t.string");
  ASSERT_FALSE(wrong.ok());
  expect_gguf_error(wrong.error(), file, "is STRING, expected an integer");
  auto missing = f->get_string("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, file + ": missing metadata key (field 'nope')");
  const GgufValue& nested = *f->metadata().find("a.nested");
  EXPECT_EQ(nested.array_at(1).string_at(0), "a");
  EXPECT_EQ(*nested.array_at(2).array_at(0).bool_at(0), false);

  // Printing.
  EXPECT_EQ(f->metadata().find("a.u32")->describe(), "[1, 2, 3] (3 x UINT32)");
  EXPECT_EQ(f->metadata().find("a.u32")->describe(2), "[1, 2, ...] (3 x UINT32)");
  EXPECT_EQ(f->metadata().find("t.string")->describe(), "\"h\xc3\xa9llo\\x00w\xe2\x96\x81rld\"");
  EXPECT_EQ(f->metadata().find("t.bool")->describe(), "true");
  EXPECT_EQ(f->metadata().find("t.u64")->describe(), "18446744073709551615");
  EXPECT_EQ(f->metadata().find("a.f32")->describe(), "[0.5, -1.25] (2 x FLOAT32)");

  // Version 2 files read the same.
  std::string v2 = read_bytes(file);
  poke<uint32_t>(v2, 4, 2);
  auto f2 = parse_bytes(v2);
  ASSERT_TRUE(f2.ok()) << f2.error().message;
  EXPECT_EQ(f2->version(), 2u);
  EXPECT_TRUE(f2->metadata() == md);
}

TEST_F(GgufTest, WriterRejectsBadInputAndLeavesNothing) {
  std::string file = path("out.gguf");
  GgufMetadata md;
  auto expect_refused = [&](const std::vector<GgufTensorSource>& tensors, const std::string& needle) {
    Status s = write_gguf(file, md, tensors);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
    EXPECT_TRUE(fs::is_empty(dir_)) << "a failed write left a file";
  };
  expect_refused({raw_tensor("a", 0, {4}, 16, 'x'), raw_tensor("a", 0, {4}, 16, 'x')}, "duplicate tensor name");
  expect_refused({raw_tensor("a", 99, {4}, 16, 'x')}, "unknown tensor type");
  expect_refused({raw_tensor("a", kGgmlQ8_0, {33}, 34, 'x')}, "block size");
  expect_refused({raw_tensor(std::string(64, 'n'), 0, {1}, 4, 'x')}, "longer than 63");
  expect_refused({raw_tensor("a", 0, {4}, 15, 'x')}, "15 bytes where 16");
  GgufTensorSource failing = raw_tensor("b", 0, {4}, 16, 'x');
  failing.bytes = []() -> Result<GgufBlob> { return Error{"quantizer exploded"}; };
  expect_refused({raw_tensor("a", 0, {4}, 16, 'x'), failing}, "quantizer exploded");
  md.set("general.alignment", GgufValue::scalar(int32_t{32}));
  expect_refused({}, "UINT32 power of two");

  // A failed write leaves an existing file as it was.
  md = GgufMetadata();
  ASSERT_TRUE(write_gguf(file, md, {raw_tensor("a", 0, {4}, 16, 'x')}).ok());
  std::string before = read_bytes(file);
  ASSERT_FALSE(write_gguf(file, md, {raw_tensor("a", 0, {4}, 15, 'x')}).ok());
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

  Status s = write_gguf(path("no/such/dir/x.gguf"), md, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no/such/dir/x.gguf"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Bad input

class GgufBadInputTest : public GgufTest {
 protected:
  void SetUp() override {
    GgufTest::SetUp();
    model_ = synth_model(64, 96, 2, 4, 2, false);
    good_ = path("good.gguf");
    Status s = save_gguf(model_, good_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    bytes_ = read_bytes(good_);
    auto f = GgufFile::open(good_);
    ASSERT_TRUE(f.ok());
    data_offset_ = f->data_offset();
    for (const auto& t : f->tensors()) {
      data_end_ = std::max(data_end_, t.file_offset + t.nbytes);
      info_offsets_[t.name] = t.info_offset;
    }
    for (const auto& [key, value] : f->metadata().entries()) key_offsets_[key] = f->key_offset(key);
  }

  // Where the value of metadata `key` starts (after its key string and type).
  uint64_t value_offset(const std::string& key) { return key_offsets_.at(key) + 8 + key.size() + 4; }
  // Where tensor `name`'s type field is.
  uint64_t type_offset(const std::string& name, int n_dims) {
    return info_offsets_.at(name) + 8 + name.size() + 4 + 8 * n_dims;
  }

  // Writes `bytes` as bad.gguf and expects load_gguf to fail naming it and `needle`.
  void expect_load_error(const std::string& bytes, const std::string& needle) {
    std::string bad = path("bad.gguf");
    write_bytes(bad, bytes);
    auto m = load_gguf(bad);
    ASSERT_FALSE(m.ok()) << "loaded despite: " << needle;
    expect_gguf_error(m.error(), bad, needle);
  }

  // Rewrites the good file with `edit` and expects load_gguf to fail naming it and `needle`.
  void expect_rewrite_error(const std::function<void(GgufMetadata&, std::vector<GgufTensorSource>&)>& edit,
                            const std::string& needle) {
    std::string bad = path("rewritten.gguf");
    rewrite(good_, bad, edit);
    auto m = load_gguf(bad);
    ASSERT_FALSE(m.ok()) << "loaded despite: " << needle;
    expect_gguf_error(m.error(), bad, needle);
  }

  Model model_;
  std::string good_, bytes_;
  uint64_t data_offset_ = 0, data_end_ = 0;
  std::map<std::string, uint64_t> info_offsets_, key_offsets_;
};

TEST_F(GgufBadInputTest, TruncatedAtAnyOffset) {
  // Every cut through the header and the first tensor, then a sample through the data.
  std::vector<uint64_t> cuts;
  for (uint64_t n = 0; n < data_offset_ + 300; ++n) cuts.push_back(n);
  for (uint64_t n = data_offset_ + 300; n < data_end_; n += 997) cuts.push_back(n);
  cuts.push_back(data_end_ - 1);
  for (uint64_t n : cuts) {
    auto f = parse_bytes(bytes_.substr(0, n), "cut.gguf");
    ASSERT_FALSE(f.ok()) << "a file cut at " << n << " parsed";
    expect_gguf_error(f.error(), "cut.gguf");
  }
  expect_load_error(bytes_.substr(0, 0), "truncated");
  expect_load_error(bytes_.substr(0, 20), "truncated: 8 bytes needed, 4 left (field 'metadata_kv_count', offset 16)");
  expect_load_error(bytes_.substr(0, 100), "tensor count 21 is more than the 76 bytes left could describe");
  expect_load_error(bytes_.substr(0, info_offsets_.at("output.weight") + 10), "string length 13 runs past the end");
  expect_load_error(bytes_.substr(0, data_offset_ + 10), "runs past the end of the file");
  // Only the padding after the last tensor may go.
  EXPECT_TRUE(parse_bytes(bytes_.substr(0, data_end_)).ok());
}

TEST_F(GgufBadInputTest, WrongMagicOrVersion) {
  std::string b = bytes_;
  b[0] = 'F';
  expect_load_error(b, "not a GGUF file");
  b = bytes_;
  poke<uint32_t>(b, 4, 1);
  expect_load_error(b, "unsupported GGUF version 1");
  poke<uint32_t>(b, 4, 4);
  expect_load_error(b, "unsupported GGUF version 4");
  poke<uint32_t>(b, 4, 0x03000000);
  expect_load_error(b, "big-endian");
}

TEST_F(GgufBadInputTest, AbsurdCountsAndLengths) {
  std::string b = bytes_;
  poke<uint64_t>(b, 8, uint64_t{1} << 31);
  expect_load_error(b, "tensor count 2147483648");
  b = bytes_;
  poke<uint64_t>(b, 8, ~uint64_t{0});
  expect_load_error(b, "tensor count");
  b = bytes_;
  poke<uint64_t>(b, 16, uint64_t{1} << 40);
  expect_load_error(b, "metadata count");
  // A string length of 2^62 in general.architecture's value.
  b = bytes_;
  poke<uint64_t>(b, value_offset("general.architecture"), uint64_t{1} << 62);
  expect_load_error(b, "string length 4611686018427387904 runs past the end");
  // A key length past the end.
  b = bytes_;
  poke<uint64_t>(b, 24, uint64_t{1} << 62);
  expect_load_error(b, "metadata key #0");
  // An array count of 2^60 tokens (its element type comes first).
  b = bytes_;
  poke<uint64_t>(b, value_offset("tokenizer.ggml.tokens") + 4, uint64_t{1} << 60);
  expect_load_error(b, "array of 1152921504606846976 STRING");
  // A dimension of 2^62 and one of 2^63.
  b = bytes_;
  poke<uint64_t>(b, info_offsets_.at("token_embd.weight") + 8 + 17 + 4, uint64_t{1} << 62);
  expect_load_error(b, "token_embd.weight");
  poke<uint64_t>(b, info_offsets_.at("token_embd.weight") + 8 + 17 + 4, uint64_t{1} << 63);
  expect_load_error(b, "token_embd.weight");
}

TEST_F(GgufBadInputTest, BadTensorDescriptions) {
  // Data past the end of the file.
  std::string b = bytes_;
  const std::string embd = "token_embd.weight";
  poke<uint64_t>(b, type_offset(embd, 2) + 4, uint64_t{1} << 40);
  expect_load_error(b, "runs past the end of the file");
  // Offset overflowing 64 bits.
  poke<uint64_t>(b, type_offset(embd, 2) + 4, ~uint64_t{0} - 31);
  expect_load_error(b, "runs past the end of the file");
  // Misaligned offset.
  b = bytes_;
  poke<uint64_t>(b, type_offset(embd, 2) + 4, 4);
  expect_load_error(b, "not a multiple of the alignment");
  // Unknown tensor type.
  b = bytes_;
  poke<uint32_t>(b, type_offset(embd, 2), 99);
  expect_load_error(b, "unknown tensor type 99");
  // Known to ggml but not loadable (I32 has F32's size, so the file parses).
  b = bytes_;
  poke<uint32_t>(b, type_offset(embd, 2), 26);
  expect_load_error(b, "tensor type I32 cannot be loaded");
  // Too many dims.
  b = bytes_;
  poke<uint32_t>(b, info_offsets_.at(embd) + 8 + embd.size(), 5);
  expect_load_error(b, "5 dimensions");
  // Duplicate names: attn_k renamed attn_q in place.
  b = bytes_;
  const std::string k = "blk.0.attn_k.weight";
  b[info_offsets_.at(k) + 8 + 6 + 5] = 'q';
  expect_load_error(b, "duplicate tensor name");
  // Rows that are not whole blocks of the type.
  b = bytes_;
  poke<uint32_t>(b, type_offset(embd, 2), 12);
  expect_load_error(b, "row length 64 is not a multiple of Q4_K's block size 256");
}

TEST_F(GgufBadInputTest, BadMetadataValues) {
  std::string b = bytes_;
  poke<uint32_t>(b, value_offset("general.architecture") - 4, 13);
  expect_load_error(b, "unknown value type 13");
  b = bytes_;
  poke<uint8_t>(b, value_offset("tokenizer.ggml.add_bos_token"), 2);
  expect_load_error(b, "BOOL byte 2");
  b = bytes_;
  poke<uint32_t>(b, value_offset("general.alignment"), 48);
  expect_load_error(b, "not a power of two");
  b = bytes_;
  poke<uint32_t>(b, value_offset("general.alignment"), 0);
  expect_load_error(b, "not a power of two");
  // A duplicate key: general.file_type renamed in place to the later llama.block_count.
  b = bytes_;
  std::memcpy(b.data() + key_offsets_.at("general.file_type") + 8, "llama.block_count", 17);
  expect_load_error(b, "duplicate metadata key (field 'llama.block_count', offset ");
}

TEST_F(GgufBadInputTest, NestingTooDeep) {
  // A hand-made file: one key whose value is 100 nested arrays.
  std::string b = "GGUF";
  auto u32 = [&](uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); };
  u32(3);
  u64(0);
  u64(1);
  u64(1);
  b += "k";
  u32(9);
  for (int i = 0; i < 100; ++i) {
    u32(9);
    u64(1);
  }
  u32(0);
  u64(0);
  auto f = parse_bytes(b, "deep.gguf");
  ASSERT_FALSE(f.ok());
  expect_gguf_error(f.error(), "deep.gguf", "nested more than 16 deep");
}

TEST_F(GgufBadInputTest, ShapesThatDisagreeWithTheConfig) {
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("llama.attention.head_count_kv", GgufValue::scalar(uint32_t{3})); },
      "3 key/value heads do not divide 4 query heads");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) {
        md.set("llama.attention.head_count_kv", GgufValue::array(std::vector<int32_t>{2}));
      },
      "has 1 entries for 2 layers");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("llama.embedding_length", GgufValue::scalar(uint32_t{128})); },
      "shape [64, 300] where [128, 300] was expected (field 'token_embd.weight', offset ");
  expect_rewrite_error([](GgufMetadata& md, auto&) { md.set("llama.block_count", GgufValue::scalar(uint32_t{1})); },
                       "unexpected tensor");
  expect_rewrite_error(
      [](GgufMetadata&, std::vector<GgufTensorSource>& t) {
        t.erase(std::remove_if(t.begin(), t.end(), [](auto& s) { return s.name == "blk.1.ffn_up.weight"; }),
                t.end());
      },
      "missing tensor (field 'blk.1.ffn_up.weight')");
  expect_rewrite_error([](GgufMetadata& md, auto&) { md.set("llama.block_count", GgufValue::string("2")); },
                       "is STRING, expected an integer (field 'llama.block_count', offset ");
  expect_rewrite_error([](GgufMetadata& md, auto&) { md.set("llama.block_count", GgufValue::scalar(int64_t{-1})); },
                       "value -1 is outside [1, 1024]");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("general.architecture", GgufValue::string("gpt2")); },
      "architecture 'gpt2' is not supported");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("llama.attention.key_length", GgufValue::scalar(uint32_t{8})); },
      "value 16 differs from the head size 8");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("llama.rope.freq_base", GgufValue::scalar(-1.0f)); },
      "not a positive frequency");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("tokenizer.ggml.bos_token_id", GgufValue::scalar(uint32_t{300})); },
      "value 300 is outside [0, 299]");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("tokenizer.ggml.scores", GgufValue::array(std::vector<float>{1.0f})); },
      "is not an array of 300 scores");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) { md.set("tokenizer.ggml.model", GgufValue::string("gpt2")); },
      "tokenizer 'gpt2' is not supported");
  expect_rewrite_error(
      [](GgufMetadata& md, auto&) {
        md.set("tokenizer.ggml.tokens", GgufValue::array(std::vector<std::string>(299, "x")));
        md.set("tokenizer.ggml.scores", GgufValue::array(std::vector<float>(299)));
        md.set("tokenizer.ggml.token_type", GgufValue::array(std::vector<int32_t>(299, 1)));
      },
      "shape [64, 300] where [64, 299] was expected");
}

}  // namespace
}  // namespace lv
