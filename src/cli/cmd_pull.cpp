// `lightvault pull OWNER/NAME DIR`: downloads a revision of a repository into a folder, each
// file verified against its SHA-256. Server and token: LIGHTVAULT_URL, LIGHTVAULT_TOKEN.
#include <cstdio>

#include "cli/command.h"
#include "lightvault/hub/hub_client.h"

namespace lv::cli {
namespace {

CommandRegistrar pull_cmd("pull", "Download a hub repository into a folder (LIGHTVAULT_URL, LIGHTVAULT_TOKEN)", [](CLI::App& sub) {
  struct Args {
    std::string repo, dir, revision = "main", url, token;
    bool progress = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("repo", a->repo, "Repository OWNER/NAME")->required();
  sub.add_option("dir", a->dir, "Destination folder")->required();
  sub.add_option("-r,--revision", a->revision, "Branch, tag or commit")->capture_default_str();
  sub.add_option("--url", a->url, "Hub URL (default: $LIGHTVAULT_URL)");
  sub.add_option("--token", a->token, "Token (default: $LIGHTVAULT_TOKEN)");
  sub.add_flag("--progress", a->progress, "Show progress bars even when stderr is not a terminal");
  return [a]() -> int {
    auto client = hub::HubClient::connect(a->url, a->token);
    if (!client.ok()) return fail(client.error());
    auto r = hub::pull_repository(**client, a->repo, a->revision, a->dir, hub::stderr_progress_bar(a->progress));
    if (!r.ok()) return fail(r.error());
    std::printf("%s@%s: %d files, %llu bytes into %s\n", a->repo.c_str(), r->commit.c_str(), r->files,
                static_cast<unsigned long long>(r->bytes), a->dir.c_str());
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
