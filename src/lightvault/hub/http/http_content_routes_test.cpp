// The content routes over real HTTP on loopback, on SQLite and PostgreSQL catalogs: an image
// marked through the hub is found again with who marked it; refusals (no token, a repository the
// caller cannot read, a truncated JPEG, an oversized body) record no payload; a text generated
// by `lightvault run` with the organization's key is found through the hub.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/hub_text_tokenizer.h"
#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/http/http_server.h"
#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/mark/image_testing.h"
#include "subprocess.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing_support::Completed;
using testing_support::run_lightvault;

const std::string kAdmin = "lvt_test_admin_token_content_0123456789";
const std::string kShared = LV_SHARED_MODELS;

// A JPEG photograph: a shared one when present, else a synthetic one.
std::string test_jpeg() {
  const std::string shared = mark::test_images::shared_images_dir() + "/rocket.jpg";
  if (fs::exists(shared)) return mark::test_images::read_bytes(shared);
  mark::Image image = mark::test_images::synthetic_image(640, 480, 3, mark::ImageFormat::Jpeg);
  return mark::encode_image(image).value();
}

class HubHttpContentTest : public testing::LoopbackServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '_' : c;
    dir_ = fs::temp_directory_path() / ("lv_http_content_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir_);
    ServerOptions opt = testing::test_server_options((dir_ / "data").string(), kAdmin);
    if (GetParam() == "postgres") {
      auto& pg = testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL catalog tests skipped: " << pg.reason();
      opt.catalog_url = pg.new_database_url();
      ASSERT_FALSE(opt.catalog_url.empty());
    }
    opt.text_tokenizers = cli::load_engine_text_tokenizer;
    start_server(opt);
    // acme's repositories are private: its member alice may read acme/gen, the outsider bob not.
    ok(post("/api/lv/orgs", kAdmin, json{{"name", "acme"}}));
    ok(post("/api/repos/create", kAdmin, json{{"name", "gen"}, {"organization", "acme"}}));
    alice_ = user("alice", "read");
    bob_ = user("bob", "admin");
    ok(post("/api/lv/orgs/acme/members", kAdmin, json{{"user", "alice"}, {"role", "member"}}));
    ok(post("/api/lv/models/acme/gen/grants", kAdmin, json{{"subject", "user:alice"}, {"role", "read"}}));
  }

  httplib::Result post(const std::string& path, const std::string& token, const std::string& body, const std::string& type) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);  // image work under the sanitizers
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Post(path, h, body, type);
  }
  httplib::Result post(const std::string& path, const std::string& token, const json& body) {
    return post(path, token, body.dump(), "application/json");
  }
  httplib::Result get(const std::string& path, const std::string& token) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c.Get(path, {{"Authorization", "Bearer " + token}});
  }
  static void ok(const httplib::Result& r) { ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no response"); }
  std::string user(const std::string& name, const std::string& scopes) {
    ok(post("/api/lv/users", kAdmin, json{{"name", name}}));
    auto t = post("/api/lv/tokens", kAdmin, json{{"user", name}, {"name", "t"}, {"scopes", scopes}});
    return json::parse(t->body)["token"].get<std::string>();
  }
  void commit(const std::string& repo, const std::vector<std::pair<std::string, std::string>>& files) {
    json add = json::array();
    for (auto& [path, content] : files) {
      ok(post("/api/lv/models/" + repo + "/upload", kAdmin, content, "application/octet-stream"));
      add.push_back({{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}});
    }
    ok(post("/api/lv/models/" + repo + "/commit/main", kAdmin, json{{"add", add}}));
  }
  std::vector<json> audit_entries(const std::string& action) {
    std::vector<json> out;
    auto r = get("/api/lv/audit/export", kAdmin);
    EXPECT_TRUE(r && r->status == 200);
    std::istringstream in(r ? r->body : "");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("{\"head\":", 0) == 0) continue;
      json e = json::parse(line);
      if (e["action"] == action) out.push_back(e);
    }
    return out;
  }
  void expect_chain_verifies() {
    auto v = post("/api/lv/audit/verify", kAdmin, json::object());
    ASSERT_TRUE(v && v->status == 200);
    EXPECT_TRUE(json::parse(v->body)["ok"].get<bool>()) << v->body;
  }
  int64_t issued_payloads() {
    auto r = server_->catalog().sql().exec("SELECT COUNT(*) FROM issued_payloads");
    return r.ok() ? std::stoll(*r->rows[0][0]) : -1;
  }

  std::string alice_, bob_;
};

