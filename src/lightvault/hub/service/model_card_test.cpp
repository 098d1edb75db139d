#include "lightvault/hub/service/model_card.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

TEST(ModelCard, ParsesFrontMatterWithListsAndNesting) {
  auto card = parse_model_card(
      "---\n"
      "license: apache-2.0   # comment\n"
      "base_model: \"meta-llama/Llama-2-7b\"\n"
      "datasets: [wikitext, c4]\n"
      "tags:\n"
      "- text-generation\n"
      "- 'int8'\n"
      "training_data:\n"
      "  sources:\n"
      "    - internal-claims-2023\n"
      "    - public: wikipedia\n"
      "  cleaning_methods: deduplicated, PII removed\n"
      "  tokens: 1200000\n"
      "gated: false\n"
      "---\n"
      "# Model\nBody text.\n");
  ASSERT_TRUE(card.ok()) << card.error().message;
  auto& m = card->metadata;
  EXPECT_EQ(m["license"], "apache-2.0");
  EXPECT_EQ(m["base_model"], "meta-llama/Llama-2-7b");
  EXPECT_EQ(m["datasets"], nlohmann::json({"wikitext", "c4"}));
  EXPECT_EQ(m["tags"][1], "int8");
  EXPECT_EQ(m["training_data"]["sources"][0], "internal-claims-2023");
  EXPECT_EQ(m["training_data"]["sources"][1]["public"], "wikipedia");
  EXPECT_EQ(m["training_data"]["cleaning_methods"], "deduplicated, PII removed");
  EXPECT_EQ(m["training_data"]["tokens"], 1200000);
  EXPECT_EQ(m["gated"], false);
  EXPECT_EQ(card->body, "# Model\nBody text.\n");
}

TEST(ModelCard, NoFrontMatterAndErrors) {
  auto plain = parse_model_card("# Just markdown\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->metadata.empty());
  EXPECT_FALSE(parse_model_card("---\nlicense: mit\n").ok());  // not closed
  auto bad = parse_model_card("---\nlicense mit\n---\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(parse_model_card("---\na: |\n  x\n---\n").ok());
  // Deep nesting is refused, not a stack overflow.
  std::string deep = "---\n";
  for (int i = 0; i < 40; ++i) deep += std::string(i * 2, ' ') + "k" + std::to_string(i) + ":\n";
  deep += std::string(80, ' ') + "x: 1\n---\n";
  EXPECT_FALSE(parse_model_card(deep).ok());
}

// Found by fuzz/web_card_fuzz: "." looked like a number and std::stod threw out of the parser.
// A dot or a minus without a digit is text.
TEST(ModelCard, DotsAndDashesWithoutDigitsAreText) {
  auto card = parse_model_card("---\na: .\nb: -.\nc: [., 1.5, -2]\nd: .5\n---\n");
  ASSERT_TRUE(card.ok()) << card.error().message;
  auto& m = card->metadata;
  EXPECT_EQ(m["a"], ".");
  EXPECT_EQ(m["b"], "-.");
  EXPECT_EQ(m["c"], nlohmann::json({".", 1.5, -2}));
  EXPECT_EQ(m["d"], 0.5);
}

// Training-data sources are lists of mappings: "- name: x" with the item's other keys indented
// below the dash.
TEST(ModelCard, ListItemsThatAreMappings) {
  auto card = parse_model_card(
      "---\n"
      "training_data:\n"
      "  sources:\n"
      "    - name: wikipedia\n"
      "      kind: encyclopedia\n"
      "      time_span: 2001-2023\n"
      "    - name: claims\n"
      "      link: https://example.org/claims\n"
      "  cleaning_methods: [dedup]\n"
      "---\n");
  ASSERT_TRUE(card.ok()) << card.error().message;
  auto& s = card->metadata["training_data"]["sources"];
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], nlohmann::json({{"name", "wikipedia"}, {"kind", "encyclopedia"}, {"time_span", "2001-2023"}}));
  EXPECT_EQ(s[1]["link"], "https://example.org/claims");
  EXPECT_EQ(card->metadata["training_data"]["cleaning_methods"], nlohmann::json({"dedup"}));
  // Commas inside quotes belong to the item.
  auto quoted = parse_model_card("---\nc: [\"about 1,500 words\", 'a, b', plain]\nd: [\"unclosed, x]\n---\n");
  ASSERT_TRUE(quoted.ok()) << quoted.error().message;
  EXPECT_EQ(quoted->metadata["c"], nlohmann::json({"about 1,500 words", "a, b", "plain"}));
  EXPECT_EQ(quoted->metadata["d"], nlohmann::json({"\"unclosed, x"}));
  // An item's mapping that goes on with a list is refused with its line.
  auto bad = parse_model_card("---\ns:\n  - a: 1\n    - b\n---\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 4"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace lv::hub
