// Hostile clients against the repository routes, over real HTTP on loopback: every route that
// takes a sha256 (upload's ?sha256=, commit's add[].sha256) tried as a way into another
// repository of the same owner; refs shaped like commit ids; audit details the verifier could
// not read; a deleted chain head; `pull` from a server that lists a .git file.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <sstream>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/http/http_server.h"
#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/client/hub_client.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kAdmin = "lvt_test_admin_token_data_0123456789";

class HubHttpDataTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_http_data_");
    start_server(testing::test_server_options((dir_ / "data").string(), kAdmin));
  }
  httplib::Result post(const std::string& path, const std::string& token, const std::string& body,
                       const std::string& type = "application/json") {
    httplib::Client c("127.0.0.1", port_);
    return c.Post(path, {{"Authorization", "Bearer " + token}}, body, type);
  }
  httplib::Result post(const std::string& path, const std::string& token, const json& body) {
    return post(path, token, body.dump());
  }
  httplib::Result get(const std::string& path, const std::string& token) {
    httplib::Client c("127.0.0.1", port_);
    return c.Get(path, {{"Authorization", "Bearer " + token}});
  }
  void ok(const httplib::Result& r) { ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no response"); }
  std::string user(const std::string& name) {
    ok(post("/api/lv/users", kAdmin, json{{"name", name}}));
    auto t = post("/api/lv/tokens", kAdmin, json{{"user", name}, {"name", "t"}, {"scopes", "write"}});
    return json::parse(t->body)["token"].get<std::string>();
  }
  std::string commit_file(const std::string& repo, const std::string& token, const std::string& path, const std::string& content) {
    ok(post("/api/lv/models/" + repo + "/upload", token, content, "application/octet-stream"));
    auto c = post("/api/lv/models/" + repo + "/commit/main", token,
                  json{{"add", {{{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}}}}});
    EXPECT_TRUE(c && c->status == 200) << (c ? c->body : "no response");
    return c && c->status == 200 ? json::parse(c->body)["commit"].get<std::string>() : "";
  }
  // The error of an answer, with `sha` written as SHA: what one attempt tells apart from another.
  static std::string said(const httplib::Result& r, const std::string& sha) {
    std::string e = r ? std::to_string(r->status) + " " + json::parse(r->body, nullptr, false).value("error", r->body) : "none";
    for (size_t p; (p = e.find(sha)) != std::string::npos;) e.replace(p, sha.size(), "SHA");
    return e;
  }
};

// The service's error codes as statuses: a taken name and a moved branch are 409, a bad name
// 400, a repository the caller may not see 404 like a missing one, one it may only read 403.
TEST_F(HubHttpDataTest, ErrorCodesMapToStatuses) {
  ok(post("/api/repos/create", kAdmin, json{{"name", "m"}}));
  EXPECT_EQ(post("/api/repos/create", kAdmin, json{{"name", "m"}})->status, 409);
  EXPECT_EQ(post("/api/repos/create", kAdmin, json{{"name", "bad name"}})->status, 400);
  std::string alice = user("alice");
  EXPECT_EQ(post("/api/lv/users", kAdmin, json{{"name", "alice"}})->status, 409);
  EXPECT_EQ(post("/api/lv/orgs", kAdmin, json{{"name", "alice"}})->status, 409);  // one namespace
  EXPECT_EQ(post("/api/lv/orgs", kAdmin, json{{"name", "bad/org"}})->status, 400);

  std::string first = commit_file("admin/m", kAdmin, "a.txt", "one");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(commit_file("admin/m", kAdmin, "b.txt", "two").empty());
  auto stale = post("/api/lv/models/admin/m/commit/main", kAdmin, json{{"parent", first}, {"delete", {"a.txt"}}});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 409) << stale->body;
  EXPECT_EQ(post("/api/lv/models/admin/m/commit/main", kAdmin, json{{"delete", {"nothing.txt"}}})->status, 400);

  auto hidden = get("/api/models/admin/m", alice);
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 404);
  EXPECT_EQ(hidden->get_header_value("X-Error-Code"), "RepoNotFound");
  EXPECT_EQ(get("/api/models/admin/none", alice)->status, 404);
  ok(post("/api/lv/models/admin/m/grants", kAdmin, json{{"subject", "user:alice"}, {"role", "read"}}));
  ok(get("/api/models/admin/m", alice));
  auto forbidden = post("/api/lv/models/admin/m/tags", alice, json{{"tag", "v1"}});
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_EQ(forbidden->get_header_value("X-Error-Code"), "Forbidden");
  EXPECT_EQ(get("/api/models", "")->status, 401);

  // The listing: search narrows it, limit cuts it, a bad limit is refused.
  ok(post("/api/repos/create", kAdmin, json{{"name", "other"}}));
  auto all = get("/api/models", kAdmin);
  ok(all);
  EXPECT_EQ(json::parse(all->body).size(), 2u);
  auto searched = get("/api/models?search=OTH", kAdmin);
  ok(searched);
  ASSERT_EQ(json::parse(searched->body).size(), 1u);
  EXPECT_EQ(json::parse(searched->body)[0]["id"], "admin/other");
  EXPECT_EQ(json::parse(get("/api/models?limit=1", kAdmin)->body).size(), 1u);
  EXPECT_EQ(get("/api/models?limit=x", kAdmin)->status, 400);
}

