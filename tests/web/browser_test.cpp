// Runs tests/web/browser.test.mjs (node:test + puppeteer-core driving Debian's chromium, with
// axe-core) against an in-process hub on a free loopback port. The hub holds an organization
// with an owner, a team, and a private model with a model card, files, two commits and a
// compression report. Screenshots land in BUILD/web-screenshots/ (BUILD: the folder of the lightvault binary). Skipped, saying why, when
// node, chromium or the npm packages (`npm ci` in tests/web) are missing.
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

const char* kCard = R"(---
license: apache-2.0
base_model: meta-llama/Llama-2-7b
language: [en, de]
datasets:
  - wikitext
  - c4
training_data:
  sources:
    - internal-claims-2023
  cleaning: deduplicated, PII removed
---
# Tiny Llama

A 15M-parameter Llama trained on TinyStories, pruned and quantized by lightvault for the
support team's on-device summaries.

## Evaluation

| model | perplexity | top-1 agreement | size |
|---|---:|---:|---:|
| original (f32) | 7.82 | 100.0% | 60.8 MB |
| pruned 25% + int8 | 8.04 | 93.1% | 11.9 MB |

## Use

```sh
lightvault pull acme/tiny-llama --out tiny
lightvault generate tiny/model.gguf --prompt "Once upon a time"
```

> Not for medical or legal advice.
)";

const char* kReport = R"(<!doctype html><html><head><meta charset="utf-8"><title>Compression report</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}</style>
</head><body><h1>Compression report</h1><table><tr><th>layer</th><th>heads kept</th></tr>
<tr><td>0</td><td>6 / 8</td></tr><tr><td>1</td><td>5 / 8</td></tr></table>
<svg xmlns='http://www.w3.org/2000/svg' width='240' height='60'><rect x='0' y='10' width='180' height='16' fill='#3b4fd8'/>
<rect x='0' y='34' width='150' height='16' fill='#38bdf8'/></svg></body></html>)";

class WebBrowserTest : public testing::LoopbackServerTest {};

TEST_F(WebBrowserTest, SignInBrowseGrantAuditSignOutInChromium) {
  fs::path here = fs::path(__FILE__).parent_path();
  const char* chromium = std::getenv("LV_CHROMIUM") ? std::getenv("LV_CHROMIUM") : "/usr/bin/chromium";
  if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed (apt-get install nodejs npm)";
  if (!fs::exists(chromium)) GTEST_SKIP() << chromium << " is missing (apt-get install chromium)";
  if (!fs::exists(here / "node_modules" / "puppeteer-core") || !fs::exists(here / "node_modules" / "axe-core")) {
    GTEST_SKIP() << "puppeteer-core and axe-core are not installed: run `npm ci` in " << here.string();
  }
  make_test_dir("lv_webui_");
  const std::string admin_token = "lvt_webui_admin_token_0123456789";
  start_server(testing::test_server_options(dir_.string(), admin_token));

  httplib::Client c("127.0.0.1", port_);
  httplib::Headers admin{{"Authorization", "Bearer " + admin_token}};
  auto post = [&](const httplib::Headers& h, const std::string& path, const json& body) {
    auto r = c.Post(path, h, body.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << path << ": " << (r ? r->body : "no response");
    return r ? json::parse(r->body, nullptr, false) : json();
  };
  for (const char* user : {"carol", "dan", "erin"}) post(admin, "/api/lv/users", {{"name", user}});
  std::string carol = post(admin, "/api/lv/tokens", {{"user", "carol"}, {"scopes", "admin"}, {"name", "browser"}})["token"];
  httplib::Headers owner{{"Authorization", "Bearer " + carol}};
  post(owner, "/api/lv/orgs", {{"name", "acme"}});
  post(owner, "/api/lv/orgs/acme/members", {{"user", "dan"}, {"role", "member"}});
  post(owner, "/api/lv/orgs/acme/members", {{"user", "erin"}, {"role", "admin"}});
  post(owner, "/api/lv/orgs/acme/teams", {{"name", "research"}});
  post(owner, "/api/lv/orgs/acme/teams/research/members", {{"user", "dan"}});
  post(owner, "/api/repos/create", {{"name", "tiny-llama"}, {"organization", "acme"}, {"private", true}});
  post(owner, "/api/repos/create", {{"name", "summarizer-int8"}, {"organization", "acme"}, {"private", false}});

  std::mt19937 rng(7);
  std::string weights(250000, '\0');
  for (auto& ch : weights) ch = static_cast<char>(rng());
  auto commit = [&](const std::vector<std::pair<std::string, std::string>>& files, const std::string& message) {
    json add = json::array();
    for (auto& [path, content] : files) {
      auto up = c.Post("/api/lv/models/acme/tiny-llama/upload", owner, content, "application/octet-stream");
      ASSERT_TRUE(up && up->status == 200);
      add.push_back({{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}});
    }
    post(owner, "/api/lv/models/acme/tiny-llama/commit/main", {{"add", add}, {"message", message}});
  };
  commit({{"config.json", R"({"dim": 288, "n_layers": 6, "n_heads": 6, "vocab_size": 32000})"}, {"model.gguf", weights}},
         "Upload the pruned model");
  commit({{"README.md", kCard}, {"tokenizer.json", R"({"model": {"type": "BPE"}})"}, {"reports/tiny.report.html", kReport}},
         "Add the model card and the compression report");

  fs::path shots = fs::path(LV_CLI_PATH).parent_path() / "web-screenshots";  // the build folder
  auto node = testing_support::run_node_test(
      (here / "browser.test.mjs").string(),
      {"LV_WEB_URL=http://127.0.0.1:" + std::to_string(port_), "LV_WEB_TOKEN=" + carol, "LV_WEB_MODEL=acme/tiny-llama",
       "LV_WEB_TEAM=acme/research", "LV_WEB_SHOTS=" + shots.string(), std::string("LV_CHROMIUM=") + chromium});
  EXPECT_EQ(node.exit_code, 0) << node.out << node.err;
  EXPECT_NE(node.out.find("# fail 0"), std::string::npos) << node.out;
  EXPECT_TRUE(fs::exists(shots / "04-model-1280.png")) << node.out;
}

}  // namespace
}  // namespace lv::hub
