// `lightvault pull OWNER/NAME DIR`: downloads a revision of a repository into a folder, each
// file verified against its SHA-256. Server and token: LIGHTVAULT_URL, LIGHTVAULT_TOKEN.
#include <cstdio>

#include "cli/hub_args.h"

namespace lv::cli {
namespace {

CommandRegistrar pull_cmd("pull", "Download a hub repository into a folder (LIGHTVAULT_URL, LIGHTVAULT_TOKEN)", [](CLI::App& sub) {
  struct Args {
    std::string repo, dir, revision = "main";
    HubArgs hub;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("repo", a->repo, "Repository OWNER/NAME")->required();
  sub.add_option("dir", a->dir, "Destination folder")->required();
  sub.add_option("-r,--revision", a->revision, "Branch, tag or commit")->capture_default_str();
  a->hub.add_to(sub);
  return [a]() -> int {
    auto client = a->hub.connect();
    if (!client.ok()) return fail(client.error());
    auto r = hub::pull_repository(**client, a->repo, a->revision, a->dir, a->hub.progress_bar());
    if (!r.ok()) return fail(r.error());
    std::printf("%s@%s: %d files, %llu bytes into %s\n", a->repo.c_str(), r->commit.c_str(), r->files,
                static_cast<unsigned long long>(r->bytes), a->dir.c_str());
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
