#include "lightvault/hub/web/compliance_html.h"

#include <gtest/gtest.h>

namespace lv::hub::web {
namespace {

using json = nlohmann::json;

json sample_report() {
  return json{{"generated_at", "2026-11-30T10:00:00Z"},
              {"model", {{"repo", "acme/m"}, {"commit", "abc"}, {"weights", json::array()}, {"lineage", json::array()}}},
              {"intended_use", "<script>alert(1)</script>"},
              {"limitations", nullptr},
              {"training_data", {{"complete", false}, {"missing", {"training_data.cleaning_methods"}}, {"card", "README.md"},
                                 {"sources", {{{"name", "wiki"}, {"description", "dump"}}}}}},
              {"evaluation", {{"results", json::array()}, {"unreadable", json::array()}}},
              {"labeling", {{"marks_issued", 0}, {"marked_outputs", false}}},
              {"access", {{"visibility", "private"}, {"holders", {{{"subject", "user:alice"}, {"role", "admin"}, {"via", "owner"}}}}}},
              {"audit", {{"downloads", 2}, {"downloads_by_user", {{"bob", 2}}}}},
              {"complaints", {{"open", 1}, {"overdue", 1}, {"resolved", 0}, {"overdue_ids", {"c1"}}}},
              {"audit_chain", {{"head_seq", 42}, {"head_mac", "ff00"}, {"verified", true}, {"message", "ok"}}}};
}

TEST(ComplianceHtml, EverySectionEscapedAndGapsMarked) {
  std::string html = compliance_sections(sample_report());
  size_t sections = 0;
  for (size_t at = html.find("class=\"cr-section\""); at != std::string::npos; at = html.find("class=\"cr-section\"", at + 1)) ++sections;
  EXPECT_EQ(sections, 9u);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<code>training_data.cleaning_methods</code>"), std::string::npos);
  EXPECT_NE(html.find("cr-gaps"), std::string::npos);
  EXPECT_NE(html.find("c1"), std::string::npos);
  EXPECT_NE(html.find("up to entry 42"), std::string::npos);
  EXPECT_NE(html.find("ff00"), std::string::npos);
}

TEST(ComplianceHtml, DocumentCarriesItsPrintStyle) {
  std::string doc = compliance_document(sample_report());
  EXPECT_EQ(doc.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(doc.find("<style>"), std::string::npos);
  EXPECT_NE(doc.find("@media print"), std::string::npos);
  EXPECT_NE(doc.find("break-before: page"), std::string::npos);
  EXPECT_NE(doc.find("<title>Compliance report · acme/m</title>"), std::string::npos);
}

TEST(ComplianceHtml, WhateverTheJsonHoldsItRenders) {
  for (const json& odd : {json(nullptr), json::array(), json("x"), json{{"model", 3}, {"training_data", {{"missing", 5}}}},
                          json{{"audit", {{"downloads_by_user", json::array()}}}, {"complaints", {{"overdue_ids", "c"}}}}}) {
    std::string html = compliance_sections(odd);
    EXPECT_NE(html.find("</article>"), std::string::npos) << odd.dump();
  }
}

}  // namespace
}  // namespace lv::hub::web