TEST_F(HubHttpDataTest, NoRouteThatTakesASha256ReachesAnotherRepositorysBlob) {
  ok(post("/api/lv/orgs", kAdmin, json{{"name", "acme"}}));
  for (const char* name : {"secret", "shared"}) ok(post("/api/repos/create", kAdmin, json{{"name", name}, {"organization", "acme"}}));
  std::string alice = user("alice");
  ok(post("/api/lv/models/acme/shared/grants", kAdmin, json{{"subject", "user:alice"}, {"role", "write"}}));
  const std::string secret = "the launch codes", sha = crypto::sha256_hex(secret);
  const std::string nowhere = crypto::sha256_hex("bytes nobody uploaded");
  ASSERT_FALSE(commit_file("acme/secret", kAdmin, "codes.txt", secret).empty());
  EXPECT_EQ(get("/acme/secret/resolve/main/codes.txt", alice)->status, 404);

  // commit: add[].sha256, with the right size and a wrong one
  for (uint64_t size : {secret.size(), secret.size() + 1}) {
    auto theft = post("/api/lv/models/acme/shared/commit/main", alice,
                      json{{"add", {{{"path", "stolen.txt"}, {"sha256", sha}, {"size", size}}}}});
    auto control = post("/api/lv/models/acme/shared/commit/main", alice,
                        json{{"add", {{{"path", "stolen.txt"}, {"sha256", nowhere}, {"size", size}}}}});
    ASSERT_TRUE(theft);
    EXPECT_EQ(theft->status, 400) << theft->body;
    EXPECT_EQ(said(theft, sha), said(control, nowhere));
    EXPECT_EQ(theft->body.find(std::to_string(secret.size())), std::string::npos) << theft->body;
  }
  // upload: ?sha256= of the secret with other bytes, then with none
  for (const std::string& body : {std::string("guess"), std::string()}) {
    auto theft = post("/api/lv/models/acme/shared/upload?sha256=" + sha + "&size=" + std::to_string(secret.size()), alice, body,
                      "application/octet-stream");
    auto control = post("/api/lv/models/acme/shared/upload?sha256=" + nowhere + "&size=" + std::to_string(secret.size()), alice,
                        body, "application/octet-stream");
    ASSERT_TRUE(theft);
    EXPECT_EQ(theft->status, 400) << theft->body;
    EXPECT_EQ(said(theft, sha), said(control, nowhere));
  }
  EXPECT_EQ(get("/acme/shared/resolve/main/stolen.txt", alice)->status, 404);
  EXPECT_EQ(get("/api/models/acme/shared", alice)->status, 200);
  // Whoever holds the bytes may store them, but is not told that acme has them already.
  auto again = post("/api/lv/models/acme/shared/upload", alice, secret, "application/octet-stream");
  ASSERT_TRUE(again && again->status == 200) << (again ? again->body : "");
  EXPECT_FALSE(json::parse(again->body)["deduplicated"].get<bool>());
  auto twice = post("/api/lv/models/acme/shared/upload", alice, secret, "application/octet-stream");
  EXPECT_TRUE(json::parse(twice->body)["deduplicated"].get<bool>());  // her own upload, here
  // push and pull through the client still work as before
  auto client = HubClient::connect("http://127.0.0.1:" + std::to_string(port_), alice).value();
  fs::create_directories(dir_ / "model");
  std::ofstream(dir_ / "model" / "w.bin") << "weights";
  auto pushed = push_directory(*client, (dir_ / "model").string(), "acme/shared", "m", nullptr);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  auto pulled = pull_repository(*client, "acme/shared", "main", (dir_ / "out").string(), nullptr);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message;
  EXPECT_EQ(pulled->files, 1);
}

TEST_F(HubHttpDataTest, TagsShapedLikeCommitIdsAreRefusedAndPinnedIdsStayPinned) {
  std::string alice = user("alice");
  ok(post("/api/repos/create", alice, json{{"name", "m"}}));
  std::string c1 = commit_file("alice/m", alice, "a.txt", "first");
  std::string c2 = commit_file("alice/m", alice, "b.txt", "second");
  auto tag = post("/api/lv/models/alice/m/tags", alice, json{{"tag", c1}, {"revision", c2}});
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->status, 400) << tag->body;
  auto branch = post("/api/lv/models/alice/m/commit/" + c1, alice, json{{"add", json::array()}});
  EXPECT_EQ(branch->status, 400) << branch->body;
  auto info = json::parse(get("/api/models/alice/m/revision/" + c1, alice)->body);
  EXPECT_EQ(info["sha"], c1);
  EXPECT_EQ(info["siblings"].size(), 1u);
}

