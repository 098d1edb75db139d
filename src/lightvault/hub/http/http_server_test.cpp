// The hub over real HTTP on loopback: the server runs in-process on a free port; requests go
// through httplib's client. Covers the HF-compatible download API, uploads and commits, the
// permission matrix through the API, bad requests and the audit trail they leave.
#include "lightvault/hub/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/http/http_server_impl.h"
#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/catalog/test_postgres.h"

namespace lv::hub {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kAdminToken = "lvt_test_admin_token_0123456789abcdef";

class HubHttpTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_http_");
    ServerOptions opt = testing::test_server_options(dir_.string(), kAdminToken);
    opt.segment_size = 4096;
    start_server(opt);
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }
  static httplib::Headers auth(const std::string& token) {
    return token.empty() ? httplib::Headers{} : httplib::Headers{{"Authorization", "Bearer " + token}};
  }
  httplib::Result get(const std::string& path, const std::string& token, httplib::Headers extra = {}) {
    auto h = auth(token);
    h.insert(extra.begin(), extra.end());
    return client().Get(path, h);
  }
  httplib::Result post(const std::string& path, const std::string& token, const json& body) {
    return client().Post(path, auth(token), body.dump(), "application/json");
  }
  // Creates a user and returns a token of it with the given scopes.
  std::string user(const std::string& name, const std::string& scopes = "admin") {
    auto r = post("/api/lv/users", kAdminToken, {{"name", name}});
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    auto t = post("/api/lv/tokens", kAdminToken, {{"user", name}, {"name", "test"}, {"scopes", scopes}});
    EXPECT_TRUE(t && t->status == 200) << (t ? t->body : "no response");
    return json::parse(t->body)["token"].get<std::string>();
  }
  // Uploads files and commits them to main; returns the commit id.
  std::string push(const std::string& repo, const std::string& token, const std::map<std::string, std::string>& files) {
    json add = json::array();
    for (auto& [path, content] : files) {
      auto r = client().Post("/api/lv/models/" + repo + "/upload", auth(token), content, "application/octet-stream");
      EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
      if (!r || r->status != 200) return "";
      add.push_back({{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}});
    }
    auto c = post("/api/lv/models/" + repo + "/commit/main", token, {{"message", "test"}, {"add", add}});
    EXPECT_TRUE(c && c->status == 200) << (c ? c->body : "no response");
    return c && c->status == 200 ? json::parse(c->body)["commit"].get<std::string>() : "";
  }
  std::vector<json> audit_entries() {
    std::vector<json> out;
    auto r = get("/api/lv/audit/export", kAdminToken);
    EXPECT_TRUE(r && r->status == 200);
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("{\"head\":", 0) != 0) out.push_back(json::parse(line));  // not the signed head
    }
    return out;
  }
  int64_t count_rows(const std::string& table) {
    auto r = server_->catalog().sql().exec("SELECT COUNT(*) FROM " + table);
    return std::stoll(*r->rows[0][0]);
  }
};

