// `lightvault serve`: runs the hub (see lightvault/hub/http_server.h).
#include <signal.h>

#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "cli/hub_text_tokenizer.h"
#include "lightvault/hub/http/http_server.h"

namespace lv::cli {
namespace {

CommandRegistrar serve_cmd("serve", "Run the model hub (HTTP API, encrypted storage, audit log)", [](CLI::App& sub) {
  auto opt = std::make_shared<hub::ServerOptions>();
  opt->text_tokenizers = load_engine_text_tokenizer;
  sub.add_option("--data", opt->data_dir, "Data folder (catalog.db, blobs, keys)")->capture_default_str();
  sub.add_option("--listen", opt->listen, "HOST:PORT to listen on")->capture_default_str();
  sub.add_option("--catalog", opt->catalog_url, "Catalog: postgresql://... (default: SQLite in the data folder)");
  sub.add_option("--master-key-file", opt->master_key_file, "Master key file (mode 0600); default: $LIGHTVAULT_MASTER_KEY or DATA/keys");
  sub.add_option("--threads", opt->threads, "Worker threads")->capture_default_str();
  sub.add_flag("--quiet", opt->quiet, "No request log on stderr");
  return [opt]() -> int {
    // SIGINT/SIGTERM stop the server cleanly (handled on a thread, not in a signal handler).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    auto server = hub::HubServer::open(*opt);
    if (!server.ok()) return fail(server.error());
    auto port = (*server)->bind();
    if (!port.ok()) return fail(port.error());
    if (!(*server)->bootstrap_token().empty()) {
      std::printf("Created administrator 'admin'. Its token, shown only this once:\n  %s\n", (*server)->bootstrap_token().c_str());
    }
    std::string host = opt->listen.substr(0, opt->listen.rfind(':'));
    std::printf("lightvault hub listening on http://%s:%d (data: %s, catalog: %s)\n", host.c_str(), *port, opt->data_dir.c_str(),
                (*server)->catalog().describe().c_str());
    std::fflush(stdout);
    hub::HubServer* raw = server->get();
    std::thread waiter([raw, set] {
      int sig = 0;
      sigwait(&set, &sig);
      raw->stop();
    });
    waiter.detach();
    Status st = (*server)->run();
    if (!st.ok()) return fail(st.error());
    return 0;
  };
});

}  // namespace
}  // namespace lv::cli
