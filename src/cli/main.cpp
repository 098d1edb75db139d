#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "cli/command.h"

namespace lv::cli {
namespace {

struct Registered {
  std::string name, description;
  CommandSetup setup;
};

std::vector<Registered>& registry() {
  static std::vector<Registered> commands;
  return commands;
}

}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, std::string description, CommandSetup setup) {
  registry().push_back({std::move(name), std::move(description), std::move(setup)});
}

int fail(const Error& error) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return kExitBadInput;
}

}  // namespace lv::cli

int main(int argc, char** argv) {
  using namespace lv::cli;
  // OpenMP threads that spin while they wait lose whole time slices to each other when the
  // machine is busy (decode ran 5x slower than with passive waiting on a loaded 2-core
  // machine), and libgomp reads its policy when it loads, before main: so set it and start
  // again, once, unless the user chose a policy.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
  }
  CLI::App app{"lightvault: a self-hosted AI model hub", "lightvault"};
  app.set_version_flag("--version", "lightvault " LV_VERSION);
  app.require_subcommand(1);
  std::map<CLI::App*, CommandRun> runs;
  for (auto& command : registry()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    runs[sub] = command.setup(*sub);
  }
  // Like git: the bare command lists the commands; a word that is no command is named.
  if (argc < 2) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  const bool known = std::any_of(registry().begin(), registry().end(),
                                 [&](const Registered& c) { return c.name == argv[1]; });
  if (argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "error: unknown command '%s' (run 'lightvault' for the list)\n", argv[1]);
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return e.get_exit_code() == 0 ? 0 : kExitBadInput;
  }
  for (auto& [sub, run] : runs) {
    if (sub->parsed()) return run();
  }
  return kExitBadInput;
}