using testing::RawConn;
using testing::status_of;

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(HubHttpTest, UploadDownloadRoundTripWithHfHeadersAndRanges) {
  std::string alice = user("alice");
  auto created = post("/api/repos/create", alice, {{"name", "tiny"}});
  ASSERT_TRUE(created && created->status == 200) << created->body;
  std::string weights = random_bytes(100000, 1);
  std::string card = "---\nlicense: mit\nbase_model: acme/base\ndatasets: [wiki]\ntraining_data:\n  sources:\n    - corpus-a\n  cleaning: dedup\n---\n# Tiny\n";
  std::string commit = push("alice/tiny", alice, {{"model.bin", weights}, {"sub/dir/config.json", "{\"a\":1}"}, {"README.md", card}});
  ASSERT_EQ(commit.size(), 40u);

  // model info
  auto info = get("/api/models/alice/tiny?blobs=true", alice);
  ASSERT_TRUE(info && info->status == 200) << info->body;
  json j = json::parse(info->body);
  EXPECT_EQ(j["id"], "alice/tiny");
  EXPECT_EQ(j["sha"], commit);
  EXPECT_EQ(j["private"], true);
  EXPECT_EQ(j["cardData"]["license"], "mit");
  EXPECT_EQ(j["cardData"]["training_data"]["sources"][0], "corpus-a");
  ASSERT_EQ(j["siblings"].size(), 3u);
  bool saw = false;
  for (auto& s : j["siblings"]) {
    if (s["rfilename"] == "model.bin") {
      saw = true;
      EXPECT_EQ(s["size"], weights.size());
      EXPECT_EQ(s["lfs"]["sha256"], crypto::sha256_hex(weights));
    }
  }
  EXPECT_TRUE(saw);
  auto rev = get("/api/models/alice/tiny/revision/" + commit, alice);
  ASSERT_TRUE(rev && rev->status == 200);
  auto bad_rev = get("/api/models/alice/tiny/revision/nope", alice);
  EXPECT_EQ(bad_rev->status, 404);
  EXPECT_EQ(bad_rev->get_header_value("X-Error-Code"), "RevisionNotFound");
  auto tree = get("/api/models/alice/tiny/tree/main?recursive=true", alice);
  ASSERT_TRUE(tree && tree->status == 200);
  EXPECT_EQ(json::parse(tree->body).size(), 5u);  // 3 files + sub + sub/dir
  auto top = get("/api/models/alice/tiny/tree/main", alice);
  EXPECT_EQ(json::parse(top->body).size(), 3u);  // README.md, model.bin, sub

  // full download
  auto dl = get("/alice/tiny/resolve/main/model.bin", alice);
  ASSERT_TRUE(dl && dl->status == 200) << dl->body;
  EXPECT_EQ(dl->body, weights);
  EXPECT_EQ(dl->get_header_value("ETag"), "\"" + crypto::sha256_hex(weights) + "\"");
  EXPECT_EQ(dl->get_header_value("X-Linked-Etag"), "\"" + crypto::sha256_hex(weights) + "\"");
  EXPECT_EQ(dl->get_header_value("X-Linked-Size"), std::to_string(weights.size()));
  EXPECT_EQ(dl->get_header_value("X-Repo-Commit"), commit);
  EXPECT_EQ(dl->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_FALSE(dl->get_header_value("X-Request-Id").empty());
  for (auto& [k, v] : dl->headers) EXPECT_EQ(k.rfind("X-Xet", 0), std::string::npos) << k;
  auto nested = get("/alice/tiny/resolve/" + commit + "/sub/dir/config.json", alice);
  ASSERT_TRUE(nested && nested->status == 200);
  EXPECT_EQ(nested->body, "{\"a\":1}");

  // HEAD: headers, no body
  auto head = client().Head("/alice/tiny/resolve/main/model.bin", auth(alice));
  ASSERT_TRUE(head && head->status == 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(weights.size()));
  EXPECT_TRUE(head->body.empty());

  // ranges
  auto r1 = get("/alice/tiny/resolve/main/model.bin", alice, {{"Range", "bytes=5000-70000"}});
  ASSERT_TRUE(r1 && r1->status == 206) << r1->body;
  EXPECT_EQ(r1->body, weights.substr(5000, 65001));
  EXPECT_EQ(r1->get_header_value("Content-Range"), "bytes 5000-70000/100000");
  auto r2 = get("/alice/tiny/resolve/main/model.bin", alice, {{"Range", "bytes=-10"}});
  ASSERT_TRUE(r2 && r2->status == 206);
  EXPECT_EQ(r2->body, weights.substr(weights.size() - 10));
  auto r3 = get("/alice/tiny/resolve/main/model.bin", alice, {{"Range", "bytes=99990-"}});
  EXPECT_EQ(r3->body, weights.substr(99990));
  auto r4 = get("/alice/tiny/resolve/main/model.bin", alice, {{"Range", "bytes=0-0"}});
  EXPECT_EQ(r4->get_header_value("Content-Range"), "bytes 0-0/100000");
  auto past = get("/alice/tiny/resolve/main/model.bin", alice, {{"Range", "bytes=100000-"}});
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 416);
  EXPECT_EQ(past->get_header_value("Content-Range"), "bytes */100000");
  EXPECT_TRUE(json::parse(past->body).contains("error"));

  // missing file
  auto missing = get("/alice/tiny/resolve/main/nope.bin", alice);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("X-Error-Code"), "EntryNotFound");
  EXPECT_TRUE(json::parse(missing->body).contains("error"));

  // no byte sequence of the upload lies anywhere under the data folder
  std::string needle = weights.substr(40000, 32);
  for (auto& e : fs::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(f)), {});
    EXPECT_EQ(content.find(needle), std::string::npos) << e.path();
    EXPECT_EQ(content.find("corpus-a"), std::string::npos) << e.path();
  }

  // whoami
  auto who = get("/api/whoami-v2", alice);
  ASSERT_TRUE(who && who->status == 200);
  EXPECT_EQ(json::parse(who->body)["name"], "alice");

  // an upload with a wrong declared sha256 stores nothing
  size_t blobs_before = count_rows("blobs");
  auto wrong = client().Post("/api/lv/models/alice/tiny/upload?sha256=" + std::string(64, 'a'), auth(alice), "xyz",
                             "application/octet-stream");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(count_rows("blobs"), static_cast<int64_t>(blobs_before));
  // a commit naming a blob never uploaded is refused
  auto ghost = post("/api/lv/models/alice/tiny/commit/main", alice,
                    {{"add", {{{"path", "ghost.bin"}, {"sha256", std::string(64, 'b')}, {"size", 3}}}}});
  EXPECT_EQ(ghost->status, 400);

  // audit trail: uploads, downloads, repo creation; the chain verifies
  auto entries = audit_entries();
  std::set<std::string> actions;
  for (auto& e : entries) actions.insert(e["action"].get<std::string>());
  for (const char* a : {"repo.create", "blob.upload", "model.upload", "model.download", "token.create", "user.create"}) {
    EXPECT_TRUE(actions.count(a)) << a;
  }
  auto verify = client().Post("/api/lv/audit/verify", auth(kAdminToken), "", "application/json");
  ASSERT_TRUE(verify && verify->status == 200);
  EXPECT_EQ(json::parse(verify->body)["ok"], true) << verify->body;
}

