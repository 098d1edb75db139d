// Runs tests/hub/hf_client.test.mjs (node:test + the real @huggingface/hub npm package)
// against an in-process hub on a free loopback port. Needs `node` and `npm ci` in tests/hub;
// skipped with that message when either is missing.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/http/http_server.h"
#include "lightvault/hub/http/http_server_testutil.h"
#include "subprocess.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

TEST(HfJsClient, DownloadsAndListsThroughHuggingFaceHubPackage) {
  fs::path here = fs::path(__FILE__).parent_path();
  if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed (apt-get install nodejs npm)";
  if (!fs::exists(here / "node_modules" / "@huggingface" / "hub")) {
    GTEST_SKIP() << "@huggingface/hub is not installed: run `npm ci` in " << here.string();
  }
  fs::path dir = fs::temp_directory_path() / ("lv_hfjs_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ServerOptions opt = testing::test_server_options(dir.string(), "lvt_hfjs_admin_token_0123456789");
  auto server = HubServer::open(opt);
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto port = (*server)->start_background();
  ASSERT_TRUE(port.ok());

  httplib::Client c("127.0.0.1", *port);
  httplib::Headers auth{{"Authorization", "Bearer " + opt.admin_token}};
  ASSERT_EQ(c.Post("/api/lv/users", auth, R"({"name":"alice"})", "application/json")->status, 200);
  auto t = c.Post("/api/lv/tokens", auth, R"({"user":"alice","scopes":"write","name":"js"})", "application/json");
  std::string token = json::parse(t->body)["token"];
  httplib::Headers alice{{"Authorization", "Bearer " + token}};
  ASSERT_EQ(c.Post("/api/repos/create", alice, R"({"name":"tiny"})", "application/json")->status, 200);
  std::mt19937 rng(3);
  std::string weights(300000, '\0');
  for (auto& ch : weights) ch = static_cast<char>(rng());
  json add = json::array();
  for (auto& [path, content] : std::vector<std::pair<std::string, std::string>>{{"weights/model.bin", weights}, {"config.json", "{}"}}) {
    auto up = c.Post("/api/lv/models/alice/tiny/upload", alice, content, "application/octet-stream");
    ASSERT_EQ(up->status, 200) << up->body;
    add.push_back({{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}});
  }
  auto commit = c.Post("/api/lv/models/alice/tiny/commit/main", alice, json{{"add", add}, {"message", "js"}}.dump(), "application/json");
  ASSERT_EQ(commit->status, 200) << commit->body;

  auto node = testing_support::run_node_test(
      (here / "hf_client.test.mjs").string(),
      {"LV_HUB_URL=http://127.0.0.1:" + std::to_string(*port), "LV_HUB_TOKEN=" + token, "LV_HUB_REPO=alice/tiny",
       "LV_HUB_FILE=weights/model.bin", "LV_HUB_FILE_SHA256=" + crypto::sha256_hex(weights),
       "LV_HUB_FILE_SIZE=" + std::to_string(weights.size())});
  EXPECT_EQ(node.exit_code, 0) << node.out << node.err;
  EXPECT_NE(node.out.find("# fail 0"), std::string::npos) << node.out;
  (*server)->stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lv::hub
