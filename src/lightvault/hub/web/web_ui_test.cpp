// The web interface over real HTTP on loopback, on every catalog backend (SQLite; PostgreSQL when
// Debian's server is installed): sessions, CSRF, inert model cards, private models as 404,
// expiry and revocation, file views in the audit trail, and sessions shared by two replicas of
// one catalog.
#include "lightvault/hub/web/web_ui.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <regex>
#include <thread>

#include "lightvault/hub/catalog/test_postgres.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/http/http_server_testutil.h"

namespace lv::hub::web {
namespace {

using json = nlohmann::json;

constexpr const char* kAdminToken = "lvt_web_admin_token_0123456789abcdef";

// A browser's part of HTTP: a cookie jar and forms.
class Browser {
 public:
  explicit Browser(int port) : http_("127.0.0.1", port) {}

  httplib::Result get(const std::string& path, httplib::Headers extra = {}) {
    auto r = http_.Get(path, with_cookies(std::move(extra)));
    keep(r);
    return r;
  }
  httplib::Result post(const std::string& path, const std::map<std::string, std::string>& fields, httplib::Headers extra = {}) {
    httplib::Params params(fields.begin(), fields.end());
    std::string body = httplib::detail::params_to_query_str(params);
    auto r = http_.Post(path, with_cookies(std::move(extra)), body, "application/x-www-form-urlencoded");
    keep(r);
    return r;
  }
  // Signs in through the form; the response to the form's POST.
  httplib::Result sign_in(const std::string& token, httplib::Headers extra = {}) {
    auto form = get("/login", extra);
    if (!form) return form;
    return post("/login", {{"csrf", csrf(form->body)}, {"token", token}}, extra);
  }
  static std::string csrf(const std::string& html) {
    std::smatch m;
    static const std::regex re(R"re(name="csrf" value="([0-9a-f]+)")re");
    return std::regex_search(html, m, re) ? m[1].str() : "";
  }
  std::string cookie(const std::string& name) { return jar_.count(name) ? jar_[name] : ""; }
  void set_cookie(const std::string& name, const std::string& value) { jar_[name] = value; }
  std::vector<std::string> set_cookie_headers;  // of the last response

 private:
  httplib::Headers with_cookies(httplib::Headers h) {
    std::string c;
    for (auto& [k, v] : jar_) c += (c.empty() ? "" : "; ") + k + "=" + v;
    if (!c.empty()) h.emplace("Cookie", c);
    return h;
  }
  void keep(const httplib::Result& r) {
    set_cookie_headers.clear();
    if (!r) return;
    for (auto it = r->headers.lower_bound("Set-Cookie"); it != r->headers.upper_bound("Set-Cookie"); ++it) {
      set_cookie_headers.push_back(it->second);
      std::string v = it->second.substr(0, it->second.find(';'));
      auto eq = v.find('=');
      std::string name = v.substr(0, eq), value = v.substr(eq + 1);
      if (value.empty() || it->second.find("Max-Age=0") != std::string::npos) {
        jar_.erase(name);
      } else {
        jar_[name] = value;
      }
    }
  }
  httplib::Client http_;
  std::map<std::string, std::string> jar_;
};

const char* kHostileCard =
    "---\nlicense: apache-2.0\ndatasets: [wikitext]\n---\n# Tiny model\n\n"
    "<script>alert('card')</script>\n\nText <img src=x onerror=alert(1)> more.\n\n"
    "[click me](javascript:alert(2)) and <a href=\"javascript:alert(3)\">raw</a>\n\n"
    "<iframe src=\"https://evil.example/\"></iframe>\n\n| metric | value |\n|---|---|\n| ppl | 12.5 |\n";

class WebUiTest : public hub::testing::LoopbackServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { start(8 * 3600); }
  void start(int64_t session_seconds) {
    make_test_dir("lv_web_" + GetParam() + "_");
    ServerOptions opt = hub::testing::test_server_options(dir_.string(), kAdminToken);
    if (GetParam() == "postgres") {
      auto& pg = hub::testing::TestPostgres::instance();
      if (!pg.started()) GTEST_SKIP() << "PostgreSQL web tests skipped: " << pg.reason();
      opt.catalog_url = pg.new_database_url();
      ASSERT_FALSE(opt.catalog_url.empty());
    }
    opt.web_session_seconds = session_seconds;
    options_ = opt;
    start_server(opt);
    api_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    admin_ = {{"Authorization", std::string("Bearer ") + kAdminToken}};
    alice_ = make_user("alice", "admin", &alice_token_id_);
    bob_ = make_user("bob", "read", nullptr);
    httplib::Headers a{{"Authorization", "Bearer " + alice_}};
    ASSERT_EQ(api_->Post("/api/repos/create", a, R"({"name":"secret","private":true})", "application/json")->status, 200);
    json add = json::array();
    for (auto& [path, content] : std::vector<std::pair<std::string, std::string>>{
             {"README.md", kHostileCard}, {"config.json", "{\"dim\": 64}"}, {"tiny.report.html", "<h1>Report</h1>"}}) {
      auto up = api_->Post("/api/lv/models/alice/secret/upload", a, content, "application/octet-stream");
      ASSERT_EQ(up->status, 200) << up->body;
      add.push_back({{"path", path}, {"sha256", crypto::sha256_hex(content)}, {"size", content.size()}});
    }
    auto c = api_->Post("/api/lv/models/alice/secret/commit/main", a, json{{"add", add}, {"message", "first"}}.dump(), "application/json");
    ASSERT_EQ(c->status, 200) << c->body;
  }
  std::string make_user(const std::string& name, const std::string& scopes, std::string* token_id) {
    EXPECT_EQ(api_->Post("/api/lv/users", admin_, json{{"name", name}}.dump(), "application/json")->status, 200);
    auto t = api_->Post("/api/lv/tokens", admin_, json{{"user", name}, {"scopes", scopes}, {"name", "web"}}.dump(), "application/json");
    json j = json::parse(t->body);
    if (token_id) *token_id = j["id"];
    return j["token"];
  }
  json grants() {
    auto r = api_->Get("/api/lv/models/alice/secret/grants", admin_);
    return json::parse(r->body);
  }
  std::string audit_text() { return api_->Get("/api/lv/audit/export", admin_)->body; }

