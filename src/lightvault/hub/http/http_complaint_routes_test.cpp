// Complaints over real HTTP on loopback, on SQLite and (when Debian's server is installed)
// PostgreSQL: a complaint filed without a token gets a 72-hour deadline, shows as open, is
// acknowledged and resolved, and its complainant follows it with the secret; a burst from one
// address is cut off with 429; bad input is refused with a clear 4xx, stores nothing and is
// audited; an overdue complaint reaches its organization's webhook (a receiver on loopback)
// once; `lightvault admin complaints --overdue` prints it; every step is in the audit export
// and the chain verifies.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/http/http_server.h"
#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/service/complaint_service.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

const std::string kAdmin = "lvt_test_admin_token_complaints_0123456789";

int64_t parse_time(const std::string& iso) {
  std::tm tm{};
  EXPECT_NE(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << iso;
  return static_cast<int64_t>(timegm(&tm));
}

class ComplaintHttpTest : public testing::LoopbackServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { make_test_dir("lv_complaints_"); }

  // A server with these limits on the catalog backend under test; an organization acme with
  // a private repository acme/model.
  void start(int burst = 5, int64_t overdue_check_ms = 60000) {
    ServerOptions opt = testing::test_server_options((dir_ / "data").string(), kAdmin);
    if (GetParam() == "postgres") {
      auto& pg = testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL complaint tests skipped: " << pg.reason();
      opt.catalog_url = pg.new_database_url();
      ASSERT_FALSE(opt.catalog_url.empty());
    }
    opt.complaint_burst = burst;
    opt.overdue_check_ms = overdue_check_ms;
    start_server(opt);
    ok(send("POST", "/api/lv/orgs", kAdmin, json{{"name", "acme"}}));
    ok(send("POST", "/api/repos/create", kAdmin, json{{"name", "model"}, {"organization", "acme"}}));
  }

  httplib::Result send(const std::string& method, const std::string& path, const std::string& token, const json& body) {
    return send_raw(method, path, token, body.dump());
  }
  httplib::Result send_raw(const std::string& method, const std::string& path, const std::string& token,
                           const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    if (method == "PUT") return c.Put(path, h, body, "application/json");
    return c.Post(path, h, body, "application/json");
  }
  httplib::Result get(const std::string& path, const std::string& token = "") {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path, h);
  }
  static void ok(const httplib::Result& r, int status = 200) {
    ASSERT_TRUE(r) << "no response";
    ASSERT_EQ(r->status, status) << r->body;
  }
  std::string user(const std::string& name, const std::string& scopes = "admin") {
    ok(send("POST", "/api/lv/users", kAdmin, json{{"name", name}}));
    auto t = send("POST", "/api/lv/tokens", kAdmin, json{{"user", name}, {"name", "t"}, {"scopes", scopes}});
    return json::parse(t->body)["token"].get<std::string>();
  }
  void open_channel() { ok(send("PUT", "/api/lv/models/acme/model/complaints/channel", kAdmin, json{{"public", true}})); }
  static json complaint(const std::string& text = "The model told me my loan was refused because of my postcode.") {
    return json{{"repo", "acme/model"}, {"subject", "Unfair answer"}, {"text", text}, {"contact", "someone@example.org"}};
  }
  // A statement on the server's catalog, under its lock (the server's threads share the connection).
  SqlResult sql(const std::string& statement, const std::vector<SqlValue>& params = {}) {
    SqlResult out;
    Status st = server_->catalog().transaction([&]() -> Status {
      auto r = server_->catalog().sql().exec(statement, params);
      if (!r.ok()) return r.error();
      out = std::move(*r);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }
  int64_t stored() {
    auto r = sql("SELECT COUNT(*) FROM complaints");
    return r.rows.empty() ? -1 : std::stoll(*r.rows[0][0]);
  }
  // The audit export's record lines (the admin's view: everything), parsed.
  std::vector<json> exported() {
    auto r = get("/api/lv/audit/export", kAdmin);
    EXPECT_TRUE(r && r->status == 200);
    std::vector<json> out;
    size_t pos = 0;
    while (r && pos < r->body.size()) {
      size_t end = r->body.find('\n', pos);
      if (end == std::string::npos) end = r->body.size();
      auto line = json::parse(r->body.substr(pos, end - pos), nullptr, false);
      if (line.is_object() && line.contains("action")) out.push_back(line);
      pos = end + 1;
    }
    return out;
  }
  static std::vector<json> entries(const std::vector<json>& trail, const std::string& action, const std::string& outcome) {
    std::vector<json> out;
    for (auto& e : trail) {
      if (e["action"] == action && e["outcome"] == outcome) out.push_back(e);
    }
    return out;
  }
  void chain_verifies() {
    auto v = send_raw("POST", "/api/lv/audit/verify", kAdmin, "");
    ok(v);
    EXPECT_EQ(json::parse(v->body)["ok"], true) << v->body;
  }
};

TEST_P(ComplaintHttpTest, AnonymousComplaintGetsA72HourDeadlineAndIsAnswered) {
  start();
  if (IsSkipped() || HasFatalFailure()) return;
  // A private repository whose complaint channel is closed is "not found" to people without
  // an account, exactly like one that does not exist, and nothing is stored.
  auto hidden = send("POST", "/api/lv/complaints", "", complaint());
  ok(hidden, 404);
  EXPECT_EQ(stored(), 0);
  open_channel();

  auto filed = send("POST", "/api/lv/complaints", "", complaint());
  ok(filed, 201);
  json receipt = json::parse(filed->body);
  EXPECT_EQ(receipt["status"], "received");
  const std::string id = receipt["id"].get<std::string>(), secret = receipt["secret"].get<std::string>(),
                    due = receipt["due"].get<std::string>();
  EXPECT_EQ(parse_time(due) - parse_time(receipt["received"].get<std::string>()), 72 * 3600);
  EXPECT_LE(std::abs(parse_time(due) - (static_cast<int64_t>(std::time(nullptr)) + 72 * 3600)), 5);
  EXPECT_EQ(due.back(), 'Z');  // UTC
  EXPECT_EQ(stored(), 1);

  // The complainant follows it with the secret; without it, or with another, nothing is shown.
  auto mine = get("/api/lv/complaints/" + id + "?secret=" + secret);
  ok(mine);
  EXPECT_EQ(json::parse(mine->body)["status"], "received");
  EXPECT_FALSE(json::parse(mine->body).contains("contact"));
  ok(get("/api/lv/complaints/" + id + "?secret=lvc_wrong"), 404);
  ok(get("/api/lv/complaints/" + id), 404);

  // Owners see it open, not overdue.
  auto listed = get("/api/lv/complaints?repo=acme/model&status=open", kAdmin);
  ok(listed);
  json list = json::parse(listed->body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_EQ(list[0]["overdue"], false);
  EXPECT_EQ(list[0]["contact"], "someone@example.org");
  EXPECT_EQ(list[0]["complainant"], "");

  ok(send("POST", "/api/lv/complaints/" + id, kAdmin, json{{"status", "acknowledged"}}));
  EXPECT_EQ(json::parse(get("/api/lv/complaints/" + id + "?secret=" + secret)->body)["status"], "acknowledged");
  auto resolved = send("POST", "/api/lv/complaints/" + id, kAdmin,
                       json{{"status", "resolved"}, {"resolution", "Postcode removed from the model's inputs."}});
  ok(resolved);
  EXPECT_EQ(json::parse(resolved->body)["resolver"], "admin");
  // Final: answering again is a conflict.
  ok(send("POST", "/api/lv/complaints/" + id, kAdmin, json{{"status", "rejected"}, {"resolution", "no"}}), 409);
  json seen = json::parse(get("/api/lv/complaints/" + id + "?secret=" + secret)->body);
  EXPECT_EQ(seen["status"], "resolved");
  EXPECT_EQ(seen["resolution"], "Postcode removed from the model's inputs.");
  EXPECT_EQ(json::parse(get("/api/lv/complaints?repo=acme/model&status=open", kAdmin)->body).size(), 0u);
  EXPECT_EQ(json::parse(get("/api/lv/complaints?status=resolved", kAdmin)->body).size(), 1u);

  // Every step in the export, as the compliance report reads them.
  auto trail = exported();
  auto received = entries(trail, "complaint.receive", "allowed");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["resource"], "acme/model");
  EXPECT_EQ(received[0]["org"], "acme");
  EXPECT_EQ(received[0]["actor"], "");
  EXPECT_EQ(received[0]["details"]["id"], id);
  EXPECT_EQ(received[0]["details"]["due"], due);
  EXPECT_EQ(received[0]["details"]["subject"], "Unfair answer");
  EXPECT_FALSE(received[0]["details"].contains("text"));  // the text stays in the catalog
  auto acknowledged = entries(trail, "complaint.acknowledge", "allowed");
  ASSERT_EQ(acknowledged.size(), 1u);
  EXPECT_EQ(acknowledged[0]["details"], (json{{"id", id}, {"status", "acknowledged"}}));
  auto closed = entries(trail, "complaint.resolve", "allowed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0]["details"]["status"], "resolved");
  EXPECT_EQ(closed[0]["details"]["resolution"], "Postcode removed from the model's inputs.");
  EXPECT_EQ(entries(trail, "complaint.receive", "denied").size(), 1u);  // the first, hidden try
  EXPECT_EQ(entries(trail, "complaint.reject", "denied").size(), 1u);   // the late rejection
  chain_verifies();
}

TEST_P(ComplaintHttpTest, BurstFromOneAddressIsCutOffWith429) {
  start(/*burst=*/3);
  if (IsSkipped() || HasFatalFailure()) return;
  open_channel();
  for (int i = 0; i < 3; ++i) ok(send("POST", "/api/lv/complaints", "", complaint()), 201);
  for (int i = 0; i < 3; ++i) {
    auto over = send("POST", "/api/lv/complaints", "", complaint());
    ok(over, 429);
    EXPECT_GT(std::stoll(over->get_header_value("Retry-After")), 0);
  }
  EXPECT_EQ(stored(), 3);
  auto refused = entries(exported(), "complaint.receive", "denied");
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(refused[0]["details"]["status"], 429);
  chain_verifies();
}

TEST_P(ComplaintHttpTest, BadInputIsRefusedAuditedAndStoresNothing) {
  start(/*burst=*/50);
  if (IsSkipped() || HasFatalFailure()) return;
  open_channel();
  std::string reader = user("bob", "write"), stranger = user("carol", "admin");
  ok(send("POST", "/api/lv/models/acme/model/grants", kAdmin, json{{"subject", "user:bob"}, {"role", "read"}}));

  json no_repo = complaint();
  no_repo["repo"] = "acme/nothing";
  ok(send("POST", "/api/lv/complaints", "", no_repo), 404);
  no_repo["repo"] = "not a repo";
  ok(send("POST", "/api/lv/complaints", "", no_repo), 400);
  ok(send("POST", "/api/lv/complaints", "", complaint("")), 400);
  ok(send("POST", "/api/lv/complaints", "", complaint(" \n\t ")), 400);
  ok(send("POST", "/api/lv/complaints", "", complaint(std::string(kMaxComplaintText + 1, 'x'))), 413);
  // 1 MB: refused from its head, the body never read.
  testing::RawConn huge(port_);
  ASSERT_TRUE(huge.send("POST /api/lv/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 1048576\r\n\r\n{\"repo\": \"acme/model\", \"text\": \"" + std::string(4096, 'x')));
  EXPECT_EQ(testing::status_of(huge.read_until_close(5000)), 413);
  json long_subject = complaint();
  long_subject["subject"] = std::string(kMaxComplaintSubject + 1, 's');
  ok(send("POST", "/api/lv/complaints", "", long_subject), 413);
  json not_text = complaint();
  not_text["text"] = std::string("a NUL \0 inside", 15);
  ok(send("POST", "/api/lv/complaints", "", not_text), 400);
  ok(send_raw("POST", "/api/lv/complaints", "", "{\"repo\": \"acme/model\", \"subject\": \"s\", \"text\": \"\xff\xfe\"}"), 400);
  not_text["text"] = 42;
  ok(send("POST", "/api/lv/complaints", "", not_text), 400);
  ok(send_raw("POST", "/api/lv/complaints", "", "{\"repo\": \"acme/model\", "), 400);
  ok(send_raw("POST", "/api/lv/complaints", "", "[1, 2]"), 400);
  EXPECT_EQ(stored(), 0);

  auto filed = send("POST", "/api/lv/complaints", "", complaint());
  ok(filed, 201);
  const std::string id = json::parse(filed->body)["id"].get<std::string>();
  // Answers from those without the right: a reader is forbidden, a stranger and an anonymous
  // caller learn nothing; a bad status or a missing resolution is invalid.
  ok(send("POST", "/api/lv/complaints/" + id, reader, json{{"status", "resolved"}, {"resolution", "done"}}), 403);
  ok(send("POST", "/api/lv/complaints/" + id, stranger, json{{"status", "resolved"}, {"resolution", "done"}}), 404);
  ok(send("POST", "/api/lv/complaints/" + id, "", json{{"status", "resolved"}, {"resolution", "done"}}), 401);
  ok(send("POST", "/api/lv/complaints/cmp_000000000000000000000000", kAdmin, json{{"status", "resolved"}}), 404);
  ok(send("POST", "/api/lv/complaints/" + id, kAdmin, json{{"status", "closed"}}), 400);
  ok(send("POST", "/api/lv/complaints/" + id, kAdmin, json{{"status", "resolved"}}), 400);
  ok(get("/api/lv/complaints?repo=acme/model", reader), 403);
  ok(get("/api/lv/complaints?repo=acme/model", stranger), 404);
  ok(get("/api/lv/complaints", ""), 401);
  EXPECT_EQ(json::parse(get("/api/lv/complaints", stranger)->body).size(), 0u);  // administers nothing
  EXPECT_EQ(json::parse(get("/api/lv/complaints/" + id + "?secret=x")->body).value("error", ""), "no complaint " + id + " with this secret");

  auto unchanged = get("/api/lv/complaints?repo=acme/model", kAdmin);
  EXPECT_EQ(json::parse(unchanged->body)[0]["status"], "received");
  auto trail = exported();
  // not found, bad repo, empty, blank, too long, 1 MB (before reading), long subject, a NUL,
  // invalid UTF-8, wrong type, malformed JSON, not an object
  EXPECT_EQ(entries(trail, "complaint.receive", "denied").size(), 12u);
  EXPECT_EQ(stored(), 1);
  auto resolves = entries(trail, "complaint.resolve", "denied");
  ASSERT_GE(resolves.size(), 2u);
  EXPECT_EQ(resolves[0]["actor"], "bob");
  EXPECT_EQ(resolves[0]["details"]["status"], 403);
  EXPECT_EQ(entries(trail, "complaint.resolve", "allowed").size(), 0u);
  chain_verifies();
}

// A webhook receiver on loopback that counts the notices it gets.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(json::parse(req.body, nullptr, false));
      res.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<json> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  // Waits (at most 20 s) until `n` notices arrived.
  bool wait_for(size_t n) {
    for (int i = 0; i < 2000; ++i) {
      if (bodies().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> bodies_;
};

TEST_P(ComplaintHttpTest, OverdueComplaintReachesTheWebhookOnceAndTheCli) {
  start(/*burst=*/5, /*overdue_check_ms=*/20);
  if (IsSkipped() || HasFatalFailure()) return;
  Receiver receiver;
  ASSERT_GT(receiver.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook?key=s3cret";
  ok(send("PUT", "/api/lv/orgs/acme/complaints/webhook", "", json{{"url", url}}), 401);
  ok(send("PUT", "/api/lv/orgs/acme/complaints/webhook", user("dave", "admin"), json{{"url", url}}), 403);
  ok(send("PUT", "/api/lv/orgs/acme/complaints/webhook", kAdmin, json{{"url", "file:///etc/passwd"}}), 400);
  ok(send("PUT", "/api/lv/orgs/acme/complaints/webhook", kAdmin, json{{"url", url}}));
  open_channel();
  auto filed = send("POST", "/api/lv/complaints", "", complaint());
  ok(filed, 201);
  const std::string id = json::parse(filed->body)["id"].get<std::string>();
  auto late = send("POST", "/api/lv/complaints", "", complaint("A second one, answered in time."));
  ok(late, 201);
  const std::string late_id = json::parse(late->body)["id"].get<std::string>();

  // 72 hours pass for the first (the test moves its deadline instead of the clock).
  ASSERT_EQ(sql("UPDATE complaints SET due_at = received_at - 3600 WHERE id = ?1", {id}).changes, 1);
  ASSERT_TRUE(receiver.wait_for(1));
  auto overdue = get("/api/lv/complaints?overdue=true", kAdmin);
  ok(overdue);
  ASSERT_EQ(json::parse(overdue->body).size(), 1u);
  EXPECT_EQ(json::parse(overdue->body)[0]["overdue"], true);

  // The CLI, through the hub with the admin token, flags it.
  std::string cmd = "LIGHTVAULT_URL=http://127.0.0.1:" + std::to_string(port_) + " LIGHTVAULT_TOKEN=" + kAdmin + " " +
                    LV_CLI_PATH + " admin complaints --overdue --repo acme/model 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find(id), std::string::npos) << out;
  EXPECT_NE(out.find("OVERDUE"), std::string::npos) << out;
  EXPECT_EQ(out.find(late_id), std::string::npos) << out;

  // Later rounds do not send it again, and the answered-in-time one never goes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto notices = receiver.bodies();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0]["event"], "complaint.overdue");
  EXPECT_EQ(notices[0]["id"], id);
  EXPECT_EQ(notices[0]["repo"], "acme/model");
  EXPECT_GE(notices[0]["overdue_seconds"].get<int64_t>(), 3600);
  auto trail = exported();
  auto sent = entries(trail, "complaint.notify", "allowed");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["details"]["id"], id);
  EXPECT_EQ(sent[0]["actor"], "lightvault");
  auto hook = entries(trail, "complaint.webhook", "allowed");
  ASSERT_EQ(hook.size(), 1u);
  EXPECT_EQ(hook[0]["details"]["host"], "127.0.0.1:" + std::to_string(receiver.port()));
  EXPECT_EQ(hook[0].dump().find("s3cret"), std::string::npos);  // the URL's secret stays out
  chain_verifies();
}

INSTANTIATE_TEST_SUITE_P(Backends, ComplaintHttpTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub
