// `lightvault push DIR OWNER/NAME`: uploads a folder as a new commit on main (creates the
// repository, private, if it does not exist). Server and token: LIGHTVAULT_URL, LIGHTVAULT_TOKEN.
#include <cstdio>

#include "cli/hub_args.h"

namespace lv::cli {
namespace {

CommandRegistrar push_cmd("push", "Upload a folder to a hub repository (LIGHTVAULT_URL, LIGHTVAULT_TOKEN)", [](CLI::App& sub) {
  struct Args {
    std::string dir, repo, message = "Upload with lightvault push";
    HubArgs hub;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("dir", a->dir, "Folder to upload")->required();
  sub.add_option("repo", a->repo, "Repository OWNER/NAME")->required();
  sub.add_option("-m,--message", a->message, "Commit message");
  a->hub.add_to(sub);
  return [a]() -> int {
    auto client = a->hub.connect();
    if (!client.ok()) return fail(client.error());
    auto r = hub::push_directory(**client, a->dir, a->repo, a->message, a->hub.progress_bar());
    if (!r.ok()) return fail(r.error());
    std::printf("%s%s: commit %s (%d uploaded, %d unchanged)\n", r->created_repo ? "created " : "", a->repo.c_str(),
                r->commit.c_str(), r->uploaded, r->skipped);
    // The hub checked the model card; what it lacks is a note, not a failure of the push.
    if (!r->card_missing.empty()) {
      std::printf("model card incomplete, missing:");
      for (auto& f : r->card_missing) std::printf(" %s", f.c_str());
      std::printf("\n");
    }
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