TEST_F(HubHttpDataTest, AuditDetailsTheVerifierCouldNotReadAreRefusedAndTheChainStaysVerifiable) {
  std::string alice = user("alice");
  ok(post("/api/repos/create", alice, json{{"name", "m"}}));
  std::string deep = "\"x\"";
  for (int i = 0; i < 80; ++i) deep = "[" + deep + "]";
  auto nested = post("/api/lv/models/alice/m/events", alice,
                     "{\"action\":\"model.deploy\",\"details\":{\"target\":\"prod\",\"n\":" + deep + "}}");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->status, 400) << nested->body;
  auto big = post("/api/lv/models/alice/m/events", alice,
                  json{{"action", "model.deploy"}, {"details", {{"target", "prod"}, {"blob", std::string(300 * 1024, 'a')}}}});
  EXPECT_EQ(big->status, 400) << big->body;
  ok(post("/api/lv/models/alice/m/events", alice, json{{"action", "model.deploy"}, {"details", {{"target", "prod"}}}}));
  auto v = post("/api/lv/audit/verify", kAdmin, json::object());
  ASSERT_TRUE(v && v->status == 200);
  EXPECT_TRUE(json::parse(v->body)["ok"].get<bool>()) << v->body;
}

TEST_F(HubHttpDataTest, DeletedNewestEntriesAndAShortExportAreCaught) {
  std::string alice = user("alice");
  ok(post("/api/repos/create", alice, json{{"name", "m"}}));
  auto exported = get("/api/lv/audit/export", kAdmin);
  ASSERT_TRUE(exported && exported->status == 200);
  auto key = load_audit_key((dir_ / "data").string(), false).value();
  VerifyOptions o;
  o.require_signed_head = true;
  std::istringstream whole(exported->body);
  auto full = verify_audit_export(key, whole, o);
  EXPECT_TRUE(full.ok) << full.message << "\n" << exported->body;
  std::string body = exported->body;
  body.erase(body.rfind('\n', body.size() - 2) + 1);  // without its signed head
  body.erase(body.rfind('\n', body.size() - 2) + 1);  // and its newest entry
  std::istringstream cut(body);
  auto r = verify_audit_export(key, cut, o);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, AuditProblem::kTruncated) << r.message;

  int64_t last = server_->audit().store().last().value()->seq;
  ASSERT_TRUE(server_->catalog().sql().exec("DELETE FROM audit WHERE seq > ?1", {last - 3}).ok());
  auto v = post("/api/lv/audit/verify", kAdmin, json::object());
  ASSERT_TRUE(v && v->status == 200);
  auto j = json::parse(v->body);
  EXPECT_FALSE(j["ok"].get<bool>()) << v->body;
  EXPECT_EQ(j["problem"], "truncated") << v->body;
}

TEST_F(HubHttpDataTest, PullRefusesAGitPathAServerListsAndWritesNothing) {
  std::string alice = user("alice");
  ok(post("/api/repos/create", alice, json{{"name", "m"}}));
  std::string c = commit_file("alice/m", alice, "a.txt", "[core]\n\tfsmonitor = touch /tmp/pwned\n");
  // The server refuses such names at commit; a catalog written otherwise (an older version, a
  // hostile server) is what pull must not trust.
  auto refused = post("/api/lv/models/alice/m/commit/main", alice,
                      json{{"add", {{{"path", ".GIT/config"}, {"sha256", crypto::sha256_hex("x")}, {"size", 1}}}}});
  EXPECT_EQ(refused->status, 400) << refused->body;
  ASSERT_TRUE(server_->catalog().sql().exec("UPDATE commit_files SET path = '.git/config' WHERE commit_id = ?1", {c}).ok());
  auto client = HubClient::connect("http://127.0.0.1:" + std::to_string(port_), alice).value();
  fs::path out = dir_ / "checkout";
  auto pulled = pull_repository(*client, "alice/m", "main", out.string(), nullptr);
  ASSERT_FALSE(pulled.ok());
  EXPECT_NE(pulled.error().message.find("unsafe file name"), std::string::npos) << pulled.error().message;
  EXPECT_FALSE(fs::exists(out / ".git"));
}

TEST_F(HubHttpDataTest, TheDataFolderIsPrivate) {
  std::string alice = user("alice");
  ok(post("/api/repos/create", alice, json{{"name", "m"}}));
  commit_file("alice/m", alice, "a.txt", "weights");
  for (auto& e : fs::recursive_directory_iterator(dir_ / "data")) {
    auto perms = fs::status(e.path()).permissions();
    auto others = perms & (fs::perms::group_all | fs::perms::others_all);
    EXPECT_EQ(others, fs::perms::none) << e.path();
  }
  EXPECT_EQ(fs::status(dir_ / "data").permissions() & fs::perms::all, fs::perms::owner_all);
}

}  // namespace
}  // namespace lv::hub
