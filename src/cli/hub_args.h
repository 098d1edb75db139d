#pragma once
// Options shared by the commands that talk to a hub server: where it is, the token, and
// whether to draw progress bars when stderr is not a terminal.
#include <string>

#include "cli/command.h"
#include "lightvault/hub/client/hub_client.h"

namespace lv::cli {

struct HubArgs {
  std::string url, token;
  bool progress = false;

  void add_to(CLI::App& sub) {
    sub.add_option("--url", url, "Hub URL (default: $LIGHTVAULT_URL)");
    sub.add_option("--token", token, "Token (default: $LIGHTVAULT_TOKEN)");
    sub.add_flag("--progress", progress, "Show progress bars even when stderr is not a terminal");
  }
  auto connect() const { return hub::HubClient::connect(url, token); }
  auto progress_bar() const { return hub::stderr_progress_bar(progress); }
};

}  // namespace lv::cli