// The permission matrix through the API: org roles x repo grants (user and team) x actions on
// personal and organization repositories, private and internal; allowed and denied.
TEST_F(HubHttpTest, PermissionMatrixOverHttp) {
  std::map<std::string, std::string> tok;
  for (const char* u : {"alice", "oowner", "oadmin", "omember", "outsider", "gread", "gwrite", "gadmin", "tmember"}) tok[u] = user(u);
  ASSERT_EQ(post("/api/lv/orgs", tok["oowner"], {{"name", "acme"}})->status, 200);
  ASSERT_EQ(post("/api/lv/orgs/acme/members", tok["oowner"], {{"user", "oadmin"}, {"role", "admin"}})->status, 200);
  for (const char* m : {"omember", "tmember"}) ASSERT_EQ(post("/api/lv/orgs/acme/members", tok["oadmin"], {{"user", m}, {"role", "member"}})->status, 200);
  ASSERT_EQ(post("/api/lv/orgs/acme/teams", tok["oadmin"], {{"name", "ml"}})->status, 200);
  ASSERT_EQ(post("/api/lv/orgs/acme/teams/ml/members", tok["oadmin"], {{"user", "tmember"}})->status, 200);

  struct RepoCase {
    std::string id, owner_token;
    bool org;
    Visibility vis;
  };
  std::vector<RepoCase> repos = {{"acme/priv", tok["oowner"], true, Visibility::kPrivate},
                                 {"acme/int", tok["oowner"], true, Visibility::kInternal},
                                 {"alice/priv", tok["alice"], false, Visibility::kPrivate},
                                 {"alice/int", tok["alice"], false, Visibility::kInternal}};
  for (auto& r : repos) {
    auto slash = r.id.find('/');
    json body{{"name", r.id.substr(slash + 1)}, {"visibility", std::string(to_string(r.vis))}};
    if (r.org) body["organization"] = "acme";
    ASSERT_EQ(post("/api/repos/create", r.owner_token, body)->status, 200) << r.id;
    ASSERT_FALSE(push(r.id, r.owner_token, {{"w.bin", "weights of " + r.id}}).empty());
    for (auto [who, role] : std::vector<std::pair<std::string, std::string>>{{"user:gread", "read"}, {"user:gwrite", "write"}, {"user:gadmin", "admin"}, {"team:acme/ml", "write"}}) {
      auto g = post("/api/lv/models/" + r.id + "/grants", r.owner_token, {{"subject", who}, {"role", role}});
      ASSERT_EQ(g->status, 200) << g->body;
    }
  }

  // Expected roles, written out: caller -> (repo -> role).
  using R = RepoRole;
  std::map<std::string, std::map<std::string, R>> expected = {
      {"alice", {{"acme/priv", R::kNone}, {"acme/int", R::kNone}, {"alice/priv", R::kAdmin}, {"alice/int", R::kAdmin}}},
      {"oowner", {{"acme/priv", R::kAdmin}, {"acme/int", R::kAdmin}, {"alice/priv", R::kNone}, {"alice/int", R::kRead}}},
      {"oadmin", {{"acme/priv", R::kAdmin}, {"acme/int", R::kAdmin}, {"alice/priv", R::kNone}, {"alice/int", R::kRead}}},
      {"omember", {{"acme/priv", R::kNone}, {"acme/int", R::kRead}, {"alice/priv", R::kNone}, {"alice/int", R::kRead}}},
      {"outsider", {{"acme/priv", R::kNone}, {"acme/int", R::kNone}, {"alice/priv", R::kNone}, {"alice/int", R::kRead}}},
      {"gread", {{"acme/priv", R::kRead}, {"acme/int", R::kRead}, {"alice/priv", R::kRead}, {"alice/int", R::kRead}}},
      {"gwrite", {{"acme/priv", R::kWrite}, {"acme/int", R::kWrite}, {"alice/priv", R::kWrite}, {"alice/int", R::kWrite}}},
      {"gadmin", {{"acme/priv", R::kAdmin}, {"acme/int", R::kAdmin}, {"alice/priv", R::kAdmin}, {"alice/int", R::kAdmin}}},
      {"tmember", {{"acme/priv", R::kWrite}, {"acme/int", R::kWrite}, {"alice/priv", R::kWrite}, {"alice/int", R::kWrite}}},
      {"", {{"acme/priv", R::kNone}, {"acme/int", R::kNone}, {"alice/priv", R::kNone}, {"alice/int", R::kNone}}},
  };
  int checked = 0, tag = 0;
  for (auto& [caller, per_repo] : expected) {
    std::string token = caller.empty() ? "" : tok[caller];
    for (auto& [repo, role] : per_repo) {
      // read: model info and a download
      int want_read = role >= R::kRead ? 200 : caller.empty() ? 401 : 404;
      auto info = get("/api/models/" + repo, token);
      EXPECT_EQ(info->status, want_read) << caller << " read " << repo << ": " << info->body;
      auto dl = get("/" + repo + "/resolve/main/w.bin", token);
      EXPECT_EQ(dl->status, want_read) << caller << " download " << repo;
      if (want_read == 200) {
        EXPECT_EQ(dl->body, "weights of " + repo);
      }
      // write: create a tag
      int want_write = role >= R::kWrite ? 200 : role >= R::kRead ? 403 : caller.empty() ? 401 : 404;
      auto w = post("/api/lv/models/" + repo + "/tags", token, {{"tag", "t" + std::to_string(++tag)}, {"revision", "main"}});
      EXPECT_EQ(w->status, want_write) << caller << " write " << repo << ": " << w->body;
      // admin: list grants
      int want_admin = role >= R::kAdmin ? 200 : role >= R::kRead ? 403 : caller.empty() ? 401 : 404;
      auto a = get("/api/lv/models/" + repo + "/grants", token);
      EXPECT_EQ(a->status, want_admin) << caller << " admin " << repo << ": " << a->body;
      for (auto* r : {&info, &dl, &w, &a}) {
        if ((*r)->status >= 400) {
          EXPECT_TRUE(json::parse((*r)->body).contains("error"));
        }
      }
      checked += 4;
    }
  }
  EXPECT_EQ(checked, 10 * 4 * 4);

  // A read-scoped token caps even the owner.
  auto ro = post("/api/lv/tokens", tok["alice"], {{"name", "ro"}, {"scopes", "read"}});
  std::string alice_ro = json::parse(ro->body)["token"];
  EXPECT_EQ(get("/api/models/alice/priv", alice_ro)->status, 200);
  EXPECT_EQ(post("/api/lv/models/alice/priv/tags", alice_ro, {{"tag", "ro"}, {"revision", "main"}})->status, 403);
  // ... and cannot mint a wider token.
  EXPECT_EQ(post("/api/lv/tokens", alice_ro, {{"name", "x"}, {"scopes", "write"}})->status, 403);
  // Org members cannot manage the org; admins cannot make owners.
  EXPECT_EQ(post("/api/lv/orgs/acme/members", tok["omember"], {{"user", "outsider"}})->status, 403);
  EXPECT_EQ(post("/api/lv/orgs/acme/members", tok["oadmin"], {{"user", "outsider"}, {"role", "owner"}})->status, 403);
  EXPECT_EQ(post("/api/lv/orgs/acme/members", tok["oowner"], {{"user", "outsider"}, {"role", "member"}})->status, 200);
  // Now a member: reads the internal org repo.
  EXPECT_EQ(get("/api/models/acme/int", tok["outsider"])->status, 200);
  // Non-admins cannot create users.
  EXPECT_EQ(post("/api/lv/users", tok["alice"], {{"name", "mallory"}})->status, 403);

  // Every denial is in the audit trail.
  auto entries = audit_entries();
  int denied = 0;
  for (auto& e : entries) denied += e["outcome"] == "denied";
  EXPECT_GT(denied, 60);
}

