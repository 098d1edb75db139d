#include "lightvault/compress/prune_plan.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace lv {

using nlohmann::json;

PrunePlan PrunePlan::empty_for(const ModelConfig& c) {
  PrunePlan p;
  p.n_layers = c.n_layers();
  p.dim = c.dim;
  p.head_dim = c.head_dim;
  p.vocab_size = c.vocab_size;
  p.layers = c.layers;
  p.remove.assign(static_cast<size_t>(c.n_layers()), {});
  return p;
}

int PrunePlan::removed_heads() const {
  int n = 0;
  for (const auto& r : remove) n += static_cast<int>(r.size());
  return n;
}

int PrunePlan::total_heads() const {
  int n = 0;
  for (const auto& l : layers) n += l.n_heads;
  return n;
}

std::string PrunePlan::to_json() const {
  json heads = json::array(), kv = json::array(), layers_out = json::array();
  for (int l = 0; l < n_layers; ++l) {
    heads.push_back(layers[l].n_heads);
    kv.push_back(layers[l].n_kv_heads);
    layers_out.push_back({{"layer", l}, {"remove_heads", remove[l]}});
  }
  json j = {{"format", "lightvault-prune-plan/1"},
            {"model", {{"n_layers", n_layers}, {"dim", dim}, {"head_dim", head_dim}, {"vocab_size", vocab_size},
                       {"heads", heads}, {"kv_heads", kv}}},
            {"importance", importance},
            {"removed_heads", removed_heads()},
            {"total_heads", total_heads()},
            {"layers", layers_out}};
  return j.dump(2) + "\n";
}

Result<PrunePlan> PrunePlan::from_json(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(source, "not valid JSON");
  try {
    if (j.value("format", "") != "lightvault-prune-plan/1") {
      return make_error(source, "field 'format' must be \"lightvault-prune-plan/1\"");
    }
    PrunePlan p;
    const json& m = j.at("model");
    p.n_layers = m.at("n_layers").get<int>();
    p.dim = m.at("dim").get<int>();
    p.head_dim = m.at("head_dim").get<int>();
    p.vocab_size = m.at("vocab_size").get<int>();
    const auto heads = m.at("heads").get<std::vector<int>>();
    const auto kv = m.at("kv_heads").get<std::vector<int>>();
    if (p.n_layers < 0 || p.n_layers > 1024 || heads.size() != static_cast<size_t>(p.n_layers) || kv.size() != heads.size()) {
      return make_error(source, "field 'model.heads' / 'model.kv_heads' must have n_layers entries");
    }
    for (size_t l = 0; l < heads.size(); ++l) p.layers.push_back(LayerShape{heads[l], kv[l]});
    p.importance = j.value("importance", "");
    p.remove.assign(static_cast<size_t>(p.n_layers), {});
    for (const json& layer : j.at("layers")) {
      int l = layer.at("layer").get<int>();
      if (l < 0 || l >= p.n_layers) {
        return make_error(source, "field 'layers[].layer' = " + std::to_string(l) + " is out of range [0, " +
                                      std::to_string(p.n_layers) + ")");
      }
      p.remove[l] = layer.at("remove_heads").get<std::vector<int>>();
      std::sort(p.remove[l].begin(), p.remove[l].end());
    }
    return p;
  } catch (const json::exception& e) {
    return make_error(source, std::string("malformed plan: ") + e.what());
  }
}

