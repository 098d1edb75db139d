#pragma once
// Whether a model card says what a regulator asks of it (the EU AI Act's Article 53 summary
// of training content, and the usual model-card facts). The card's front matter must carry:
//   license, datasets, intended_use, limitations
//   training_data:
//     sources:                      # at least one, each with
//       - name: ...                 #   name, kind, link or description, license, time_span
//         kind: web-crawl
//         link: https://...         # or description: ...
//         license: cc-by-4.0
//         time_span: 2019-2023
//     cleaning_methods: ...
//     personal_data:
//       present: yes                # yes/no (true/false)
//       handling: ...               # needed when present is yes
//     copyright_opt_outs_respected: yes   # yes/no (true/false)
// A field counts as missing when it is absent, null, an empty string, list or mapping, or (for
// the yes/no fields) not a yes/no answer.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lv::hub {

// The missing fields as paths into the front matter ("training_data.cleaning_methods",
// "training_data.sources[1].license"; "link|description" when a source has neither), in the
// order above; empty when the card is complete. Never throws, whatever `metadata` holds.
std::vector<std::string> missing_card_fields(const nlohmann::json& metadata);

}  // namespace lv::hub