  ServerOptions options_;
  std::unique_ptr<httplib::Client> api_;
  httplib::Headers admin_;
  std::string alice_, bob_, alice_token_id_;
};

TEST_P(WebUiTest, SignInStartsAnHttpOnlyLaxSessionAndEveryPageSendsSecurityHeaders) {
  Browser b(port_);
  auto form = b.get("/login");
  ASSERT_EQ(form->status, 200);
  EXPECT_EQ(form->get_header_value("Content-Security-Policy").rfind("default-src 'self'", 0), 0u);
  EXPECT_NE(form->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(form->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(form->get_header_value("X-Content-Type-Options"), "nosniff");
  auto in = b.post("/login", {{"csrf", Browser::csrf(form->body)}, {"token", alice_}});
  ASSERT_EQ(in->status, 303) << in->body;
  std::string session_cookie;
  for (auto& h : b.set_cookie_headers) {
    if (h.rfind("lv_session=", 0) == 0) session_cookie = h;
  }
  ASSERT_FALSE(session_cookie.empty());
  EXPECT_NE(session_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(session_cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(session_cookie.find("Secure"), std::string::npos);  // plain HTTP here
  EXPECT_EQ(b.cookie("lv_session").size(), 64u);
  auto home = b.get("/");
  EXPECT_NE(home->body.find("alice"), std::string::npos);
  EXPECT_NE(home->body.find("href=\"/alice/secret\""), std::string::npos);
  EXPECT_NE(audit_text().find("\"action\":\"auth.login\""), std::string::npos);

  Browser tls(port_);  // behind a TLS-terminating proxy the cookie is Secure
  ASSERT_EQ(tls.sign_in(alice_, {{"X-Forwarded-Proto", "https"}})->status, 303);
  bool secure = false;
  for (auto& h : tls.set_cookie_headers) secure |= h.rfind("lv_session=", 0) == 0 && h.find("; Secure") != std::string::npos;
  EXPECT_TRUE(secure);
}

TEST_P(WebUiTest, SignInFailsWithABadTokenOrWithoutTheFormsToken) {
  Browser b(port_);
  auto bad = b.sign_in("hf_lv_not_a_token");
  EXPECT_EQ(bad->status, 403);
  EXPECT_NE(bad->body.find("invalid token"), std::string::npos);
  EXPECT_TRUE(b.cookie("lv_session").empty());
  Browser forged(port_);  // a cross-site form cannot know the lv_login cookie
  auto r = forged.post("/login", {{"token", alice_}});
  EXPECT_EQ(r->status, 403);
  EXPECT_TRUE(forged.cookie("lv_session").empty());
}

TEST_P(WebUiTest, AFormPostWithoutItsCsrfTokenOrWithAnotherSessionsIsRefusedAndChangesNothing) {
  Browser alice(port_), other(port_);
  ASSERT_EQ(alice.sign_in(alice_)->status, 303);
  ASSERT_EQ(other.sign_in(alice_)->status, 303);  // the same user, another session
  auto settings = alice.get("/alice/secret/settings");
  ASSERT_EQ(settings->status, 200) << settings->body;
  std::string mine = Browser::csrf(settings->body), theirs = Browser::csrf(other.get("/alice/secret/settings")->body);
  ASSERT_EQ(mine.size(), 64u);
  ASSERT_NE(mine, theirs);

  EXPECT_EQ(alice.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}})->status, 403);
  EXPECT_EQ(alice.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}, {"csrf", theirs}})->status, 403);
  EXPECT_EQ(alice.post("/alice/secret/settings/visibility", {{"visibility", "internal"}, {"csrf", ""}})->status, 403);
  EXPECT_EQ(alice.post("/logout", {})->status, 403);
  EXPECT_TRUE(grants().empty()) << grants();
  Browser bob(port_);
  ASSERT_EQ(bob.sign_in(bob_)->status, 303);
  EXPECT_EQ(bob.get("/alice/secret")->status, 404);  // still private

  auto ok = alice.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}, {"csrf", mine}});
  ASSERT_EQ(ok->status, 303) << ok->body;
  EXPECT_EQ(grants(), json::parse(R"([{"subject":"user:bob","role":"read"}])"));
  EXPECT_EQ(bob.get("/alice/secret")->status, 200);
  std::string trail = audit_text();
  EXPECT_NE(trail.find("\"action\":\"web.csrf\""), std::string::npos);
  EXPECT_NE(trail.find("\"action\":\"grant.set\""), std::string::npos);
}