TEST_P(HubHttpContentTest, AnImageMarkedThroughTheHubIsFoundWithWhoMarkedIt) {
  const std::string original = test_jpeg();
  auto marked = post("/api/lv/mark?repo=acme/gen&producer=lightvault-test", alice_, original, "image/jpeg");
  ok(marked);
  EXPECT_EQ(marked->get_header_value("Content-Type"), "image/jpeg");
  const std::string payload = marked->get_header_value("X-Lightvault-Payload");
  ASSERT_EQ(payload.size(), 16u);
  ASSERT_EQ(marked->body.substr(0, 2), "\xff\xd8");

  // alice sees everything: the watermark, the metadata, and her own issue of it.
  auto found = post("/api/lv/detect", alice_, marked->body, "image/jpeg");
  ok(found);
  json report = json::parse(found->body);
  EXPECT_TRUE(report["watermark"]["found"].get<bool>()) << found->body;
  EXPECT_EQ(report["watermark"]["payload"], payload);
  EXPECT_EQ(report["metadata"]["aigc"]["ProduceID"], payload);
  EXPECT_EQ(report["metadata"]["aigc"]["ContentProducer"], "lightvault-test");
  EXPECT_FALSE(report["c2pa"]["present"].get<bool>());
  ASSERT_TRUE(report["issued"].is_object()) << found->body;
  EXPECT_EQ(report["issued"]["by"], "alice");
  EXPECT_EQ(report["issued"]["repo"], "acme/gen");
  EXPECT_EQ(report["issued"]["at"].get<std::string>().size(), 20u);  // 2026-01-31T12:00:00Z

  // bob cannot read acme/gen: the mark is found, but who issued it for which repository is
  // not told.
  auto outsider = post("/api/lv/detect", bob_, marked->body, "image/jpeg");
  ok(outsider);
  json seen = json::parse(outsider->body);
  EXPECT_TRUE(seen["watermark"]["found"].get<bool>());
  EXPECT_TRUE(seen["issued"].is_null()) << outsider->body;
  EXPECT_EQ(outsider->body.find("acme"), std::string::npos);

  auto unmarked = post("/api/lv/detect", alice_, original, "image/jpeg");
  ok(unmarked);
  EXPECT_FALSE(json::parse(unmarked->body)["watermark"]["found"].get<bool>());
  EXPECT_TRUE(json::parse(unmarked->body)["issued"].is_null());

  // A payload names one image: issuing it again is refused.
  EXPECT_EQ(post("/api/lv/mark?payload=" + payload, alice_, original, "image/jpeg")->status, 409);
  EXPECT_EQ(issued_payloads(), 1);

  auto marks = audit_entries("content.mark");
  ASSERT_EQ(marks.size(), 2u);  // the issue, and the refused reissue
  EXPECT_EQ(marks[0]["outcome"], "allowed");
  EXPECT_EQ(marks[0]["actor"], "alice");
  EXPECT_EQ(marks[0]["resource"], "acme/gen");
  EXPECT_EQ(marks[0]["details"]["payload"], payload);
  EXPECT_EQ(marks[0]["details"]["input_sha256"], crypto::sha256_hex(original));
  EXPECT_EQ(marks[0]["details"]["output_sha256"], crypto::sha256_hex(marked->body));
  EXPECT_EQ(marks[1]["outcome"], "denied");
  auto detects = audit_entries("content.detect");
  ASSERT_EQ(detects.size(), 3u);
  EXPECT_EQ(detects[0]["details"]["payload"], payload);
  EXPECT_EQ(detects[0]["details"]["input_sha256"], crypto::sha256_hex(marked->body));
  EXPECT_EQ(detects[0]["details"]["output_sha256"], crypto::sha256_hex(found->body));
  EXPECT_TRUE(detects[0]["details"]["issued"].get<bool>());
  EXPECT_FALSE(detects[1]["details"]["issued"].get<bool>());
  expect_chain_verifies();
}

