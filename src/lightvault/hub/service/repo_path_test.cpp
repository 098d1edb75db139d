#include "lightvault/hub/service/repo_path.h"

#include <gtest/gtest.h>

namespace lv::hub {
namespace {

TEST(RepoPath, OrdinaryNamesPassUnchanged) {
  for (const char* p : {"model.bin", "sub/config.json", ".gitignore", ".github/workflows/ci.yml", "a.git/x", "git/x",
                        "日本語/重み.bin", "x.git"}) {
    auto r = normalize_repo_path(p);
    ASSERT_TRUE(r.ok()) << p << ": " << r.error().message;
    EXPECT_EQ(*r, p);
  }
}

TEST(RepoPath, NfdBecomesNfc) {
  auto r = normalize_repo_path("caf\x65\xcc\x81/r\x65\xcc\x81sum\x65\xcc\x81.txt");  // e + U+0301
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "caf\xc3\xa9/r\xc3\xa9sum\xc3\xa9.txt");  // U+00E9
  EXPECT_EQ(normalize_repo_path("\xc3\xa9").value(), normalize_repo_path("\x65\xcc\x81").value());
}

TEST(RepoPath, GitControlFilesAreRefusedInEverySpelling) {
  for (const char* p : {".git/config", ".GIT/config", ".Git/hooks/pre-commit", "sub/.git/config", ".git", ".git./config",
                        ".git  /config", ".git::$INDEX_ALLOCATION/config", "GIT~1/config", "git~1/config",
                        ".g\xe2\x80\x8cit/config",   // U+200C ZERO WIDTH NON-JOINER (HFS+ ignores it)
                        "\xef\xbb\xbf.git/config"}) {  // U+FEFF
    auto r = normalize_repo_path(p);
    EXPECT_FALSE(r.ok()) << p;
    if (!r.ok()) {
      EXPECT_NE(r.error().message.find("reserved"), std::string::npos) << r.error().message;
    }
  }
}

TEST(RepoPath, TraversalAndOddBytesAreRefused) {
  for (const char* p : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "a\\b", "a\nb", "a\x7f",
                        "\xff\xfe.bin", "\xc3"}) {
    EXPECT_FALSE(normalize_repo_path(p).ok()) << p;
  }
  EXPECT_FALSE(normalize_repo_path(std::string(1025, 'a')).ok());
  EXPECT_FALSE(normalize_repo_path(std::string(256, 'a')).ok());
  EXPECT_TRUE(normalize_repo_path(std::string(255, 'a')).ok());
  auto e = normalize_repo_path("../x");
  EXPECT_NE(e.error().message.find("'../x'"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace lv::hub
