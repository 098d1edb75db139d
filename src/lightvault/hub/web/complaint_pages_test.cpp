// The complaint pages: their HTML (escaped, overdue flagged, answer forms only on open
// complaints), and over real HTTP the public form without JavaScript or an account (its
// double-submit token, the receipt, the status link), a hidden repository as 404, and the
// administrators' page answering a complaint with the session's CSRF token.
#include "lightvault/hub/web/complaint_pages.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <regex>

#include "lightvault/hub/http/http_server_testutil.h"

namespace lv::hub::web {
namespace {

using json = nlohmann::json;

constexpr const char* kAdminToken = "lvt_web_complaints_admin_0123456789abcdef";

Complaint sample(ComplaintStatus status, int64_t due_at) {
  Complaint c;
  c.id = "cmp_0123456789abcdef01234567";
  c.repo = "acme/model";
  c.subject = "<script>alert(1)</script>";
  c.text = "It answered \"x\" & more";
  c.status = status;
  c.received_at = due_at - kComplaintDeadlineSeconds;
  c.due_at = due_at;
  if (!c.open()) {
    c.closed_at = due_at - 10;
    c.resolution = "Fixed <b>now</b>";
    c.resolver = "admin";
  }
  return c;
}

TEST(ComplaintPages, EscapedOverdueFlaggedAndOnlyOpenOnesAnswerable) {
  Frame f;
  f.user = "admin";
  f.csrf = "feedc0de";
  ComplaintsView v;
  v.repo.owner = "acme";
  v.repo.name = "model";
  v.now = 1'000'000;
  v.complaints = {sample(ComplaintStatus::kReceived, v.now - 1), sample(ComplaintStatus::kResolved, v.now - 1)};
  std::string html = complaints_page(f, v);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Fixed &lt;b&gt;now&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("2 received · 1 open · 1 overdue"), std::string::npos) << html;
  // One overdue badge (the open one); one answer form; every form carries the session's token.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = html.find(needle); p != std::string::npos; p = html.find(needle, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("badge-private\">overdue"), 1u);
  EXPECT_EQ(count("value=\"resolved\""), 1u);
  EXPECT_EQ(count("value=\"acknowledged\""), 1u);
  EXPECT_EQ(count("name=\"csrf\" value=\"feedc0de\""), 4u);  // sign-out, channel, acknowledge, answer

  std::string form = complaint_form_page(f, v.repo, "token123", ComplaintFormValues{"a\"b", "</textarea><b>", ""});
  EXPECT_NE(form.find("value=\"a&quot;b\""), std::string::npos);
  EXPECT_NE(form.find("&lt;/textarea&gt;&lt;b&gt;"), std::string::npos);
  EXPECT_NE(form.find("action=\"/acme/model/complaints/new\""), std::string::npos);
}

// A browser without JavaScript: a cookie jar and url-encoded forms.
class Visitor {
 public:
  explicit Visitor(int port) : http_("127.0.0.1", port) {}
  httplib::Result get(const std::string& path) { return keep(http_.Get(path, cookies())); }
  httplib::Result post(const std::string& path, const std::map<std::string, std::string>& fields) {
    httplib::Params params(fields.begin(), fields.end());
    return keep(http_.Post(path, cookies(), httplib::detail::params_to_query_str(params), "application/x-www-form-urlencoded"));
  }
  static std::string field(const std::string& html, const std::string& name) {
    std::smatch m;
    std::regex re("name=\"" + name + "\" value=\"([^\"]*)\"");
    return std::regex_search(html, m, re) ? m[1].str() : "";
  }
  void forget(const std::string& cookie) { jar_.erase(cookie); }