TEST_P(HubHttpContentTest, RefusedRequestsIssueNothing) {
  const std::string jpeg = test_jpeg();
  EXPECT_EQ(post("/api/lv/mark", "", jpeg, "image/jpeg")->status, 401);
  EXPECT_EQ(post("/api/lv/detect", "", jpeg, "image/jpeg")->status, 401);
  EXPECT_EQ(post("/api/lv/mark", "", "", "image/jpeg")->status, 401);  // no body, still no token

  // A private repository the caller cannot read is not found, as everywhere in the API.
  auto hidden = post("/api/lv/mark?repo=acme/gen", bob_, jpeg, "image/jpeg");
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 404) << hidden->body;
  EXPECT_EQ(post("/api/lv/detect?repo=acme/gen", bob_, jpeg, "image/jpeg")->status, 404);
  EXPECT_EQ(post("/api/lv/mark?repo=acme/none", alice_, jpeg, "image/jpeg")->status, 404);
  EXPECT_EQ(post("/api/lv/mark?repo=not-a-repo", alice_, jpeg, "image/jpeg")->status, 400);

  // A truncated JPEG: 400 with the decoder's message, for marking and detection alike.
  const std::string truncated = jpeg.substr(0, jpeg.size() / 2);
  for (const char* route : {"/api/lv/mark", "/api/lv/detect"}) {
    auto bad = post(route, alice_, truncated, "image/jpeg");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << route << ": " << bad->body;
    EXPECT_NE(json::parse(bad->body)["error"].get<std::string>().find("request body: "), std::string::npos) << bad->body;
  }
  auto not_image = post("/api/lv/mark", alice_, "just some text", "image/png");
  ASSERT_TRUE(not_image);
  EXPECT_EQ(not_image->status, 400);
  EXPECT_NE(not_image->body.find("not a JPEG or PNG image"), std::string::npos) << not_image->body;
  EXPECT_EQ(post("/api/lv/mark?label-position=middle", alice_, jpeg, "image/jpeg")->status, 400);
  EXPECT_EQ(post("/api/lv/mark?payload=xyz", alice_, jpeg, "image/jpeg")->status, 400);
  EXPECT_EQ(post("/api/lv/mark?label=AI&no-label", alice_, jpeg, "image/jpeg")->status, 400);

  // Over the limit: refused from the headers, before the body is read.
  testing::RawConn conn(port_);
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(conn.send("POST /api/lv/mark HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice_ +
                        "\r\nContent-Type: image/jpeg\r\nContent-Length: 40000000\r\n\r\n"));
  EXPECT_EQ(testing::status_of(conn.read_until_close(5000)), 413);

  EXPECT_EQ(issued_payloads(), 0);
  for (auto& e : audit_entries("content.mark")) EXPECT_EQ(e["outcome"], "denied") << e.dump();
  expect_chain_verifies();
}

