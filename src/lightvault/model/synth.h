#pragma once
// Models with random weights, for tests and for speed benchmarks at realistic shapes.
#include <cstdint>
#include <functional>
#include <string>

#include "lightvault/model/gguf.h"
#include "lightvault/model/gguf_layout.h"
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

// The shape `spec` describes, validated (errors name "synth").
Result<ModelConfig> synth_config(const SynthSpec& spec);

// Weights ~ N(0, 1/sqrt(fan_in)) (norm weights 1), F32 on the heap, and a tokenizer whose
// vocabulary is the control tokens, the 256 byte tokens and made-up pieces ("▁a", "▁b", ...).
// Each tensor is a function of (spec.seed, its GGUF name) alone, so the model in memory and
// the one write_synthetic_gguf streams to a file hold the same weights.
Result<Model> synthesize(const SynthSpec& spec);

// Writes the model synthesize(spec) would make straight to a GGUF file, one tensor in memory
// at a time (about 1 GiB at the largest for a 7B-parameter shape), with weights stored as
// `weights` (F32, F16 or Q8_0; not Keep). `progress(done, total)`, when given, is called
// after each tensor is generated.
Status write_synthetic_gguf(const SynthSpec& spec, const std::string& path, GgufWeights weights,
                            const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace lv
