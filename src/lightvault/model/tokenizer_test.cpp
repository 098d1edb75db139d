#include "lightvault/model/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace lv {
namespace {

// <unk> <s> </s>, the byte tokens, then a few pieces whose scores decide the merge order.
Tokenizer small_tokenizer() {
  std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    pieces.emplace_back(buf);
  }
  std::vector<std::string> words = {"\xe2\x96\x81", "a", "b", "c", "ab", "bc", "\xe2\x96\x81" "a", "\xe2\x96\x81" "ab", "abc"};
  std::vector<float> scores(pieces.size(), 0.0f);
  std::vector<float> word_scores = {-1, -2, -3, -4, -5, -1, -6, -7, -8};
  for (size_t i = 0; i < words.size(); ++i) {
    pieces.push_back(words[i]);
    scores.push_back(word_scores[i]);
  }
  return Tokenizer(pieces, scores, {});
}

int id_of(const Tokenizer& t, const std::string& piece) {
  for (int i = 0; i < t.vocab_size(); ++i) {
    if (t.piece(i) == piece) return i;
  }
  return -1;
}

TEST(TokenizerTest, InfersTypes) {
  Tokenizer t = small_tokenizer();
  EXPECT_EQ(t.type(0), static_cast<int32_t>(TokenType::Unknown));
  EXPECT_EQ(t.type(1), static_cast<int32_t>(TokenType::Control));
  EXPECT_EQ(t.type(3 + 'A'), static_cast<int32_t>(TokenType::Byte));
  EXPECT_EQ(t.type(id_of(t, "ab")), static_cast<int32_t>(TokenType::Normal));
}

TEST(TokenizerTest, SignedOrNonHexBytePiecesAreNormalPieces) {
  // Found by fuzzing: sscanf's %X read "<0x-1>" as byte 0xffffffff.
  Tokenizer t({"<unk>", "<s>", "</s>", "<0x-1>", "<0x+F>", "<0xG0>", "<0x4a>"}, {}, {});
  EXPECT_EQ(t.type(3), static_cast<int32_t>(TokenType::Normal));
  EXPECT_EQ(t.type(4), static_cast<int32_t>(TokenType::Normal));
  EXPECT_EQ(t.type(5), static_cast<int32_t>(TokenType::Normal));
  EXPECT_EQ(t.type(6), static_cast<int32_t>(TokenType::Byte));
}

TEST(TokenizerTest, MergesHighestScoreFirst) {
  Tokenizer t = small_tokenizer();
  // "▁abc": "bc" (-1) merges before "▁a" (-6) and "ab" (-5); then "▁a"+"bc" is no piece.
  auto tokens = t.encode("abc", false);
  ASSERT_TRUE(tokens.ok());
  std::vector<int> expected = {id_of(t, "\xe2\x96\x81" "a"), id_of(t, "bc")};
  EXPECT_EQ(*tokens, expected);
}

TEST(TokenizerTest, BosAndByteFallback) {
  Tokenizer t = small_tokenizer();
  auto tokens = t.encode("a\nz", true);
  ASSERT_TRUE(tokens.ok());
  std::vector<int> expected = {1, id_of(t, "\xe2\x96\x81" "a"), 3 + '\n', 3 + 'z'};
  EXPECT_EQ(*tokens, expected);
}

TEST(TokenizerTest, MultibyteFallsBackToBytes) {
  Tokenizer t = small_tokenizer();
  auto tokens = t.encode("\xc3\xa9", false);  // é, not in the vocabulary
  ASSERT_TRUE(tokens.ok());
  std::vector<int> expected = {id_of(t, "\xe2\x96\x81"), 3 + 0xc3, 3 + 0xa9};
  EXPECT_EQ(*tokens, expected);
}

TEST(TokenizerTest, DecodeRestoresSpacesAndBytes) {
  Tokenizer t = small_tokenizer();
  int a = id_of(t, "\xe2\x96\x81" "a");
  EXPECT_EQ(t.decode(1, a), "a");  // the space after BOS is dropped
  EXPECT_EQ(t.decode(a, a), " a");
  EXPECT_EQ(t.decode(a, 3 + '\n'), "\n");
  EXPECT_EQ(t.decode(a, 2), "");
}

TEST(TokenizerTest, RejectsInvalidUtf8WithOffset) {
  Tokenizer t = small_tokenizer();
  auto tokens = t.encode(std::string("ab\xff", 3), true, "prompt");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message, "prompt: not valid UTF-8 (offset 2)");
  EXPECT_EQ(first_invalid_utf8("\xe2\x96"), 0);
  EXPECT_EQ(first_invalid_utf8("ok\xc0\x80"), 2);  // overlong
  EXPECT_EQ(first_invalid_utf8("\xed\xa0\x80"), 0);  // surrogate
  EXPECT_EQ(first_invalid_utf8("\xe2\x96\x81\xf0\x9f\x98\x80"), -1);
}

}  // namespace
}  // namespace lv