Status PrunePlan::validate(const ModelConfig& c, bool allow_layer_drop, const std::string& source) const {
  if (n_layers != c.n_layers() || dim != c.dim || head_dim != c.head_dim || vocab_size != c.vocab_size) {
    return make_error(source, "the plan is for another model (n_layers/dim/head_dim/vocab_size differ)");
  }
  for (int l = 0; l < n_layers; ++l) {
    const LayerShape& shape = c.layers[l];
    const std::string at = " (layer " + std::to_string(l) + ")";
    if (layers[l].n_heads != shape.n_heads || layers[l].n_kv_heads != shape.n_kv_heads) {
      return make_error(source, "the plan is for another model: heads " + std::to_string(layers[l].n_heads) + "/" +
                                    std::to_string(layers[l].n_kv_heads) + " where the model has " +
                                    std::to_string(shape.n_heads) + "/" + std::to_string(shape.n_kv_heads) + at);
    }
    const auto& r = remove[l];
    std::set<int> unique(r.begin(), r.end());
    if (unique.size() != r.size()) return make_error(source, "a head is listed twice" + at);
    for (int h : r) {
      if (h < 0 || h >= shape.n_heads) {
        return make_error(source, "head index " + std::to_string(h) + " out of range [0, " +
                                      std::to_string(shape.n_heads) + ")" + at);
      }
    }
    if (static_cast<int>(r.size()) == shape.n_heads && shape.n_heads > 0 && !allow_layer_drop) {
      return make_error(source, "removes every head" + at + "; pass --allow-layer-drop to drop the attention block");
    }
    if (r.empty() || static_cast<int>(r.size()) == shape.n_heads) continue;
    // Whole key/value groups, or the same number of heads from every group.
    const int group = shape.n_heads / shape.n_kv_heads;
    std::vector<int> per_group(static_cast<size_t>(shape.n_kv_heads), 0);
    for (int h : r) ++per_group[h / group];
    bool whole = std::all_of(per_group.begin(), per_group.end(), [&](int n) { return n == 0 || n == group; });
    bool even = std::all_of(per_group.begin(), per_group.end(), [&](int n) { return n == per_group[0]; });
    if (!whole && !even) {
      return make_error(source, "with " + std::to_string(shape.n_kv_heads) +
                                    " key/value heads, remove whole groups of " + std::to_string(group) +
                                    " query heads or the same number from every group" + at);
    }
  }
  return Status::Ok();
}

std::vector<HeadGroup> rank_groups(const ModelConfig& c, const HeadScores& scores) {
  if (!scores.removal_order.empty()) return scores.removal_order;
  std::vector<HeadGroup> groups = all_groups(c);
  for (HeadGroup& g : groups) {
    for (int h : g.heads) g.score += scores.raw[g.layer][h];
  }
  std::stable_sort(groups.begin(), groups.end(), [](const HeadGroup& a, const HeadGroup& b) { return a.score < b.score; });
  return groups;
}

PrunePlan plan_from_ranking(const ModelConfig& c, const std::vector<HeadGroup>& ranked, int count,
                            bool allow_layer_drop, const std::string& importance) {
  PrunePlan plan = PrunePlan::empty_for(c);
  plan.importance = importance;
  std::vector<int> groups_left;
  for (const auto& l : c.layers) groups_left.push_back(l.n_kv_heads);
  int removed = 0;
  for (const HeadGroup& g : ranked) {
    if (removed >= count) break;
    const bool last = groups_left[g.layer] == 1;
    if (last && (!allow_layer_drop || g.layer == 0)) continue;
    auto& r = plan.remove[g.layer];
    r.insert(r.end(), g.heads.begin(), g.heads.end());
    std::sort(r.begin(), r.end());
    --groups_left[g.layer];
    ++removed;
  }
  return plan;
}

PrunePlan plan_by_threshold(const ModelConfig& c, const HeadScores& scores, double threshold, bool allow_layer_drop) {
  std::vector<HeadGroup> ranked = rank_groups(c, scores);
  std::vector<HeadGroup> chosen;
  for (const HeadGroup& g : ranked) {
    bool all_below = std::all_of(g.heads.begin(), g.heads.end(),
                                 [&](int h) { return scores.normalized[g.layer][h] < threshold; });
    if (all_below) chosen.push_back(g);
  }
  return plan_from_ranking(c, chosen, static_cast<int>(chosen.size()), allow_layer_drop, importance_name(scores.method));
}

}  // namespace lv
