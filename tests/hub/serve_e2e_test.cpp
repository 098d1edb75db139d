// End to end with the real `lightvault` binary (LV_CLI_PATH): `serve` in a child process,
// `admin`, `push`, `pull` and `audit` as a user would run them; then kill -9 during an upload,
// restart, and check that the catalog and the blob store are consistent and the partial
// upload is gone; then tamper with the audit chain and watch `audit verify` name the entry.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace {

namespace fs = std::filesystem;
const std::string kToken = "lvt_e2e_admin_token_00112233445566778899";

int connect_to(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

struct Run {
  int status;
  std::string out;
};

// Runs the CLI with the hub environment; captures stdout+stderr.
Run cli(const std::string& args, int port, const std::string& token = kToken) {
  std::string cmd = "LIGHTVAULT_URL=http://127.0.0.1:" + std::to_string(port) + " LIGHTVAULT_TOKEN=" + token + " " +
                    std::string(LV_CLI_PATH) + " " + args + " 2>&1";
  Run r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The hub as its own process, so a test can kill it mid-upload and start it again.
lv::testing_support::ServeProcess serve_process(const fs::path& data, int port, const std::string& admin_token = kToken) {
  return {data.string(), port, admin_token, (data.parent_path() / "serve.log").string()};
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

int64_t count(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

int exec_sql(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  sqlite3_busy_timeout(h, 10000);
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(h);
  return rc;
}

// Blobs in the store: each has one .meta.
int64_t meta_files(const fs::path& data) {
  int64_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(data / "blobs")) n += e.path().extension() == ".meta";
  return n;
}

TEST(ServeEndToEnd, CliPushPullKillDuringUploadRestartAndAuditTamper) {
  fs::path root = fs::temp_directory_path() / ("lv_e2e_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "model" / "sub");
  fs::path data = root / "data";
  std::mt19937 rng(7);
  std::string weights(3 * 1024 * 1024 + 17, '\0');
  for (auto& c : weights) c = static_cast<char>(rng());
  std::ofstream(root / "model" / "model.bin", std::ios::binary) << weights;
  std::ofstream(root / "model" / "sub" / "config.json") << "{\"dim\": 64}";
  std::ofstream(root / "model" / "README.md") << "---\nlicense: mit\n---\n# test\n";

  int port = lv::testing_support::free_loopback_port();
  auto server = serve_process(data, port);
  ASSERT_TRUE(server.start()) << slurp(root / "serve.log");

  auto r = cli("admin user create alice", port);
  ASSERT_EQ(r.status, 0) << r.out;
  r = cli("admin token create --user alice --scopes write --name e2e", port);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string alice = r.out.substr(r.out.rfind("hf_lv_"));
  alice = alice.substr(0, alice.find('\n'));
  r = cli("push " + (root / "model").string() + " alice/tiny", port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("created alice/tiny"), std::string::npos) << r.out;
  r = cli("push " + (root / "model").string() + " alice/tiny", port, alice);  // unchanged: nothing uploaded
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("0 uploaded, 3 unchanged"), std::string::npos) << r.out;
  r = cli("pull alice/tiny " + (root / "pulled").string(), port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(slurp(root / "pulled" / "model.bin"), weights);
  EXPECT_EQ(slurp(root / "pulled" / "sub" / "config.json"), "{\"dim\": 64}");
  // someone else's repo / a bad token: one-line error, non-zero exit
  r = cli("pull alice/tiny " + (root / "x").string(), port, "lvt_bad_bad_bad_bad_bad");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("error: "), std::string::npos);
  r = cli("admin event alice/tiny deploy --target prod", port, alice);
  EXPECT_EQ(r.status, 0) << r.out;

  int64_t blobs_before = count(data / "catalog.db", "SELECT COUNT(*) FROM blobs");
  int64_t commits_before = count(data / "catalog.db", "SELECT COUNT(*) FROM commits");
  EXPECT_EQ(blobs_before, 3);

  // kill -9 in the middle of a 64 MiB upload
  int s = connect_to(port);
  ASSERT_GE(s, 0);
  std::string head = "POST /api/lv/models/alice/tiny/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
                     "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + std::to_string(64 << 20) + "\r\n\r\n";
  ASSERT_EQ(send(s, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  std::string chunk(1 << 20, 'Z');
  for (int i = 0; i < 8; ++i) ASSERT_GT(send(s, chunk.data(), chunk.size(), MSG_NOSIGNAL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  bool partial_seen = false;
  for (auto& e : fs::recursive_directory_iterator(data / "tmp")) partial_seen |= e.is_regular_file();
  EXPECT_TRUE(partial_seen) << "the upload should be in progress in DATA/tmp";
  server.kill9();
  close(s);

  ASSERT_TRUE(server.start()) << slurp(root / "serve.log");
  // consistent: the partial upload is gone, nothing new in the catalog, old data intact
  for (auto& e : fs::recursive_directory_iterator(data / "tmp")) ADD_FAILURE() << "left over: " << e.path();
  EXPECT_EQ(count(data / "catalog.db", "SELECT COUNT(*) FROM blobs"), blobs_before);
  EXPECT_EQ(count(data / "catalog.db", "SELECT COUNT(*) FROM commits"), commits_before);
  EXPECT_EQ(meta_files(data), blobs_before);
  fs::remove_all(root / "pulled");
  r = cli("pull alice/tiny " + (root / "pulled").string(), port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(slurp(root / "pulled" / "model.bin"), weights);

  // rotate-key, then everything still downloads
  r = cli("admin rotate-key", port);
  ASSERT_EQ(r.status, 0) << r.out;
  fs::remove_all(root / "pulled");
  r = cli("pull alice/tiny " + (root / "pulled").string(), port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(slurp(root / "pulled" / "model.bin"), weights);

  // A deleted repository's files stay stored until garbage collection frees them.
  fs::create_directories(root / "scratch");
  std::ofstream(root / "scratch" / "scratch.bin") << "scratch weights";
  r = cli("push " + (root / "scratch").string() + " alice/scratch", port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  r = cli("admin delete alice/scratch", port);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(meta_files(data), blobs_before + 1);
  r = cli("admin gc --grace 0 --dry-run", port);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"blobs\":1"), std::string::npos) << r.out;
  EXPECT_EQ(meta_files(data), blobs_before + 1);
  r = cli("admin gc --grace 0", port, alice);  // not a site administrator
  EXPECT_NE(r.status, 0);
  r = cli("admin gc --grace 0", port);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"blobs\":1"), std::string::npos) << r.out;
  EXPECT_EQ(meta_files(data), blobs_before);
  EXPECT_EQ(count(data / "catalog.db", "SELECT COUNT(*) FROM blobs"), blobs_before);
  fs::remove_all(root / "pulled");
  r = cli("pull alice/tiny " + (root / "pulled").string(), port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(slurp(root / "pulled" / "model.bin"), weights);

  // audit: export verifies, live chain verifies
  r = cli("audit export -o " + (root / "audit.jsonl").string(), port);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string exported = slurp(root / "audit.jsonl");
  EXPECT_FALSE(fs::exists(root / "audit.jsonl.part"));
  // To stdout too, streamed: the same trail plus the second export's own entry (each export
  // ends with the signed head of its last entry).
  r = cli("audit export", port);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string entries = exported.substr(0, exported.rfind("{\"head\":"));
  EXPECT_EQ(r.out.compare(0, entries.size(), entries), 0);
  for (const char* a : {"\"model.download\"", "\"model.upload\"", "\"repo.create\"", "\"token.create\"", "\"model.deploy\"", "\"key.rotate\"",
                        "\"model.delete\"", "\"blob.gc\""}) {
    EXPECT_NE(exported.find(a), std::string::npos) << a;
  }
  r = cli("audit verify --data " + data.string() + " --file " + (root / "audit.jsonl").string(), port);
  EXPECT_EQ(r.status, 0) << r.out;
  server.term();
  r = cli("audit verify --data " + data.string(), port);
  EXPECT_EQ(r.status, 0) << r.out;

  // tamper with the live chain (each on its own copy of the data folder): change entry 5,
  // delete entry 6, swap entries 7 and 8; verify fails and names the entry
  struct Tamper {
    const char* name;
    const char* sql;
    const char* expect;
  };
  std::vector<Tamper> tampers = {
      {"change", "UPDATE audit SET entry = replace(entry, '\"client\":\"', '\"client\":\"10.6.6.6 via ') WHERE seq = 5", "entry 5"},
      {"delete", "DELETE FROM audit WHERE seq = 6", "entry 6"},
      {"swap", "UPDATE audit SET seq = -1 WHERE seq = 7; UPDATE audit SET seq = 7 WHERE seq = 8; UPDATE audit SET seq = 8 WHERE seq = -1;",
       "entry 7"},
  };
  for (auto& t : tampers) {
    fs::path copy = root / (std::string("tamper_") + t.name);
    fs::copy(data, copy, fs::copy_options::recursive);
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((copy / "catalog.db").c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, t.sql, nullptr, nullptr, nullptr), SQLITE_OK) << t.name << ": " << sqlite3_errmsg(h);
    sqlite3_close(h);
    r = cli("audit verify --data " + copy.string(), port);
    EXPECT_EQ(r.status, 1) << t.name << ": " << r.out;
    EXPECT_NE(r.out.find(t.expect), std::string::npos) << t.name << ": " << r.out;
  }

  fs::remove_all(root);
}

// The attacks of issue 8 that concern stored data, replayed through the real binary: a blob of
// another repository named in a commit, a tag named like a commit id, `.git/config` in a pull,
// the newest audit entries deleted, an export cut short; then starts with a missing key and a
// changed LIGHTVAULT_ADMIN_TOKEN.
TEST(ServeEndToEnd, HostileClientReplayIsRefused) {
  using json = nlohmann::json;
  fs::path root = fs::temp_directory_path() / ("lv_e2e_hostile_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::path data = root / "data";
  for (const char* d : {"secret", "v1", "v2"}) fs::create_directories(root / d);
  std::ofstream(root / "secret" / "codes.txt") << "the launch codes";
  std::ofstream(root / "v1" / "a.txt") << "version one";
  std::ofstream(root / "v2" / "b.txt") << "version two";
  int port = lv::testing_support::free_loopback_port();
  auto server = serve_process(data, port);
  ASSERT_TRUE(server.start()) << slurp(root / "serve.log");
  for (const std::string& args : {std::string("admin org create acme"), std::string("admin user create alice"),
                                  "push " + (root / "secret").string() + " acme/secret", "push " + (root / "v1").string() + " acme/shared",
                                  std::string("admin grant acme/shared user:alice write")}) {
    auto r = cli(args, port);
    ASSERT_EQ(r.status, 0) << args << ": " << r.out;
  }
  auto r = cli("admin token create --user alice --scopes write --name e2e", port);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string alice = r.out.substr(r.out.rfind("hf_lv_"));
  alice = alice.substr(0, alice.find('\n'));
  httplib::Client http("127.0.0.1", port);
  httplib::Headers as_alice{{"Authorization", "Bearer " + alice}}, as_admin{{"Authorization", "Bearer " + kToken}};

  // 2: alice names acme/secret's blob in a commit to acme/shared
  std::string secret_sha = json::parse(http.Get("/api/models/acme/secret?blobs=true", as_admin)->body)["siblings"][0]["lfs"]["sha256"];
  json theft{{"add", {{{"path", "stolen.txt"}, {"sha256", secret_sha}, {"size", 16}}}}};
  auto c = http.Post("/api/lv/models/acme/shared/commit/main", as_alice, theft.dump(), "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 400) << c->body;
  EXPECT_EQ(c->body.find("16"), std::string::npos) << c->body;
  EXPECT_EQ(http.Get("/acme/shared/resolve/main/stolen.txt", as_alice)->status, 404);

  // 3: a tag named like the first commit cannot redirect `pull -r <that id>`
  std::string c1 = json::parse(http.Get("/api/models/acme/shared", as_alice)->body)["sha"];
  r = cli("push " + (root / "v2").string() + " acme/shared", port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  auto tag = http.Post("/api/lv/models/acme/shared/tags", as_alice, json{{"tag", c1}, {"revision", "main"}}.dump(), "application/json");
  EXPECT_EQ(tag->status, 400) << tag->body;
  r = cli("pull -r " + c1 + " acme/shared " + (root / "pinned").string(), port, alice);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(root / "pinned" / "a.txt"));
  EXPECT_FALSE(fs::exists(root / "pinned" / "b.txt"));

  // 8: a catalog that lists .git/config (written behind the server's back): pull writes nothing
  ASSERT_EQ(exec_sql(data / "catalog.db", "UPDATE commit_files SET path = '.git/config' WHERE commit_id = '" + c1 + "'"), SQLITE_OK);
  r = cli("pull -r " + c1 + " acme/shared " + (root / "victim").string(), port, alice);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(root / "victim" / ".git"));

  // 7: an export cut short, and the newest entries deleted from the catalog
  r = cli("audit export -o " + (root / "audit.jsonl").string(), port);
  ASSERT_EQ(r.status, 0) << r.out;
  r = cli("audit verify --data " + data.string() + " --file " + (root / "audit.jsonl").string(), port);
  EXPECT_EQ(r.status, 0) << r.out;
  std::string exported = slurp(root / "audit.jsonl");
  exported.erase(exported.rfind('\n', exported.size() - 2) + 1);
  exported.erase(exported.rfind('\n', exported.size() - 2) + 1);
  std::ofstream(root / "short.jsonl", std::ios::trunc) << exported;
  r = cli("audit verify --data " + data.string() + " --file " + (root / "short.jsonl").string(), port);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  server.term();
  fs::copy(data, root / "cut", fs::copy_options::recursive);
  int64_t last = count(root / "cut" / "catalog.db", "SELECT MAX(seq) FROM audit");
  ASSERT_EQ(exec_sql(root / "cut" / "catalog.db", "DELETE FROM audit WHERE seq > " + std::to_string(last - 5)), SQLITE_OK);
  r = cli("audit verify --data " + (root / "cut").string(), port);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("removed"), std::string::npos) << r.out;

  // Low: missing keys the catalog knows stop the start; a new admin token revokes the old one.
  for (const char* key : {"audit.key", "keyring.json"}) {
    fs::path copy = root / (std::string("nokey_") + key);
    fs::copy(data, copy, fs::copy_options::recursive);
    fs::remove(copy / "keys" / key);
    r = cli("serve --quiet --listen 127.0.0.1:" + std::to_string(lv::testing_support::free_loopback_port()) + " --data " + copy.string(), port);
    EXPECT_EQ(r.status, 2) << key << ": " << r.out;
    EXPECT_NE(r.out.find(key), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(copy / "keys" / key)) << "a new " << key << " was made";
  }
  const std::string rotated = "lvt_e2e_rotated_admin_token_99887766554433";
  auto again = serve_process(data, port, rotated);
  ASSERT_TRUE(again.start()) << slurp(root / "serve.log");
  EXPECT_EQ(http.Get("/api/lv/users", as_admin)->status, 401);
  EXPECT_EQ(http.Get("/api/lv/users", {{"Authorization", "Bearer " + rotated}})->status, 200);
  again.term();
  fs::remove_all(root);
}

}  // namespace