// Another user's session with its own valid CSRF token, no session at all, an oversized body and
// a malformed form: each is refused and nothing changes.
TEST_P(WebUiTest, FormPostsFromOtherUsersStrangersOversizedOrMalformedChangeNothing) {
  Browser bob(port_), stranger(port_), alice(port_);
  ASSERT_EQ(bob.sign_in(bob_)->status, 303);
  const std::string bobs = Browser::csrf(bob.get("/settings/tokens")->body);
  ASSERT_EQ(bobs.size(), 64u);
  auto as_bob = bob.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "admin"}, {"csrf", bobs}});
  EXPECT_EQ(as_bob->status, 404);  // bob may not see the repository, so it is not there for him
  EXPECT_EQ(bob.post("/alice/secret/settings/visibility", {{"visibility", "public"}, {"csrf", bobs}})->status, 404);
  EXPECT_EQ(stranger.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}})->status, 401);

  ASSERT_EQ(alice.sign_in(alice_)->status, 303);
  const std::string mine = Browser::csrf(alice.get("/alice/secret/settings")->body);
  auto bad_role = alice.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "owner"}, {"csrf", mine}});
  EXPECT_GE(bad_role->status, 400);
  EXPECT_LT(bad_role->status, 500);
  auto no_subject = alice.post("/alice/secret/settings/grants", {{"role", "read"}, {"csrf", mine}});
  EXPECT_GE(no_subject->status, 400);
  EXPECT_LT(no_subject->status, 500);
  auto bad_visibility = alice.post("/alice/secret/settings/visibility", {{"visibility", "everyone"}, {"csrf", mine}});
  EXPECT_GE(bad_visibility->status, 400);
  EXPECT_LT(bad_visibility->status, 500);
  // A 5 MiB form is refused from its head: 413, and the connection closes with the body unread.
  testing::RawConn huge(port_);
  ASSERT_TRUE(huge.send("POST /alice/secret/settings/grants HTTP/1.1\r\nHost: x\r\nCookie: lv_session=" +
                        alice.cookie("lv_session") +
                        "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5242880\r\n\r\n"));
  bool closed = false;
  std::string answer = huge.read_until_close(3000, &closed);
  EXPECT_EQ(testing::status_of(answer), 413) << answer;
  EXPECT_TRUE(closed);

  EXPECT_TRUE(grants().empty()) << grants();
  auto info = api_->Get("/api/models/alice/secret", {{"Authorization", "Bearer " + alice_}});
  ASSERT_EQ(info->status, 200);
  EXPECT_EQ(json::parse(info->body)["private"], true);
}

