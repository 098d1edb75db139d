#include "lightvault/hub/web/markdown.h"

#include <gtest/gtest.h>

namespace lv::hub::web {
namespace {

TEST(WebMarkdown, RendersGfmTablesAndHeadings) {
  std::string html = render_markdown("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ https://example.org\n");
  EXPECT_NE(html.find("<h1>Title</h1>"), std::string::npos) << html;
  EXPECT_NE(html.find("<table>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>2</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<del>old</del>"), std::string::npos) << html;
  EXPECT_NE(html.find("<a href=\"https://example.org\">"), std::string::npos) << html;
}

TEST(WebMarkdown, RawHtmlAndScriptUrlsNeverReachThePage) {
  std::string html = render_markdown(
      "<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> and <b onclick=\"x()\">b</b>\n\n"
      "[click](javascript:alert(3)) [v](vbscript:msgbox) [d](data:text/html;base64,PHNjcmlwdD4=)\n\n"
      "<iframe src=\"https://evil.example\"></iframe>\n\n![i](javascript:alert(4))\n");
  for (const char* bad : {"<script", "onerror", "onclick", "javascript:", "vbscript:", "data:text/html", "<iframe", "<img src=\"x\""}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << bad << " in " << html;
  }
  EXPECT_NE(html.find("raw HTML omitted"), std::string::npos) << html;
}

TEST(WebMarkdown, InvalidUtf8IsReplacedNotPassedThrough) {
  std::string html = render_markdown(std::string("caf\xc3 \xff end"));
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_NE(html.find("end"), std::string::npos);
}

}  // namespace
}  // namespace lv::hub::web
