// lightvault inspect FILE: architecture, per-layer head counts, parameter count, dtypes and
// file size of a model; for GGUF also its metadata.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/model_args.h"
#include "lightvault/model/gguf.h"

namespace lv::cli {
namespace {

// How many weights of each dtype the model has, e.g. {"F32": 260032}.
std::map<std::string, int64_t> dtype_counts(const Model& m) {
  std::map<std::string, int64_t> counts;
  auto add = [&](const Tensor& t) {
    if (!t.empty()) counts[std::string(dtype_name(t.dtype))] += t.numel();
  };
  add(m.token_embedding);
  add(m.output_norm);
  if (!m.shared_classifier) add(m.classifier);
  for (const auto& l : m.layers) {
    for (const Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_down, &l.w_up}) add(*t);
  }
  return counts;
}

nlohmann::ordered_json describe(const Model& m) {
  const auto& c = m.config;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const auto& l : c.layers) layers.push_back({{"heads", l.n_heads}, {"kv_heads", l.n_kv_heads}});
  return {{"file", m.path},
          {"format", m.format},
          {"architecture", c.uniform_heads() ? "llama" : "llama (per-layer heads)"},
          {"file_size", m.file_size},
          {"parameters", m.parameter_count()},
          {"attention_parameters", c.attention_params()},
          {"dim", c.dim},
          {"hidden_dim", c.hidden_dim},
          {"n_layers", c.n_layers()},
          {"head_dim", c.head_dim},
          {"vocab_size", c.vocab_size},
          {"context_length", c.seq_len},
          {"rope_theta", c.rope_theta},
          {"norm_eps", c.norm_eps},
          {"shared_classifier", m.shared_classifier},
          {"tokenizer_tokens", m.tokenizer.vocab_size()},
          {"dtypes", dtype_counts(m)},
          {"layers", layers}};
}

void print_table(const nlohmann::ordered_json& j) {
  for (const char* key : {"file", "format", "architecture", "file_size", "parameters", "attention_parameters", "dim",
                          "hidden_dim", "n_layers", "head_dim", "vocab_size", "context_length", "rope_theta",
                          "norm_eps", "shared_classifier", "tokenizer_tokens"}) {
    const auto& v = j.at(key);
    std::printf("%-22s %s\n", key, v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  }
  std::printf("%-22s", "dtypes");
  for (auto& [name, count] : j.at("dtypes").items()) std::printf(" %s: %lld", name.c_str(), count.get<long long>());
  std::printf("\n%-22s", "heads per layer");
  for (const auto& l : j.at("layers")) std::printf(" %d/%d", l.at("heads").get<int>(), l.at("kv_heads").get<int>());
  std::printf("   (query/key-value)\n");
  if (j.contains("metadata")) {
    std::printf("metadata:\n");
    for (auto& [key, value] : j.at("metadata").items()) std::printf("  %-44s %s\n", key.c_str(), value.get<std::string>().c_str());
  }
}

CommandRun setup(CLI::App& sub) {
  struct Args {
    ModelArgs model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  args->model.add_to(sub);
  sub.add_flag("--json", args->json, "print JSON");
  return [args] {
    auto model = args->model.load();
    if (!model.ok()) return fail(model.error());
    nlohmann::ordered_json j = describe(*model);
    if (model->format == "gguf") {
      auto file = GgufFile::open(args->model.path);
      if (!file.ok()) return fail(file.error());
      nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
      for (const auto& [key, value] : file->metadata().entries()) metadata[key] = value.describe();
      j["metadata"] = metadata;
    }
    if (args->json) std::printf("%s\n", j.dump(2).c_str());
    else print_table(j);
    return 0;
  };
}

CommandRegistrar registrar("inspect", "describe a model file", setup);

}  // namespace
}  // namespace lv::cli