TEST_P(WebUiTest, AHostileModelCardRendersInert) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  auto page = b.get("/alice/secret");
  ASSERT_EQ(page->status, 200) << page->body;
  const std::string& html = page->body;
  EXPECT_NE(html.find("<h1>Tiny model</h1>"), std::string::npos);
  EXPECT_NE(html.find("<td>12.5</td>"), std::string::npos);
  EXPECT_NE(html.find("apache-2.0"), std::string::npos);  // front matter in the side panel
  EXPECT_NE(html.find("wikitext"), std::string::npos);
  for (const char* bad : {"<script", "onerror", "javascript:", "evil.example", "alert("}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  }
  // The compression report: framed, sandboxed, with its own policy.
  EXPECT_NE(html.find("<iframe sandbox"), std::string::npos);
  auto c = json::parse(api_->Get("/api/models/alice/secret", {{"Authorization", "Bearer " + alice_}})->body)["sha"].get<std::string>();
  auto report = b.get("/alice/secret/report/" + c + "/tiny.report.html");
  ASSERT_EQ(report->status, 200);
  EXPECT_EQ(report->get_header_value("Content-Security-Policy").rfind("sandbox;", 0), 0u);
  EXPECT_EQ(report->body, "<h1>Report</h1>");
  // The raw README in the file view is escaped text.
  auto blob = b.get("/alice/secret/blob/main/README.md");
  ASSERT_EQ(blob->status, 200);
  EXPECT_EQ(blob->body.find("<script"), std::string::npos);
}

TEST_P(WebUiTest, APrivateModelsPagesAre404ToThoseWhoMayNotSeeIt) {
  Browser anonymous(port_), bob(port_);
  ASSERT_EQ(bob.sign_in(bob_)->status, 303);
  for (const char* path : {"/alice/secret", "/alice/secret/tree/main", "/alice/secret/blob/main/config.json",
                           "/alice/secret/commits/main", "/alice/secret/settings"}) {
    auto a = anonymous.get(path), b = bob.get(path), missing = bob.get(std::string(path).replace(7, 6, "nosuch"));
    EXPECT_EQ(a->status, 404) << path;
    EXPECT_EQ(b->status, 404) << path;
    EXPECT_EQ(missing->status, 404) << path;
    EXPECT_EQ(b->body.find("config.json"), std::string::npos) << path;
  }
  auto list = bob.get("/");
  EXPECT_EQ(list->body.find("secret"), std::string::npos);
  // A reader may look but not manage: settings are forbidden, not hidden, once the model is visible.
  Browser alice(port_);
  ASSERT_EQ(alice.sign_in(alice_)->status, 303);
  std::string csrf = Browser::csrf(alice.get("/alice/secret/settings")->body);
  ASSERT_EQ(alice.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}, {"csrf", csrf}})->status, 303);
  EXPECT_EQ(bob.get("/alice/secret")->status, 200);
  EXPECT_EQ(bob.get("/alice/secret/settings")->status, 403);
}

TEST_P(WebUiTest, FileViewsAreAuditedLikeDownloads) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  auto page = b.get("/alice/secret/blob/main/config.json");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("href=\"/alice/secret/resolve/main/config.json\""), std::string::npos);
  EXPECT_NE(page->body.find("{&quot;dim&quot;: 64}"), std::string::npos);
  std::string trail = audit_text();
  EXPECT_NE(trail.find("\"action\":\"model.download\""), std::string::npos);
  EXPECT_NE(trail.find("\"resource\":\"alice/secret/blob/main/config.json\""), std::string::npos);
  // The download link works with the session alone, and is audited by the API's own route.
  auto file = b.get("/alice/secret/resolve/main/config.json");
  ASSERT_EQ(file->status, 200);
  EXPECT_EQ(file->body, "{\"dim\": 64}");
}

TEST_P(WebUiTest, TheJsonApiNeverTakesTheSessionCookie) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  EXPECT_EQ(b.get("/api/whoami-v2")->status, 401);
  auto r = b.post("/api/repos/create", {{"name", "x"}});
  EXPECT_EQ(r->status, 401);
}

TEST_P(WebUiTest, SignOutEndsTheSessionOnTheServer) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  std::string id = b.cookie("lv_session");
  auto home = b.get("/");
  ASSERT_NE(home->body.find("Sign out"), std::string::npos);
  auto out = b.post("/logout", {{"csrf", Browser::csrf(home->body)}});
  ASSERT_EQ(out->status, 303);
  EXPECT_TRUE(b.cookie("lv_session").empty());
  b.set_cookie("lv_session", id);  // the old id, replayed
  auto again = b.get("/");
  EXPECT_EQ(again->body.find("Sign out"), std::string::npos);
  EXPECT_EQ(b.get("/alice/secret")->status, 404);
}

TEST_P(WebUiTest, ARevokedTokensSessionsEnd) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  ASSERT_EQ(b.get("/alice/secret")->status, 200);
  auto del = api_->Delete("/api/lv/tokens/" + alice_token_id_, admin_);
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(b.get("/alice/secret")->status, 404);
  EXPECT_EQ(b.get("/settings/tokens")->status, 303);  // to the sign-in page
  EXPECT_EQ(b.sign_in(alice_)->status, 403);
}

