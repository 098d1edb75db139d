#pragma once
// Each subcommand lives in its own cmd_*.cpp and registers itself with a static
// CommandRegistrar, so main.cpp never lists them. A command's setup adds its options to
// `sub` and returns the function that runs it; that function returns the exit status.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "lightvault/util/status.h"

namespace lv::cli {

using CommandRun = std::function<int()>;
using CommandSetup = std::function<CommandRun(CLI::App& sub)>;

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, CommandSetup setup);
};

// Exit status for bad input (files, requests, arguments): the CLI's documented contract.
constexpr int kExitBadInput = 2;

// Prints "error: MESSAGE" as the last line on stderr and returns kExitBadInput.
int fail(const Error& error);

}  // namespace lv::cli
