#pragma once
// Models with random weights, for tests and for speed benchmarks at realistic shapes.
#include <cstdint>

#include "lightvault/model/model.h"

namespace lv {

struct SynthSpec {
  int dim = 64;
  int hidden_dim = 172;
  int n_layers = 2;
  int n_heads = 4;
  int n_kv_heads = 4;
  int vocab_size = 512;   // at least 259: <unk>, <s>, </s> and the 256 byte tokens
  int seq_len = 256;
  bool shared_classifier = true;
  uint64_t seed = 1;
};

// Weights ~ N(0, 1/sqrt(fan_in)) (norm weights 1), F32 on the heap, and a tokenizer whose
// vocabulary is the control tokens, the 256 byte tokens and made-up pieces ("▁a", "▁b", ...).
Result<Model> synthesize(const SynthSpec& spec);

}  // namespace lv
