// Hostile clients against the compliance routes, over real HTTP on loopback: a report or policy
// asked for without a token, with another user's token, and policy bodies that are malformed,
// of the wrong type or too large. Nothing may leak or change.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>

#include "lightvault/hub/http/http_server_testutil.h"
#include "lightvault/hub/storage/crypto.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

const std::string kAdmin = "lvt_test_admin_token_compliance_0123456789";

class ComplianceHttpTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_compliance_http_");
    start_server(testing::test_server_options(dir_.string(), kAdmin));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    for (const char* name : {"alice", "bob"}) {
      ASSERT_EQ(send("POST", "/api/lv/users", kAdmin, json{{"name", name}}.dump())->status, 200);
    }
    alice_ = token("alice");
    bob_ = token("bob");
    ASSERT_EQ(send("POST", "/api/lv/orgs", alice_, json{{"name", "acme"}}.dump())->status, 200);
    ASSERT_EQ(send("POST", "/api/repos/create", alice_, json{{"name", "m"}, {"organization", "acme"}, {"private", true}}.dump())->status, 200);
    const std::string card = "---\nlicense: mit\n---\n# m\n";
    ASSERT_EQ(client_->Post("/api/lv/models/acme/m/upload", {{"Authorization", "Bearer " + alice_}}, card,
                            "application/octet-stream")->status, 200);
    json add = json::array({{{"path", "README.md"}, {"sha256", crypto::sha256_hex(card)}, {"size", card.size()}}});
    ASSERT_EQ(send("POST", "/api/lv/models/acme/m/commit/main", alice_, json{{"message", "card"}, {"add", add}}.dump())->status, 200);
  }
  std::string token(const std::string& user) {
    auto r = send("POST", "/api/lv/tokens", kAdmin, json{{"user", user}, {"scopes", "read,write,admin"}}.dump());
    return json::parse(r->body)["token"];
  }
  httplib::Result send(const std::string& method, const std::string& path, const std::string& token,
                       const std::string& body = "") {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    auto r = method == "GET"   ? client_->Get(path, h)
             : method == "PUT" ? client_->Put(path, h, body, "application/json")
                               : client_->Post(path, h, body, "application/json");
    EXPECT_TRUE(r) << method << " " << path << ": " << httplib::to_string(r.error());
    return r;
  }
  bool policy_on() {
    auto r = send("GET", "/api/lv/orgs/acme/policy", alice_);
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body).value("require_card_complete", false);
  }

  std::unique_ptr<httplib::Client> client_;
  std::string alice_, bob_;
};

TEST_F(ComplianceHttpTest, ReportsAreForThoseWhoMayReadTheModel) {
  EXPECT_EQ(send("GET", "/api/lv/models/acme/m/compliance", alice_)->status, 200);
  EXPECT_EQ(send("GET", "/api/lv/models/acme/m/compliance", "")->status, 401);
  // bob may not see the private model: 404, exactly like one that does not exist.
  auto hidden = send("GET", "/api/lv/models/acme/m/compliance", bob_);
  auto missing = send("GET", "/api/lv/models/acme/nope/compliance", bob_);
  EXPECT_EQ(hidden->status, 404);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(hidden->body.find("acme/m\""), std::string::npos) << hidden->body;
  EXPECT_EQ(send("GET", "/api/lv/models/acme/m/compliance?format=pdf", alice_)->status, 400);
}

TEST_F(ComplianceHttpTest, PolicyChangesOnlyByTheOrgsAdminsAndOnlyWithAGoodBody) {
  const std::string path = "/api/lv/orgs/acme/policy";
  const std::string on = json{{"require_card_complete", true}}.dump();
  EXPECT_EQ(send("PUT", path, "", on)->status, 401);
  const int outsider = send("PUT", path, bob_, on)->status;
  EXPECT_TRUE(outsider == 403 || outsider == 404) << outsider;
  EXPECT_EQ(send("PUT", path, alice_, "{\"require_card_complete\": tru")->status, 400);
  EXPECT_EQ(send("PUT", path, alice_, json{{"require_card_complete", "yes"}}.dump())->status, 400);
  // 5 MiB announced: refused from the head alone, before the body is read.
  testing::RawConn raw(port_);
  ASSERT_TRUE(raw.send("PUT " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice_ +
                       "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(5 << 20) + "\r\n\r\n"));
  EXPECT_EQ(testing::status_of(raw.read_until_close(5000)), 413);
  EXPECT_FALSE(policy_on());  // none of those changed it
  EXPECT_EQ(send("PUT", path, alice_, on)->status, 200);
  EXPECT_TRUE(policy_on());
}

}  // namespace
}  // namespace lv::hub
