#include "lightvault/mark/text_label.h"

#include <gtest/gtest.h>

#include "lightvault/mark/media_kind.h"

namespace lv::mark {
namespace {

TEST(TextLabelTest, AddsALineAtTheStartOrTheEnd) {
  EXPECT_EQ(add_text_label("Once upon a time.\n", kDefaultTextLabel, LabelPosition::Start), "【AI生成】\nOnce upon a time.\n");
  EXPECT_EQ(add_text_label("Once upon a time.", "AI生成", LabelPosition::End), "Once upon a time.\nAI生成\n");
  EXPECT_EQ(add_text_label("Once.\n", "AI生成", LabelPosition::End), "Once.\nAI生成\n");
  EXPECT_EQ(add_text_label("", "AI生成", LabelPosition::End), "AI生成\n");
}

TEST(TextLabelTest, LabellingTwiceChangesNothing) {
  for (auto position : {LabelPosition::Start, LabelPosition::End}) {
    std::string once = add_text_label("A story.\nThe end.", kDefaultTextLabel, position);
    EXPECT_TRUE(has_text_label(once, kDefaultTextLabel, position));
    EXPECT_EQ(add_text_label(once, kDefaultTextLabel, position), once);
  }
  EXPECT_FALSE(has_text_label("【AI生成】 is how it starts", kDefaultTextLabel, LabelPosition::Start));
  EXPECT_FALSE(has_text_label("ends with X【AI生成】", kDefaultTextLabel, LabelPosition::End));
}

TEST(TextLabelTest, LabelsAndPositionsAreChecked) {
  EXPECT_TRUE(validate_label(kDefaultTextLabel).ok());
  EXPECT_EQ(validate_label("").error().message, "--label: is empty");
  EXPECT_EQ(validate_label("two\nlines").error().message, "--label: must be a single line");
  EXPECT_EQ(parse_label_position("end").value(), LabelPosition::End);
  EXPECT_EQ(parse_label_position("middle").error().message, "--label-position: must be start or end, not 'middle'");
  EXPECT_TRUE(label_names_ai_generation(kDefaultTextLabel));
  EXPECT_TRUE(label_names_ai_generation("本文由人工智能合成"));
  EXPECT_FALSE(label_names_ai_generation("Generated"));
}

TEST(MediaKindTest, SniffsByTheFirstBytes) {
  EXPECT_EQ(sniff_media(""), MediaKind::Empty);
  EXPECT_EQ(sniff_media("Once upon a time"), MediaKind::Text);
  EXPECT_EQ(sniff_media("很久以前"), MediaKind::Text);
  EXPECT_EQ(sniff_media(std::string("\x89PNG\r\n\x1a\n\0\0", 10)), MediaKind::Png);
  EXPECT_EQ(sniff_media("\xff\xd8\xff\xe0"), MediaKind::Jpeg);
  EXPECT_EQ(sniff_media(std::string("ab\0cd", 5)), MediaKind::Binary);
}

}  // namespace
}  // namespace lv::mark
