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
      "  cleaning: deduplicated, PII removed\n"
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
  EXPECT_EQ(m["training_data"]["cleaning"], "deduplicated, PII removed");
  EXPECT_EQ(m["training_data"]["tokens"], 1200000);
  EXPECT_EQ(m["gated"], false);
  EXPECT_EQ(card->body, "# Model\nBody text.\n");
  EXPECT_TRUE(missing_card_fields(m).empty());
}

TEST(ModelCard, NoFrontMatterAndErrors) {
  auto plain = parse_model_card("# Just markdown\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->metadata.empty());
  EXPECT_EQ(missing_card_fields(plain->metadata).size(), 5u);
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

}  // namespace
}  // namespace lv::hub