TEST_P(HubHttpContentTest, AnOrganizationsOwnImageKeyMarksWhatOnlyTheHubFinds) {
  EXPECT_EQ(post("/api/lv/orgs/acme/image-watermark-key", alice_, json::object())->status, 403);
  EXPECT_EQ(post("/api/lv/orgs/acme/image-watermark-key", bob_, json::object())->status, 404);
  auto made = post("/api/lv/orgs/acme/image-watermark-key", kAdmin, json::object());
  ok(made);
  EXPECT_TRUE(json::parse(made->body)["created"].get<bool>());
  EXPECT_FALSE(json::parse(post("/api/lv/orgs/acme/image-watermark-key", kAdmin, json::object())->body)["created"].get<bool>());

  auto marked = post("/api/lv/mark?repo=acme/gen&no-label", alice_, test_jpeg(), "image/jpeg");
  ok(marked);
  auto with_key = post("/api/lv/detect?repo=acme/gen", alice_, marked->body, "image/jpeg");
  ok(with_key);
  EXPECT_TRUE(json::parse(with_key->body)["watermark"]["found"].get<bool>()) << with_key->body;
  EXPECT_EQ(json::parse(with_key->body)["issued"]["by"], "alice");
  // The default key does not find it (the metadata still names the payload).
  auto without = post("/api/lv/detect", alice_, marked->body, "image/jpeg");
  ok(without);
  EXPECT_FALSE(json::parse(without->body)["watermark"]["found"].get<bool>()) << without->body;
  EXPECT_EQ(audit_entries("org.image_watermark_key").size(), 4u);
  expect_chain_verifies();
}

