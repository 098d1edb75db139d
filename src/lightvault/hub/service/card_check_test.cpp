#include "lightvault/hub/service/card_check.h"

#include <gtest/gtest.h>

#include "lightvault/hub/service/model_card.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;
using Fields = std::vector<std::string>;

const char* kCompleteCard =
    "---\n"
    "license: apache-2.0\n"
    "datasets: [wikipedia]\n"
    "intended_use: Drafting replies to customer e-mails, reviewed by staff.\n"
    "limitations: English only; invents facts when asked about prices.\n"
    "training_data:\n"
    "  sources:\n"
    "    - name: wikipedia\n"
    "      kind: encyclopedia\n"
    "      link: https://dumps.wikimedia.org/\n"
    "      license: cc-by-sa-4.0\n"
    "      time_span: 2001-2023\n"
    "  cleaning_methods: [deduplication, language filter]\n"
    "  personal_data:\n"
    "    present: yes\n"
    "    handling: names and e-mail addresses removed with a NER filter\n"
    "  copyright_opt_outs_respected: yes\n"
    "---\n"
    "# Model\n";

json front_matter(const std::string& text) {
  auto card = parse_model_card(text);
  EXPECT_TRUE(card.ok()) << card.error().message;
  return card.ok() ? card->metadata : json::object();
}

TEST(CardCheck, CompleteCardMissesNothing) { EXPECT_EQ(missing_card_fields(front_matter(kCompleteCard)), Fields{}); }

TEST(CardCheck, EmptyCardMissesEveryTopLevelField) {
  EXPECT_EQ(missing_card_fields(json::object()),
            (Fields{"license", "datasets", "intended_use", "limitations", "training_data.sources",
                    "training_data.cleaning_methods", "training_data.personal_data.present",
                    "training_data.copyright_opt_outs_respected"}));
  // Not even a mapping: the same list, no exception.
  EXPECT_EQ(missing_card_fields(json::array()).size(), 8u);
  EXPECT_EQ(missing_card_fields(json("text")).size(), 8u);
}

TEST(CardCheck, NamesEachMissingFieldByItsPath) {
  json m = front_matter(kCompleteCard);
  m["training_data"].erase("cleaning_methods");
  m["limitations"] = "   ";
  m["training_data"]["sources"][0].erase("link");
  m["training_data"]["sources"][0].erase("license");
  m["training_data"]["sources"].push_back("common-crawl");  // a bare name says nothing else
  EXPECT_EQ(missing_card_fields(m),
            (Fields{"limitations", "training_data.sources[0].link|description", "training_data.sources[0].license",
                    "training_data.sources[1].kind", "training_data.sources[1].link|description",
                    "training_data.sources[1].license", "training_data.sources[1].time_span",
                    "training_data.cleaning_methods"}));
}

TEST(CardCheck, DescriptionStandsInForLink) {
  json m = front_matter(kCompleteCard);
  m["training_data"]["sources"][0].erase("link");
  m["training_data"]["sources"][0]["description"] = "support tickets of 2022, exported by hand";
  EXPECT_EQ(missing_card_fields(m), Fields{});
}

TEST(CardCheck, YesNoFieldsNeedAnAnswerAndHandlingFollowsYes) {
  json m = front_matter(kCompleteCard);
  m["training_data"]["personal_data"].erase("handling");
  EXPECT_EQ(missing_card_fields(m), Fields{"training_data.personal_data.handling"});
  m["training_data"]["personal_data"]["present"] = false;  // none present: nothing to handle
  EXPECT_EQ(missing_card_fields(m), Fields{});
  m["training_data"]["personal_data"]["present"] = "maybe";
  m["training_data"]["copyright_opt_outs_respected"] = "";
  EXPECT_EQ(missing_card_fields(m),
            (Fields{"training_data.personal_data.present", "training_data.copyright_opt_outs_respected"}));
  m["training_data"]["personal_data"]["present"] = "No";
  m["training_data"]["copyright_opt_outs_respected"] = true;
  EXPECT_EQ(missing_card_fields(m), Fields{});
}

TEST(CardCheck, EmptyListsAndMappingsAreMissing) {
  json m = front_matter(kCompleteCard);
  m["datasets"] = json::array();
  m["training_data"]["sources"] = json::array();
  m["training_data"]["cleaning_methods"] = json::object();
  EXPECT_EQ(missing_card_fields(m), (Fields{"datasets", "training_data.sources", "training_data.cleaning_methods"}));
}

}  // namespace
}  // namespace lv::hub
