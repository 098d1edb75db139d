// The command line behaves like tools people know: the bare command lists the commands,
// --version answers, an unknown command is named.
#include <gtest/gtest.h>

#include "subprocess.h"

namespace lv {
namespace {

using testing_support::run_lightvault;

TEST(CliMainTest, BareCommandListsTheCommands) {
  auto r = run_lightvault({});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* command : {"serve", "push", "pull", "run", "eval", "compress", "synth", "detect", "mark"}) {
    EXPECT_NE(r.out.find(std::string("\n  ") + command + " "), std::string::npos) << command << " in\n" << r.out;
  }
  EXPECT_NE(r.out.find("Usage: lightvault"), std::string::npos) << r.out;
}

TEST(CliMainTest, VersionAnswers) {
  auto r = run_lightvault({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("lightvault ", 0), 0u) << r.out;
}

TEST(CliMainTest, UnknownCommandIsNamed) {
  auto r = run_lightvault({"frobnicate", "--x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.last_err_line(), "error: unknown command 'frobnicate' (run 'lightvault' for the list)");
}

}  // namespace
}  // namespace lv