TEST_F(HubHttpTest, BadRequestsAreRefusedAuditedAndChangeNothing) {
  std::string alice = user("alice");
  std::string bob = user("bob");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  ASSERT_FALSE(push("alice/m", alice, {{"a.bin", "secret weights"}}).empty());
  auto before_audit = audit_entries().size();
  std::map<std::string, int64_t> before;
  for (const char* t : {"users", "repos", "commits", "refs", "blobs", "tokens", "grants"}) before[t] = count_rows(t);

  struct Case {
    std::string what;
    httplib::Result r;
    int status;
  };
  std::vector<Case> cases;
  cases.push_back({"dotdot", get("/alice/m/resolve/main/../../../etc/passwd", alice), 400});
  cases.push_back({"encoded dotdot", get("/alice/m/resolve/main/%2e%2e/%2e%2e/etc/passwd", alice), 400});
  cases.push_back({"encoded slash", get("/api/models/alice%2Fm", alice), 400});
  cases.push_back({"encoded slash in file", get("/alice/m/resolve/main/..%2Fa.bin", alice), 400});
  cases.push_back({"backslash", get("/alice/m/resolve/main/..%5Ca.bin", alice), 400});
  cases.push_back({"oversized header", get("/api/models/alice/m", alice, {{"X-Padding", std::string(20000, 'x')}}), 431});
  cases.push_back({"oversized headers", get("/api/models/alice/m", alice,
                                            {{"X-A", std::string(7000, 'x')}, {"X-B", std::string(7000, 'x')},
                                             {"X-C", std::string(7000, 'x')}}), 431});
  cases.push_back({"range past end", get("/alice/m/resolve/main/a.bin", alice, {{"Range", "bytes=1000-2000"}}), 416});
  cases.push_back({"other user's repo", get("/alice/m/resolve/main/a.bin", bob), 404});
  cases.push_back({"other user's write", post("/api/lv/models/alice/m/tags", bob, {{"tag", "x"}}), 404});
  cases.push_back({"garbage token", get("/api/models/alice/m", "lvt_not_a_real_token_000000"), 401});
  cases.push_back({"no token", get("/api/models/alice/m", ""), 401});
  // bob cannot revoke alice's token
  auto alice_tokens = json::parse(get("/api/lv/tokens", alice)->body);
  cases.push_back({"revoke other's token",
                   client().Delete("/api/lv/tokens/" + alice_tokens[0]["id"].get<std::string>(), auth(bob)), 404});
  // an expired token
  auto t = post("/api/lv/tokens", alice, {{"name", "short"}, {"scopes", "read"}, {"expires_in", 1}});
  std::string short_token = json::parse(t->body)["token"];
  ASSERT_TRUE(server_->catalog().sql().exec("UPDATE tokens SET expires_at = 1 WHERE name = 'short'").ok());
  before["tokens"] += 1;
  cases.push_back({"expired token", get("/api/models/alice/m", short_token), 401});
  cases.push_back({"unknown endpoint", get("/api/nothing/here", alice), 404});
  cases.push_back({"gc by a user", post("/api/lv/admin/gc", alice, {{"grace_seconds", 0}}), 403});
  cases.push_back({"gc with a negative grace", post("/api/lv/admin/gc", kAdminToken, {{"grace_seconds", -1}}), 400});
  cases.push_back({"gc with a grace of text", post("/api/lv/admin/gc", kAdminToken, {{"grace_seconds", "1h"}}), 400});
  cases.push_back({"gc with dry_run of text", post("/api/lv/admin/gc", kAdminToken, {{"dry_run", "yes"}}), 400});

  for (auto& c : cases) {
    ASSERT_TRUE(c.r) << c.what << ": no response";
    EXPECT_EQ(c.r->status, c.status) << c.what << ": " << c.r->body;
    auto body = json::parse(c.r->body, nullptr, false);
    EXPECT_TRUE(!body.is_discarded() && body.contains("error")) << c.what << ": " << c.r->body;
  }
  for (auto& [table, n] : before) EXPECT_EQ(count_rows(table), n) << table;
  auto after = audit_entries();
  // every refused request left a denied entry (the export itself adds one allowed entry each time)
  int denied = 0;
  for (size_t i = before_audit; i < after.size(); ++i) denied += after[i]["outcome"] == "denied";
  EXPECT_GE(denied, static_cast<int>(cases.size()));
  if (denied < static_cast<int>(cases.size())) {
    for (size_t i = before_audit; i < after.size(); ++i) std::cerr << after[i].dump() << "\n";
  }
  bool saw_expired = false;
  for (auto& e : after) saw_expired |= e["details"].value("reason", "") == "token expired";
  EXPECT_TRUE(saw_expired);
  // the download of alice's file still works
  EXPECT_EQ(get("/alice/m/resolve/main/a.bin", alice)->body, "secret weights");
}

