#pragma once
// Model cards: README.md with YAML front matter, as on the Hugging Face Hub:
//   ---
//   license: apache-2.0
//   base_model: meta-llama/Llama-2-7b
//   datasets: [wikitext, c4]
//   training_data:
//     sources:
//       - name: internal-claims-2023
//         kind: internal
//     cleaning_methods: deduplicated, PII removed
//   ---
//   # Model body (markdown)
// Parsed with a small YAML subset (mappings nested by indentation, block lists "- x" whose
// items may be mappings ("- key: v" with more "key: v" lines indented below), inline
// lists "[a, b]", quoted or plain scalars, numbers, booleans, null, comments). Anything
// fancier (anchors, multi-line scalars) is an error naming the line, never a crash. What a
// card must say is card_check.h's business.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/util/status.h"

namespace lv::hub {

struct ModelCard {
  nlohmann::json metadata = nlohmann::json::object();  // the front matter; {} when absent
  std::string body;                                    // the markdown after it
};

Result<ModelCard> parse_model_card(std::string_view text);

}  // namespace lv::hub
