#include "lightvault/hub/service/text_tokenizer.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

std::optional<std::string> chosen(const std::vector<FileEntry>& files) {
  auto f = tokenizer_file(files);
  return f ? std::optional<std::string>(f->path) : std::nullopt;
}

TEST(TextTokenizerFile, PrefersDedicatedTokenizerFilesOverModels) {
  EXPECT_EQ(chosen({{"stories260K.bin", "", 1 << 20}, {"tok512.bin", "", 6000}}), "tok512.bin");
  EXPECT_EQ(chosen({{"model.gguf", "", 100}, {"tok512.bin", "", 6000}}), "tok512.bin");
  EXPECT_EQ(chosen({{"sub/Tokenizer.JSON", "", 900}, {"tokenizer.bin", "", 10}, {"model.gguf", "", 5}}), "sub/Tokenizer.JSON");
  EXPECT_EQ(chosen({{"tokenizer.bin", "", 10}, {"tok32000.bin", "", 5}}), "tokenizer.bin");
  // Of several GGUF models, the smallest (its tokenizer is the same, its copy cheapest).
  EXPECT_EQ(chosen({{"m-f32.gguf", "", 900}, {"m-q8_0.gguf", "", 300}, {"README.md", "", 1}}), "m-q8_0.gguf");
}

TEST(TextTokenizerFile, NoneWithoutATokenizerFile) {
  EXPECT_FALSE(chosen({}));
  EXPECT_FALSE(chosen({{"README.md", "", 10}, {"stories260K.bin", "", 1 << 20}, {"token_counts.csv", "", 3}}));
}

}  // namespace
}  // namespace lv::hub