TEST_F(HubHttpTest, LifecycleEventsRevocationAndAdminActions) {
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  EXPECT_EQ(post("/api/lv/models/alice/m/events", alice, {{"action", "model.finetune"}, {"details", {{"base_model", "meta/llama"}}}})->status, 200);
  EXPECT_EQ(post("/api/lv/models/alice/m/events", alice, {{"action", "model.deploy"}, {"details", {{"target", "prod-eu"}}}})->status, 200);
  EXPECT_EQ(post("/api/lv/models/alice/m/events", alice, {{"action", "model.deploy"}})->status, 400);
  EXPECT_EQ(post("/api/lv/models/alice/m/events", alice, {{"action", "rm -rf"}})->status, 400);
  auto t = post("/api/lv/tokens", alice, {{"name", "tmp"}, {"scopes", "read"}});
  json tj = json::parse(t->body);
  EXPECT_EQ(get("/api/whoami-v2", tj["token"])->status, 200);
  EXPECT_EQ(client().Delete("/api/lv/tokens/" + tj["id"].get<std::string>(), auth(alice))->status, 200);
  EXPECT_EQ(get("/api/whoami-v2", tj["token"])->status, 401);
  ASSERT_FALSE(push("alice/m", alice, {{"x.bin", "0123456789"}}).empty());
  auto rot = client().Post("/api/lv/admin/rotate-key", auth(kAdminToken), "", "application/json");
  ASSERT_TRUE(rot && rot->status == 200) << rot->body;
  EXPECT_EQ(get("/alice/m/resolve/main/x.bin", alice)->body, "0123456789");
  EXPECT_EQ(client().Post("/api/lv/admin/rotate-key", auth(alice), "", "application/json")->status, 403);
  EXPECT_EQ(client().Put("/api/lv/models/alice/m/settings", auth(alice), "{\"visibility\":\"internal\"}", "application/json")->status, 200);
  EXPECT_EQ(client().Delete("/api/lv/models/alice/m", auth(alice))->status, 200);
  EXPECT_EQ(get("/api/models/alice/m", alice)->status, 404);
  std::set<std::string> actions;
  for (auto& e : audit_entries()) actions.insert(e["action"].get<std::string>());
  for (const char* a : {"model.finetune", "model.deploy", "token.revoke", "key.rotate", "repo.settings", "model.delete"}) EXPECT_TRUE(actions.count(a)) << a;
}