TEST_P(WebUiTest, TokensCreatedOnThePageAreShownOnceAndNoWiderThanTheSession) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(bob_)->status, 303);  // signed in with a read token
  std::string csrf = Browser::csrf(b.get("/settings/tokens")->body);
  auto wide = b.post("/settings/tokens", {{"csrf", csrf}, {"name", "ci"}, {"scopes", "write"}, {"expires_days", "30"}});
  EXPECT_EQ(wide->status, 403);
  auto made = b.post("/settings/tokens", {{"csrf", csrf}, {"name", "ci"}, {"scopes", "read"}, {"expires_days", "30"}});
  ASSERT_EQ(made->status, 200) << made->body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(made->body, m, std::regex("value=\"(hf_lv_[0-9a-f]+)\"")));
  std::string secret = m[1];
  auto list = b.get("/settings/tokens");
  EXPECT_EQ(list->body.find(secret), std::string::npos);  // shown once
  auto who = api_->Get("/api/whoami-v2", {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(who->status, 200);
}

TEST_P(WebUiTest, TheAuditPageIsForAdminsAndFilters) {
  Browser alice(port_), admin(port_);
  ASSERT_EQ(alice.sign_in(alice_)->status, 303);
  EXPECT_EQ(alice.get("/audit")->status, 403);
  ASSERT_EQ(admin.sign_in(kAdminToken)->status, 303);
  auto page = admin.get("/audit?action=repo.create");
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("Chain verified"), std::string::npos);
  EXPECT_NE(page->body.find("alice/secret"), std::string::npos);
  EXPECT_EQ(page->body.find("<code>model.upload</code>"), std::string::npos);
  auto jsonl = admin.get("/audit/export?action=repo.create");
  ASSERT_EQ(jsonl->status, 200);
  EXPECT_EQ(jsonl->get_header_value("Content-Type"), "application/x-ndjson");
  ASSERT_FALSE(jsonl->body.empty());
  EXPECT_EQ(json::parse(jsonl->body.substr(0, jsonl->body.find('\n')))["action"], "repo.create");
  auto paged = admin.get("/audit?before=3");
  ASSERT_EQ(paged->status, 200);
  EXPECT_NE(paged->body.find("<td class=\"num\" data-label=\"#\">2</td>"), std::string::npos);
  EXPECT_EQ(paged->body.find("<td class=\"num\" data-label=\"#\">3</td>"), std::string::npos);
}

class WebUiExpiryTest : public WebUiTest {
 protected:
  void SetUp() override { start(1); }
};

TEST_P(WebUiExpiryTest, SessionsExpire) {
  Browser b(port_);
  ASSERT_EQ(b.sign_in(alice_)->status, 303);
  ASSERT_EQ(b.get("/alice/secret")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(b.get("/alice/secret")->status, 404);
}

// Two replicas of the hub on one catalog and data folder, as behind a load balancer: a session
// started on one is live on the other, and ends on both.
TEST_P(WebUiTest, SessionsAreSharedByReplicasOfOneCatalog) {
  ServerOptions second = options_;
  second.admin_token = "";  // the admin exists already
  auto other = HubServer::open(second);
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto other_port = (*other)->start_background();
  ASSERT_TRUE(other_port.ok()) << other_port.error().message;

  Browser here(port_);
  ASSERT_EQ(here.sign_in(alice_)->status, 303);
  Browser there(*other_port);
  there.set_cookie("lv_session", here.cookie("lv_session"));
  auto page = there.get("/alice/secret/settings");
  ASSERT_EQ(page->status, 200) << page->body;
  // The form's CSRF token is the session's, so a form from one replica posts to the other.
  std::string csrf = Browser::csrf(page->body);
  EXPECT_EQ(csrf, Browser::csrf(here.get("/alice/secret/settings")->body));
  ASSERT_EQ(here.post("/alice/secret/settings/grants", {{"subject", "user:bob"}, {"role", "read"}, {"csrf", csrf}})->status, 303);
  EXPECT_EQ(grants(), json::parse(R"([{"subject":"user:bob","role":"read"}])"));

  ASSERT_EQ(there.post("/logout", {{"csrf", csrf}})->status, 303);  // signed out on the other
  EXPECT_EQ(here.get("/alice/secret")->status, 404);
  EXPECT_EQ(here.get("/")->body.find("Sign out"), std::string::npos);
  other->reset();
}

INSTANTIATE_TEST_SUITE_P(Backends, WebUiTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
INSTANTIATE_TEST_SUITE_P(Backends, WebUiExpiryTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub::web