 private:
  httplib::Headers cookies() {
    std::string c;
    for (auto& [k, v] : jar_) c += (c.empty() ? "" : "; ") + k + "=" + v;
    return c.empty() ? httplib::Headers{} : httplib::Headers{{"Cookie", c}};
  }
  httplib::Result keep(httplib::Result r) {
    if (!r) return r;
    for (auto it = r->headers.lower_bound("Set-Cookie"); it != r->headers.upper_bound("Set-Cookie"); ++it) {
      std::string v = it->second.substr(0, it->second.find(';'));
      auto eq = v.find('=');
      if (eq == std::string::npos || eq + 1 == v.size()) {
        jar_.erase(v.substr(0, eq));
      } else {
        jar_[v.substr(0, eq)] = v.substr(eq + 1);
      }
    }
    return r;
  }
  httplib::Client http_;
  std::map<std::string, std::string> jar_;
};

class ComplaintWebTest : public hub::testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    make_test_dir("lv_web_complaints_");
    start_server(hub::testing::test_server_options(dir_.string(), kAdminToken));
    api_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    httplib::Headers admin{{"Authorization", std::string("Bearer ") + kAdminToken}};
    ASSERT_EQ(api_->Post("/api/lv/orgs", admin, R"({"name":"acme"})", "application/json")->status, 200);
    for (const char* name : {"model", "hidden"}) {
      ASSERT_EQ(api_->Post("/api/repos/create", admin, json{{"name", name}, {"organization", "acme"}}.dump(), "application/json")->status, 200);
    }
    ASSERT_EQ(api_->Put("/api/lv/models/acme/model/complaints/channel", admin, R"({"public":true})", "application/json")->status, 200);
  }
  std::unique_ptr<httplib::Client> api_;
};

TEST_F(ComplaintWebTest, PublicFormReceiptStatusAndTheOwnersAnswer) {
  Visitor visitor(port_);
  EXPECT_EQ(visitor.get("/acme/hidden/complaints/new")->status, 404);
  EXPECT_EQ(visitor.get("/acme/nothing/complaints/new")->status, 404);
  auto form = visitor.get("/acme/model/complaints/new");
  ASSERT_EQ(form->status, 200);
  const std::string token = Visitor::field(form->body, "csrf");
  ASSERT_EQ(token.size(), 64u);
  std::map<std::string, std::string> fields{{"csrf", token}, {"subject", "Biased"}, {"text", "It ranked me lower."}, {"contact", ""}};

  // Without the cookie (a cross-site post) or with another token: refused, nothing stored.
  Visitor other(port_);
  EXPECT_EQ(other.post("/acme/model/complaints/new", fields)->status, 403);
  auto wrong = fields;
  wrong["csrf"] = std::string(64, 'a');
  EXPECT_EQ(visitor.post("/acme/model/complaints/new", wrong)->status, 403);
  auto blank = fields;
  blank["text"] = "   ";
  auto refused = visitor.post("/acme/model/complaints/new", blank);
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("text is empty"), std::string::npos);
  EXPECT_NE(refused->body.find("value=\"Biased\""), std::string::npos);  // what was typed stays

  fields["csrf"] = Visitor::field(refused->body, "csrf");  // the form came back with a new token
  auto receipt = visitor.post("/acme/model/complaints/new", fields);
  ASSERT_EQ(receipt->status, 200) << receipt->body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(receipt->body, m, std::regex(R"re(href="(/acme/model/complaints/(cmp_[0-9a-f]+)\?secret=([^"]+))")re")));
  const std::string status_link = m[1].str(), id = m[2].str();
  EXPECT_NE(receipt->body.find("72 hours"), std::string::npos);
  auto status = visitor.get(status_link);
  ASSERT_EQ(status->status, 200);
  EXPECT_NE(status->body.find(">received<"), std::string::npos);
  EXPECT_EQ(visitor.get("/acme/model/complaints/" + id + "?secret=lvc_x")->status, 404);
  // One form, one complaint: the token was spent.
  EXPECT_EQ(visitor.post("/acme/model/complaints/new", fields)->status, 403);

  // The owners' page: not for visitors; the admin answers with the session's token.
  EXPECT_EQ(visitor.get("/acme/model/complaints")->status, 404);
  Visitor admin(port_);
  auto login = admin.get("/login");
  ASSERT_EQ(admin.post("/login", {{"csrf", Visitor::field(login->body, "csrf")}, {"token", kAdminToken}})->status, 303);
  auto page = admin.get("/acme/model/complaints");
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("It ranked me lower."), std::string::npos);
  const std::string session_csrf = Visitor::field(page->body, "csrf");
  EXPECT_EQ(admin.post("/acme/model/complaints/" + id, {{"status", "resolved"}, {"resolution", "Re-ranked."}})->status, 403);
  auto answered = admin.post("/acme/model/complaints/" + id,
                             {{"csrf", session_csrf}, {"status", "resolved"}, {"resolution", "Re-ranked."}});
  ASSERT_EQ(answered->status, 303) << answered->body;
  auto after = visitor.get(status_link);
  EXPECT_NE(after->body.find(">resolved<"), std::string::npos);
  EXPECT_NE(after->body.find("Re-ranked."), std::string::npos);
}

}  // namespace
}  // namespace lv::hub::web