// The same server on a PostgreSQL catalog: upload, download, permissions and the audit chain.
TEST(HubHttpPostgres, RoundTripPermissionsAndAuditOnPostgresCatalog) {
  auto& pg = testing::TestPostgres::instance();
  if (!pg.started()) GTEST_SKIP() << "PostgreSQL catalog tests skipped: " << pg.reason();
  std::string url = pg.new_database_url();
  ASSERT_FALSE(url.empty());
  fs::path dir = fs::temp_directory_path() / ("lv_http_pg_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ServerOptions opt = testing::test_server_options(dir.string(), kAdminToken);
  opt.catalog_url = url;
  auto server = HubServer::open(opt);
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto port = (*server)->start_background();
  ASSERT_TRUE(port.ok());
  httplib::Client c("127.0.0.1", *port);
  auto h = [](const std::string& t) { return httplib::Headers{{"Authorization", "Bearer " + t}}; };
  ASSERT_EQ(c.Post("/api/lv/users", h(kAdminToken), R"({"name":"alice"})", "application/json")->status, 200);
  ASSERT_EQ(c.Post("/api/lv/users", h(kAdminToken), R"({"name":"bob"})", "application/json")->status, 200);
  std::string alice = json::parse(c.Post("/api/lv/tokens", h(kAdminToken), R"({"user":"alice","scopes":"admin"})", "application/json")->body)["token"];
  std::string bob = json::parse(c.Post("/api/lv/tokens", h(kAdminToken), R"({"user":"bob","scopes":"read"})", "application/json")->body)["token"];
  ASSERT_EQ(c.Post("/api/repos/create", h(alice), R"({"name":"m"})", "application/json")->status, 200);
  std::string content = random_bytes(50000, 9);
  ASSERT_EQ(c.Post("/api/lv/models/alice/m/upload", h(alice), content, "application/octet-stream")->status, 200);
  json add = json::array({{{"path", "w.bin"}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}}});
  ASSERT_EQ(c.Post("/api/lv/models/alice/m/commit/main", h(alice), json{{"add", add}}.dump(), "application/json")->status, 200);
  EXPECT_EQ(c.Get("/alice/m/resolve/main/w.bin", h(alice))->body, content);
  EXPECT_EQ(c.Get("/alice/m/resolve/main/w.bin", h(bob))->status, 404);
  ASSERT_EQ(c.Post("/api/lv/models/alice/m/grants", h(alice), R"({"subject":"user:bob","role":"read"})", "application/json")->status, 200);
  EXPECT_EQ(c.Get("/alice/m/resolve/main/w.bin", h(bob))->body, content);
  auto v = c.Post("/api/lv/audit/verify", h(kAdminToken), "", "application/json");
  ASSERT_TRUE(v && v->status == 200);
  EXPECT_EQ(json::parse(v->body)["ok"], true) << v->body;
  EXPECT_GT(json::parse(v->body)["entries"].get<int>(), 8);
  (*server)->stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lv::hub

namespace lv::hub {
namespace {

// ---- The hostile-client suite (issue 8, HTTP side): each test replays one finding.

// Finding 1: a 100,000-deep JSON body crashed the server before anything checked the caller.
TEST_F(HubHttpTest, HostileDeepJsonIsRefusedBeforeAnythingRecursesIntoIt) {
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  auto deep = [](size_t levels) {
    return R"({"action":"model.deploy","details":{"target":"x","n":)" + std::string(levels, '[') +
           std::string(levels, ']') + "}}";
  };
  auto anonymous = client().Post("/api/lv/models/alice/m/events", deep(100000), "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  auto signed_in = client().Post("/api/lv/models/alice/m/events", auth(alice), deep(100000), "application/json");
  ASSERT_TRUE(signed_in);
  EXPECT_EQ(signed_in->status, 400);
  EXPECT_NE(signed_in->body.find("deeper than 64"), std::string::npos) << signed_in->body;
  auto fine = client().Post("/api/lv/models/alice/m/events", auth(alice), deep(60), "application/json");
  EXPECT_EQ(fine->status, 200) << fine->body;
  // brackets inside strings do not count
  json text = {{"action", "model.deploy"}, {"details", {{"target", std::string(1000, '[')}}}};
  EXPECT_EQ(post("/api/lv/models/alice/m/events", alice, text)->status, 200);
  EXPECT_EQ(get("/api/whoami-v2", alice)->status, 200);
}

// Finding 4: bodies were read (and decompressed) before authentication or any size check.
TEST_F(HubHttpTest, HostileBodiesAreNotReadBeforeTheCallerAndSizeAreKnown) {
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  struct Case {
    std::string what, head;
    int status;
  };
  const std::string events = "POST /api/lv/models/alice/m/events HTTP/1.1\r\nHost: x\r\n";
  const std::string as_alice = "Authorization: Bearer " + alice + "\r\n";
  std::vector<Case> cases = {
      {"300 MB anonymous body", events + "Content-Length: 300000000\r\n\r\n", 401},
      {"300 MB body with a bad token", events + "Authorization: Bearer lvt_nope\r\nContent-Length: 300000000\r\n\r\n", 401},
      {"endless anonymous chunked body", events + "Transfer-Encoding: chunked\r\n\r\n", 401},
      {"gzip body", events + as_alice + "Content-Encoding: gzip\r\nContent-Length: 2200000\r\n\r\n", 415},
      {"chunked JSON body", events + as_alice + "Transfer-Encoding: chunked\r\n\r\n", 411},
      {"5 MiB JSON body", events + as_alice + "Content-Length: 5242880\r\n\r\n", 413},
      {"two lengths", events + as_alice + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"length of text", events + as_alice + "Content-Length: 1e9\r\n\r\n", 400},
      {"GET with a body", "GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", 400},
      {"upload with a 300 MB anonymous body", "POST /api/lv/models/alice/m/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n", 401},
  };
  for (auto& c : cases) {
    RawConn conn(port_);
    ASSERT_TRUE(conn.connected());
    ASSERT_TRUE(conn.send(c.head));
    bool closed = false;
    std::string response = conn.read_until_close(3000, &closed);  // the body is never sent
    EXPECT_EQ(status_of(response), c.status) << c.what << ": " << response;
    EXPECT_TRUE(closed) << c.what << ": the connection stays open with its body unread";
  }
  // A POST without Content-Length has no body (it used to be read to the end of the connection).
  RawConn gc(port_);
  ASSERT_TRUE(gc.send("POST /api/lv/admin/gc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kAdminToken +
                      "\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(gc.read_until_close(3000)), 200);
  // A chunked upload still streams.
  RawConn up(port_);
  std::string blob = "streamed in chunks";
  ASSERT_TRUE(up.send("POST /api/lv/models/alice/m/upload HTTP/1.1\r\nHost: x\r\n" + as_alice +
                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + "8\r\n" + blob.substr(0, 8) + "\r\n" +
                      "a\r\n" + blob.substr(8) + "\r\n0\r\n\r\n"));
  std::string uploaded = up.read_until_close(3000);
  EXPECT_EQ(status_of(uploaded), 200) << uploaded;
  EXPECT_NE(uploaded.find(crypto::sha256_hex(blob)), std::string::npos) << uploaded;
  EXPECT_EQ(get("/api/whoami-v2", alice)->status, 200);
}

// Finding 5: one thread per connection; ten half-sent requests starved an 8-thread server.
TEST_F(HubHttpTest, HostileSlowClientsDoNotStarveTheServer) {
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 200; ++i) {  // the server has 8 workers
    slow.push_back(std::make_unique<RawConn>(port_));
    ASSERT_TRUE(slow.back()->connected());
    if (i % 2 == 0) {
      ASSERT_TRUE(slow.back()->send("GET /api/whoami-v2 HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 20; ++i) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(3);
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get("/api/whoami-v2", auth(kAdminToken));
    ASSERT_TRUE(r) << "request " << i << " got no answer while 200 slow connections are open";
    EXPECT_EQ(r->status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  }
}

// A connection that sends its head a byte at a time is closed at the head deadline, however
// steadily it sends.
TEST_F(HubHttpTest, HostileDribbledRequestHeadIsCutOffAtTheDeadline) {
  fs::path dir = dir_.string() + "_dribble";
  ServerOptions opt = testing::test_server_options(dir.string(), kAdminToken);
  opt.head_deadline_ms = 600;
  auto s = HubServer::open(opt);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto port = (*s)->start_background();
  ASSERT_TRUE(port.ok());
  RawConn conn(*port);
  ASSERT_TRUE(conn.send("GET /api/whoami-v2 HTTP/1.1\r\n"));
  auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  std::string response;
  while (!closed && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    if (!conn.send("X")) break;
    response += conn.read_until_close(100, &closed);
  }
  EXPECT_TRUE(closed || !conn.send("X"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(status_of(response), 408) << response;
  s->reset();
  fs::remove_all(dir);
}

// Low findings: Content-Disposition parameter injection, raw non-ASCII names, no nosniff.
TEST_F(HubHttpTest, HostileFileNamesCannotAddContentDispositionParameters) {
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  ASSERT_FALSE(push("alice/m", alice, {{"x\"; filename*=UTF-8''evil.exe", "a"}, {"modèle.bin", "b"}}).empty());
  // Raw responses: httplib's client percent-decodes header values.
  auto raw_get = [&](const std::string& path) {
    RawConn conn(port_);
    EXPECT_TRUE(conn.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
                          "\r\nConnection: close\r\n\r\n"));
    return conn.read_until_close(3000);
  };
  std::string evil = raw_get("/alice/m/resolve/main/x%22%3B%20filename%2A%3DUTF-8%27%27evil.exe");
  EXPECT_EQ(status_of(evil), 200) << evil;
  EXPECT_NE(evil.find("\r\nContent-Disposition: attachment; filename=\"x_; filename*=UTF-8''evil.exe\"; "
                      "filename*=UTF-8''x%22%3B%20filename%2A%3DUTF-8%27%27evil.exe\r\n"),
            std::string::npos)
      << evil;
  std::string accented_raw = raw_get("/alice/m/resolve/main/mod%C3%A8le.bin");
  EXPECT_NE(accented_raw.find("\r\nContent-Disposition: attachment; filename=\"mod__le.bin\"; "
                              "filename*=UTF-8''mod%C3%A8le.bin\r\n"),
            std::string::npos)
      << accented_raw;
  auto accented = get("/alice/m/resolve/main/mod%C3%A8le.bin", alice);
  ASSERT_EQ(accented->status, 200);
  EXPECT_EQ(accented->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(get("/api/nothing", alice)->get_header_value("X-Content-Type-Options"), "nosniff");
}

// Low findings: JSON type errors were 500 "internal error: [json.exception...]"; expires_in
// near INT64_MAX overflowed.
TEST_F(HubHttpTest, HostileTypeErrorsAre400sNamingTheField) {
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/repos/create", alice, {{"name", "m"}})->status, 200);
  struct Case {
    std::string what;
    httplib::Result r;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({"replace as text", post("/api/lv/models/alice/m/commit/main", alice, {{"replace", "yes"}}), "replace"});
  cases.push_back({"site_admin as text", post("/api/lv/users", kAdminToken, {{"name", "x"}, {"site_admin", "yes"}}), "site_admin"});
  cases.push_back({"expires_in as text", post("/api/lv/tokens", alice, {{"expires_in", "soon"}}), "expires_in"});
  cases.push_back({"expires_in as float", post("/api/lv/tokens", alice, {{"expires_in", 1e300}}), "expires_in"});
  cases.push_back({"expires_in near INT64_MAX", post("/api/lv/tokens", alice, {{"expires_in", INT64_MAX - 5}}), "expires_in"});
  cases.push_back({"expires_in past INT64_MAX", post("/api/lv/tokens", alice, {{"expires_in", UINT64_MAX}}), "expires_in"});
  cases.push_back({"scopes as a list", post("/api/lv/tokens", alice, {{"scopes", {"read"}}}), "scopes"});
  for (auto& c : cases) {
    ASSERT_TRUE(c.r) << c.what;
    EXPECT_EQ(c.r->status, 400) << c.what << ": " << c.r->body;
    EXPECT_NE(c.r->body.find(c.field), std::string::npos) << c.what << ": " << c.r->body;
    EXPECT_EQ(c.r->body.find("json.exception"), std::string::npos) << c.what << ": " << c.r->body;
  }
}

// Low finding: any signed-in user, even read-only, listed every user, org, member and team.
TEST_F(HubHttpTest, HostileDirectoryListingsOnlyForTheirAdministrators) {
  std::string reader = user("reader", "read");
  std::string alice = user("alice");
  ASSERT_EQ(post("/api/lv/orgs", alice, {{"name", "acme"}})->status, 200);
  ASSERT_EQ(post("/api/lv/orgs", kAdminToken, {{"name", "other"}})->status, 200);
  EXPECT_EQ(get("/api/lv/users", reader)->status, 403);
  EXPECT_EQ(get("/api/lv/users", alice)->status, 403);
  EXPECT_EQ(json::parse(get("/api/lv/orgs", reader)->body), json::array());
  json alices = json::parse(get("/api/lv/orgs", alice)->body);
  ASSERT_EQ(alices.size(), 1u) << alices.dump();
  EXPECT_EQ(alices[0]["name"], "acme");
  EXPECT_EQ(json::parse(get("/api/lv/orgs", kAdminToken)->body).size(), 2u);
  EXPECT_EQ(json::parse(get("/api/lv/users", kAdminToken)->body).size(), 3u);
}

// Low finding: each bad-token request cost an fsynced audit transaction.
TEST_F(HubHttpTest, HostileBadTokenFloodIsAuditedWithinABudget) {
  auto before = audit_entries().size();
  auto t0 = std::chrono::steady_clock::now();
  auto c = client();
  const int flood = 300;
  for (int i = 0; i < flood; ++i) ASSERT_EQ(c.Get("/api/whoami-v2", auth("lvt_bad_" + std::to_string(i)))->status, 401);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new budget second
  ASSERT_EQ(c.Get("/api/whoami-v2", auth("lvt_bad_last"))->status, 401);
  auto after = audit_entries();
  uint64_t entries = 0, suppressed = 0;
  for (size_t i = before; i < after.size(); ++i) {
    if (after[i]["action"] != "auth.token") continue;
    ++entries;
    suppressed += after[i]["details"].value("suppressed", uint64_t{0});
  }
  EXPECT_LE(entries, 20 * (static_cast<uint64_t>(seconds) + 3));
  EXPECT_EQ(entries + suppressed, flood + 1u) << "every bad token is written or counted";
}

TEST(HubHttpAuditBudget, AdmitsPerSecondAndCountsTheRest) {
  AuditBudget budget(2);
  uint64_t suppressed = 99;
  EXPECT_TRUE(budget.admit(10, suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(budget.admit(10, suppressed));
  EXPECT_FALSE(budget.admit(10, suppressed));
  EXPECT_FALSE(budget.admit(10, suppressed));
  EXPECT_TRUE(budget.admit(11, suppressed));
  EXPECT_EQ(suppressed, 2u);
  EXPECT_TRUE(budget.admit(11, suppressed));
  EXPECT_EQ(suppressed, 0u);
}

// Found by fuzz/http_request_fuzz: a path with invalid UTF-8 to no route made the error
// handler's JSON serializer throw outside any handler, which ended the process.
TEST_F(HubHttpTest, HostileInvalidUtf8InThePathIsAnsweredNotFatal) {
  RawConn conn(port_);
  ASSERT_TRUE(conn.send("POST /a\xdfi/lv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status_of(conn.read_until_close(3000)), 404);
  auto r = get("/api/lv/tokens?user=%ff%fe", kAdminToken);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(get("/api/whoami-v2", kAdminToken)->status, 200);
}

// Low finding: %0a in a path forged a line in the request log.
TEST_F(HubHttpTest, HostileRequestLogShowsControlBytesEscaped) {
  fs::path dir = dir_.string() + "_log";
  ServerOptions opt = testing::test_server_options(dir.string(), kAdminToken);
  opt.quiet = false;
  auto s = HubServer::open(opt);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto port = (*s)->start_background();
  ASSERT_TRUE(port.ok());
  ::testing::internal::CaptureStderr();
  {
    httplib::Client c("127.0.0.1", *port);
    auto r = c.Get("/a%0a127.0.0.1 GET /forged 200 x%0d");
    EXPECT_TRUE(r);
  }
  s->reset();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("/a\\x0a127.0.0.1 GET /forged 200 x\\x0d"), std::string::npos) << log;
  EXPECT_EQ(log.find("\n127.0.0.1 GET /forged"), std::string::npos) << log;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lv::hub
