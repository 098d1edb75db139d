// `lightvault card check DIR`: whether the model card (DIR/README.md, or a card file given
// directly) says what a regulator asks of it: card_check.h's fields. Prints each missing field
// as its path in the front matter; exits 0 when the card is complete, 1 when something is
// missing, 2 when the card cannot be read (no file, too large, front matter that does not parse).
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "lightvault/hub/service/card_check.h"
#include "lightvault/hub/service/model_card.h"
#include "lightvault/util/text.h"

namespace lv::cli {
namespace {

// The hub reads cards up to this size; a larger one would not be checked there either.
constexpr uintmax_t kMaxCardBytes = 1u << 20;

Result<hub::ModelCard> read_card(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(path, "cannot read: " + ec.message());
  if (size > kMaxCardBytes) return make_error(path, "model card larger than 1 MiB");
  LV_ASSIGN_OR_RETURN(auto text, read_file(path));
  auto card = hub::parse_model_card(text);
  if (!card.ok()) {
    // The parser names the card README.md; name the file that was read.
    std::string message = card.error().message;
    const std::string prefix = "README.md: ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    return make_error(path, message);
  }
  return card;
}

CommandRegistrar card_cmd("card", "Check a model card (README.md front matter) for the transparency fields", [](CLI::App& sub) {
  struct Args {
    std::string dir;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  auto* check = sub.add_subcommand("check", "List the fields the card lacks (exit 1 when any, 0 when complete)");
  check->add_option("dir", a->dir, "Model folder with README.md (or the card file itself)")->required();
  check->add_flag("--json", a->json, "Print {\"card\", \"complete\", \"missing\"} as JSON");
  return [a]() -> int {
    std::string path = std::filesystem::is_directory(a->dir) ? (std::filesystem::path(a->dir) / "README.md").string() : a->dir;
    auto card = read_card(path);
    if (!card.ok()) return fail(card.error());
    auto missing = hub::missing_card_fields(card->metadata);
    if (a->json) {
      std::printf("%s\n", nlohmann::json{{"card", path}, {"complete", missing.empty()}, {"missing", missing}}.dump(2).c_str());
    } else if (missing.empty()) {
      std::printf("%s: complete\n", path.c_str());
    } else {
      for (auto& field : missing) std::printf("missing: %s\n", field.c_str());
      std::printf("%s: %zu field%s missing\n", path.c_str(), missing.size(), missing.size() == 1 ? "" : "s");
    }
    return missing.empty() ? 0 : 1;
  };
});

}  // namespace
}  // namespace lv::cli
