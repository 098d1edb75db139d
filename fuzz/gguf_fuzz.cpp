// libFuzzer target for the GGUF reader: arbitrary bytes are parsed in memory, every
// metadata value and every tensor byte is touched, and the model and tokenizer are built
// (and used) whenever the file allows. Any crash, sanitizer report or leak is a bug.
//
// Seeds: run once with LV_GGUF_FUZZ_SEEDS=DIR to write small valid files (a llama model
// in F32 and Q8_0, a deci model with an attention-free layer, and every metadata type):
//   LV_GGUF_FUZZ_SEEDS=corpus ./gguf_fuzz -runs=0 && ./gguf_fuzz -max_total_time=60 corpus
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lightvault/model/gguf.h"

namespace {

volatile uint8_t g_sink;  // keeps the reads below from being optimized away

lv::Tensor ramp(int64_t rows, int64_t cols, float scale) {
  lv::Tensor t = lv::Tensor::zeros_f32(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) t.mutable_f32()[i] = scale * static_cast<float>((i * 7919) % 61 - 30);
  return t;
}

// A two-layer model with 8 tokens; layer 1 has `heads1` query heads (0: no attention).
lv::Model tiny_model(int heads1) {
  lv::Model m;
  lv::ModelConfig& c = m.config;
  c.dim = 32;
  c.hidden_dim = 64;
  c.vocab_size = 8;
  c.seq_len = 16;
  c.head_dim = 16;
  c.layers = {lv::LayerShape{2, 1}, lv::LayerShape{heads1, heads1 == 0 ? 0 : 1}};
  m.token_embedding = ramp(8, 32, 0.01f);
  for (const lv::LayerShape& s : c.layers) {
    lv::LayerWeights w;
    w.attn_norm = ramp(1, 32, 0.02f);
    w.wq = ramp(s.n_heads * 16, 32, 0.001f);
    w.wk = ramp(s.n_kv_heads * 16, 32, 0.002f);
    w.wv = ramp(s.n_kv_heads * 16, 32, 0.003f);
    w.wo = ramp(32, s.n_heads * 16, 0.004f);
    w.ffn_norm = ramp(1, 32, 0.05f);
    w.w_gate = ramp(64, 32, 0.006f);
    w.w_down = ramp(32, 64, 0.007f);
    w.w_up = ramp(64, 32, 0.008f);
    m.layers.push_back(w);
  }
  m.output_norm = ramp(1, 32, 0.09f);
  m.classifier = m.token_embedding;
  m.shared_classifier = true;
  m.tokenizer = lv::Tokenizer({"<unk>", "<s>", "</s>", "<0x0A>", "\xe2\x96\x81", "\xe2\x96\x81h", "e", "llo"},
                              {0, 0, 0, 0, -1, -2, -3, -4}, {2, 3, 3, 6, 1, 1, 1, 1});
  m.path = "tiny";
  return m;
}

void write_seeds(const std::string& dir) {
  lv::Model llama = tiny_model(2), deci = tiny_model(0);
  (void)lv::save_gguf(llama, dir + "/llama_f32.gguf", {lv::GgufWeights::F32, "", 32});
  (void)lv::save_gguf(llama, dir + "/llama_q8.gguf", {lv::GgufWeights::Q8_0, "", 32});
  (void)lv::save_gguf(deci, dir + "/deci.gguf", {lv::GgufWeights::Q8_0, "", 8});

  lv::GgufMetadata md;
  md.set("general.alignment", lv::GgufValue::scalar(uint32_t{16}));
  md.set("b", lv::GgufValue::scalar(true));
  md.set("i8", lv::GgufValue::scalar(int8_t{-3}));
  md.set("u16", lv::GgufValue::scalar(uint16_t{9}));
  md.set("i16", lv::GgufValue::scalar(int16_t{-9}));
  md.set("u64", lv::GgufValue::scalar(uint64_t{1} << 40));
  md.set("i64", lv::GgufValue::scalar(int64_t{-1}));
  md.set("f64", lv::GgufValue::scalar(0.25));
  md.set("s", lv::GgufValue::string("text"));
  md.set("a", lv::GgufValue::array_of_arrays({lv::GgufValue::array(std::vector<uint8_t>{1, 2}),
                                               lv::GgufValue::array(std::vector<std::string>{"x", "y"}),
                                               lv::GgufValue::array(std::vector<bool>{true})}));
  auto bytes = std::make_shared<std::string>(144 + 16, '\x11');
  lv::GgufTensorSource q4k{"q4k", 12, {256}, [bytes]() -> lv::Result<lv::GgufBlob> {
                             return lv::GgufBlob{bytes->data(), 144, bytes};
                           }};
  lv::GgufTensorSource i32{"i32", 26, {2, 2}, [bytes]() -> lv::Result<lv::GgufBlob> {
                             return lv::GgufBlob{bytes->data(), 16, bytes};
                           }};
  (void)lv::write_gguf(dir + "/generic.gguf", md, {q4k, i32});
}

// Reads every byte of every tensor, so that a wrong bound shows up as an ASan report.
void touch_tensor_data(const lv::GgufFile& f) {
  uint8_t acc = 0;
  for (const lv::GgufTensorInfo& t : f.tensors()) {
    const uint8_t* p = f.tensor_data(t);
    for (uint64_t i = 0; i < t.nbytes; ++i) acc ^= p[i];
  }
  g_sink = acc;
}

void use_tokenizer(const lv::Tokenizer& tok) {
  auto ids = tok.encode("hello \n w\xc3\xb6rld", true);
  if (!ids.ok()) return;
  int prev = tok.bos_id();
  for (int id : *ids) {
    g_sink = static_cast<uint8_t>(tok.decode(prev, id).size());
    prev = id;
  }
}

void use_model(const lv::Model& m) {
  float acc = 0;
  auto add = [&](const lv::Tensor& t) {
    if (t.empty()) return;  // the attention tensors of a layer without heads have no data
    for (float x : lv::to_f32(t)) acc += x;
  };
  add(m.token_embedding);
  add(m.classifier);
  add(m.output_norm);
  for (const lv::LayerWeights& w : m.layers) {
    for (const lv::Tensor* t : {&w.attn_norm, &w.wq, &w.wk, &w.wv, &w.wo, &w.ffn_norm, &w.w_gate, &w.w_down, &w.w_up}) {
      add(*t);
    }
  }
  g_sink = static_cast<uint8_t>(acc != 0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("LV_GGUF_FUZZ_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = lv::GgufFile::parse(data, size, "fuzz.gguf");
  if (!file.ok()) return 0;
  for (const auto& [key, value] : file->metadata().entries()) g_sink = static_cast<uint8_t>(value.describe().size());
  touch_tensor_data(*file);
  if (auto tok = lv::gguf_tokenizer(*file); tok.ok()) use_tokenizer(*tok);
  if (auto model = lv::gguf_model(*file); model.ok()) use_model(*model);
  return 0;
}