TEST_P(HubHttpContentTest, TextGeneratedWithTheOrgKeyIsDetectedThroughTheHub) {
  // The key: for acme's administrators only, the same on every fetch.
  EXPECT_EQ(get("/api/lv/orgs/acme/watermark-key", bob_)->status, 404);
  EXPECT_EQ(get("/api/lv/orgs/acme/watermark-key", alice_)->status, 403);
  EXPECT_EQ(get("/api/lv/orgs/nowhere/watermark-key", kAdmin)->status, 404);
  auto key = get("/api/lv/orgs/acme/watermark-key", kAdmin);
  ok(key);
  ASSERT_EQ(key->body.size(), 64u);
  EXPECT_EQ(get("/api/lv/orgs/acme/watermark-key", kAdmin)->body, key->body);
  auto fetches = audit_entries("org.watermark_key");
  ASSERT_GE(fetches.size(), 5u);
  EXPECT_TRUE(fetches[3]["details"]["created"].get<bool>());
  EXPECT_FALSE(fetches[4]["details"]["created"].get<bool>());
  // Stored sealed, not as the key.
  auto stored = server_->catalog().sql().exec("SELECT sealed FROM org_keys");
  ASSERT_TRUE(stored.ok() && stored->rows.size() == 1);
  EXPECT_EQ(stored->rows[0][0]->find(key->body), std::string::npos);

  // The model that writes the text, in an acme repository.
  const fs::path work = dir_ / "work";
  fs::create_directories(work);
  std::string model = kShared + "/stories260K/stories260K.bin", tok = kShared + "/stories260K/tok512.bin";
  if (!fs::exists(model)) {
    model = (work / "synth.bin").string();
    tok = (work / "tok.bin").string();
    Completed c = run_lightvault({"synth", "--dim", "32", "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2",
                                  "--vocab", "512", "--ctx", "256", "-o", model, "--tokenizer-out", tok});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  ok(post("/api/repos/create", kAdmin, json{{"name", "stories"}, {"organization", "acme"}}));
  ok(post("/api/lv/models/acme/stories/grants", kAdmin, json{{"subject", "user:alice"}, {"role", "read"}}));
  commit("acme/stories", {{"model.bin", mark::test_images::read_bytes(model)}, {"tok512.bin", mark::test_images::read_bytes(tok)}});

  const std::string key_file = (work / "acme.key").string();
  std::ofstream(key_file, std::ios::binary) << key->body;
  // The organization's key is random, and z grows with the square root of the tokens scored:
  // one story of up to 512 tokens scores about 200 and gave z under 4 for 1 of 40 random keys
  // (3.8); three stories gave 7.8 or more for all 40.
  auto generate = [&](bool with_key) {
    std::string text;
    for (const char* seed : {"7", "8", "9"}) {
      std::vector<std::string> args = {"run", model, "--tokenizer", tok, "-p", "Once upon a time", "-n", "512", "--temp", "0.8",
                                       "--seed", seed};
      if (with_key) args.insert(args.end(), {"--watermark-key", key_file});
      Completed c = run_lightvault(args);
      EXPECT_EQ(c.exit_code, 0) << c.err;
      text += c.out + "\n";
    }
    return text;
  };
  const std::string marked = generate(true), plain = generate(false);

  auto found = post("/api/lv/detect?repo=acme/stories", alice_, marked, "text/plain; charset=utf-8");
  ok(found);
  json t = json::parse(found->body)["text_watermark"];
  EXPECT_GE(t["z"].get<double>(), 4.0) << found->body;
  EXPECT_TRUE(t["found"].get<bool>());
  EXPECT_GT(t["tokens"].get<int64_t>(), 100);
  auto not_found = post("/api/lv/detect?repo=acme/stories", alice_, plain, "text/plain");
  ok(not_found);
  EXPECT_LT(json::parse(not_found->body)["text_watermark"]["z"].get<double>(), 4.0) << not_found->body;

  // Text needs a readable organization repository with a tokenizer.
  EXPECT_EQ(post("/api/lv/detect?repo=acme/stories", bob_, marked, "text/plain")->status, 404);
  EXPECT_EQ(post("/api/lv/detect", alice_, marked, "text/plain")->status, 400);
  auto no_tokenizer = post("/api/lv/detect?repo=acme/gen", alice_, marked, "text/plain");
  ASSERT_TRUE(no_tokenizer);
  EXPECT_EQ(no_tokenizer->status, 400);
  EXPECT_NE(no_tokenizer->body.find("no commit"), std::string::npos) << no_tokenizer->body;
  ok(post("/api/repos/create", bob_, json{{"name", "mine"}}));
  EXPECT_EQ(post("/api/lv/detect?repo=bob/mine", bob_, marked, "text/plain")->status, 400);
  EXPECT_EQ(post("/api/lv/detect?repo=acme/stories&watermark-gamma=2", alice_, marked, "text/plain")->status, 400);
  EXPECT_EQ(post("/api/lv/detect?repo=acme/stories", alice_, std::string("caf\xc3", 4), "text/plain")->status, 400);

  auto detects = audit_entries("content.detect");
  ASSERT_GE(detects.size(), 2u);
  EXPECT_EQ(detects[0]["details"]["kind"], "text");
  EXPECT_EQ(detects[0]["details"]["input_sha256"], crypto::sha256_hex(marked));
  EXPECT_TRUE(detects[0]["details"]["found"].get<bool>());
  expect_chain_verifies();
}

INSTANTIATE_TEST_SUITE_P(Backends, HubHttpContentTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// A hub started without the engine's tokenizers says that it cannot check text, and still
// checks images.
class HubHttpContentWithoutEngineTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_http_content_noengine_");
    start_server(testing::test_server_options((dir_ / "data").string(), kAdmin));
  }
};

TEST_F(HubHttpContentWithoutEngineTest, TextDetectionAnswers501) {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(60, 0);  // image work under the sanitizers
  httplib::Headers h{{"Authorization", "Bearer " + kAdmin}};
  ASSERT_EQ(c.Post("/api/lv/orgs", h, R"({"name":"acme"})", "application/json")->status, 200);
  ASSERT_EQ(c.Post("/api/repos/create", h, R"({"name":"m","organization":"acme"})", "application/json")->status, 200);
  auto text = c.Post("/api/lv/detect?repo=acme/m", h, "Once upon a time", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 501);
  EXPECT_NE(text->body.find("tokenizers"), std::string::npos) << text->body;
  auto image = c.Post("/api/lv/detect", h, test_jpeg(), "image/jpeg");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 200) << image->body;
}

}  // namespace
}  // namespace lv::hub
