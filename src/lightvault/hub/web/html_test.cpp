#include "lightvault/hub/web/html.h"

#include <gtest/gtest.h>

namespace lv::hub::web {
namespace {

TEST(WebHtml, EscapesMarkupQuotesAndBadBytes) {
  EXPECT_EQ(esc("<a href=\"x\" onclick='y'>&</a>"), "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(esc("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(esc("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(esc(std::string("a\0b\x1b", 4)), "ab");
  EXPECT_EQ(esc("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate is not UTF-8
}

TEST(WebHtml, EncodesUrlParts) {
  EXPECT_EQ(url_path("weights/model v2.bin"), "weights/model%20v2.bin");
  EXPECT_EQ(url_path("a?b#c\"<"), "a%3Fb%23c%22%3C");
  EXPECT_EQ(url_query("acme/llama & co"), "acme%2Fllama+%26+co");
}

TEST(WebHtml, FormatsSizesAndTimes) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(999), "999 B");
  EXPECT_EQ(human_size(1500), "1.50 kB");
  EXPECT_EQ(human_size(26'800'000), "26.8 MB");
  EXPECT_EQ(human_size(3'000'000'000ull), "3.00 GB");
  EXPECT_EQ(human_time(0), "");
  EXPECT_EQ(human_time(86400), "1970-01-02 00:00 UTC");
}

TEST(WebHtml, TellsTextFromBinary) {
  EXPECT_TRUE(looks_like_text("# Title\nnaïve\n"));
  EXPECT_FALSE(looks_like_text(std::string("GGUF\0\0\0\3", 8)));
  EXPECT_FALSE(looks_like_text("\xff\xfe\xfd\xfc text"));
  EXPECT_TRUE(looks_like_text("ends in a cut character \xc3"));
}

}  // namespace
}  // namespace lv::hub::web
