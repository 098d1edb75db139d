// The compliance work end to end with the real `lightvault` binary: `serve` in a child process
// on loopback; `card check`, `push`, `admin policy`, `admin visibility`, `compliance report`
// (JSON, HTML, PDF) and `audit verify` as a user runs them; downloads over HTTP; complaint
// entries appended to the live chain through an AuditWriter on the same data folder, exactly
// as the complaint use cases write them.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/client/html_to_pdf.h"
#include "lightvault/hub/service/audit_writer.h"
#include "subprocess.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using lv::testing_support::Completed;
using lv::testing_support::read_all;
using lv::testing_support::run_lightvault;

const std::string kToken = "lvt_compliance_e2e_admin_0011223344556677";

const std::string kCardWithoutCleaning =
    "---\n"
    "license: apache-2.0\n"
    "datasets: [tinystories]\n"
    "intended_use: Short children's stories.\n"
    "limitations: English only.\n"
    "training_data:\n"
    "  sources:\n"
    "    - name: TinyStories\n"
    "      kind: synthetic stories\n"
    "      link: https://huggingface.co/datasets/roneneldan/TinyStories\n"
    "      license: cdla-sharing-1.0\n"
    "      time_span: 2023\n"
    "  personal_data:\n"
    "    present: no\n"
    "  copyright_opt_outs_respected: yes\n"
    "---\n"
    "# Stories\n";

class ComplianceEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lv_compliance_e2e_" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "model");
    port_ = lv::testing_support::free_loopback_port();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The CLI against the hub with the admin token, from the environment as users set it.
  Completed hub(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/env", "LIGHTVAULT_URL=" + url_, "LIGHTVAULT_TOKEN=" + kToken, LV_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return lv::testing_support::run_program(argv);
  }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

  // An entry as another use case of the hub writes it, appended to the live chain.
  void append(lv::hub::AuditWriter& audit, const std::string& action, json details, const std::string& time) {
    lv::hub::AuditEntry e;
    e.action = action;
    e.resource = "acme/m";
    e.org = "acme";
    e.outcome = lv::hub::kAuditAllowed;
    e.client = "127.0.0.1:9";
    e.time = time;
    e.details = std::move(details);
    ASSERT_TRUE(audit.append(std::move(e)).ok());
  }

  fs::path root_;
  int port_ = 0;
  std::string url_;
};

TEST_F(ComplianceEndToEnd, CardCheckExitCodes) {
  fs::path dir = root_ / "model";
  write(dir / "README.md", kCardWithoutCleaning);
  Completed r = run_lightvault({"card", "check", dir.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("missing: training_data.cleaning_methods\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 field missing"), std::string::npos) << r.out;
  r = run_lightvault({"card", "check", dir.string(), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(json::parse(r.out)["missing"], json({"training_data.cleaning_methods"}));

  std::string complete = kCardWithoutCleaning;
  complete.insert(complete.find("  personal_data"), "  cleaning_methods: [deduplication]\n");
  write(dir / "README.md", complete);
  r = run_lightvault({"card", "check", dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("complete"), std::string::npos);

  // Unreadable input: exit 2 with one line naming the file.
  r = run_lightvault({"card", "check", (root_ / "absent").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.last_err_line().rfind("error: " + (root_ / "absent").string() + ": ", 0), 0u) << r.err;
  write(dir / "README.md", "---\nlicense mit\n---\n");
  r = run_lightvault({"card", "check", dir.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.last_err_line(), "error: " + (dir / "README.md").string() + ": front matter line 2: expected 'key: value'");
}

TEST_F(ComplianceEndToEnd, PushPolicyReportAndTheChainHeadItNames) {
  fs::path dir = root_ / "model", data = root_ / "data";
  write(dir / "README.md", kCardWithoutCleaning);
  write(dir / "model.gguf", std::string(4096, 'w'));
  write(dir / "model.report.json",
        json{{"input", "stories260K.bin"},
             {"removed_heads", 4},
             {"total_heads", 40},
             {"before", {{"perplexity", 5.1}, {"top1_accuracy", 0.41}}},
             {"after", {{"perplexity", 5.3}, {"top1_accuracy", 0.4}, {"top1_agreement", 0.93}}}}
            .dump());
  lv::testing_support::ServeProcess serve(data.string(), port_, kToken, (root_ / "serve.log").string());
  ASSERT_TRUE(serve.start()) << read_all((root_ / "serve.log").string());

  ASSERT_EQ(hub({"admin", "org", "create", "acme"}).exit_code, 0);
  Completed r = hub({"push", dir.string(), "acme/m"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;  // an incomplete card is a note, not a refusal
  EXPECT_NE(r.out.find("model card incomplete, missing: training_data.cleaning_methods"), std::string::npos) << r.out;

  // The organization requires complete cards: making the model internal is refused (409).
  r = hub({"admin", "policy", "acme", "--require-card-complete", "on"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["require_card_complete"], true);
  r = hub({"admin", "visibility", "acme/m", "internal"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("409"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("training_data.cleaning_methods"), std::string::npos) << r.err;

  // Two downloads.
  httplib::Client http("127.0.0.1", port_);
  httplib::Headers auth = {{"Authorization", "Bearer " + kToken}};
  for (int i = 0; i < 2; ++i) {
    auto got = http.Get("/acme/m/resolve/main/model.gguf", auth);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200);
  }

  // Complaints as the complaint use cases record them, appended beside the running server:
  // c1 past its deadline, c2 resolved after 6 hours.
  {
    auto catalog = lv::hub::Catalog::open(data.string());
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    auto key = lv::hub::load_audit_key(data.string(), false);
    ASSERT_TRUE(key.ok()) << key.error().message;
    lv::hub::AuditWriter audit(**catalog, *key);
    append(audit, "complaint.receive", {{"id", "c1"}, {"due", "2026-01-04T00:00:00.000Z"}, {"subject", "wrong facts"}},
           "2026-01-01T00:00:00.000Z");
    append(audit, "complaint.receive", {{"id", "c2"}, {"due", "2026-01-04T00:00:00.000Z"}, {"subject", "copyright"}},
           "2026-01-01T00:00:00.000Z");
    append(audit, "complaint.resolve", {{"id", "c2"}, {"status", "resolved"}}, "2026-01-01T06:00:00.000Z");
  }

  fs::path json_path = root_ / "report.json";
  r = hub({"compliance", "report", "acme/m", "-o", json_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(read_all(json_path.string()));
  EXPECT_EQ(report["training_data"]["missing"], json({"training_data.cleaning_methods"}));
  EXPECT_EQ(report["audit"]["downloads"], 2);
  EXPECT_EQ(report["complaints"]["open"], 1);
  EXPECT_EQ(report["complaints"]["overdue"], 1);
  EXPECT_EQ(report["complaints"]["resolved"], 1);
  EXPECT_EQ(report["complaints"]["median_hours_to_resolve"], 6.0);
  EXPECT_EQ(report["evaluation"]["results"][0]["after"]["top1_agreement"], 0.93);
  EXPECT_EQ(report["access"]["policy"]["require_card_complete"], true);
  EXPECT_EQ(report["audit_chain"]["verified"], true);

  // The chain head the report names is the one `audit verify` finds right after it.
  r = run_lightvault({"audit", "verify", "--data", data.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string head_seq = std::to_string(report["audit_chain"]["head_seq"].get<int64_t>());
  EXPECT_NE(r.out.find(".." + head_seq + "), head " + report["audit_chain"]["head_mac"].get<std::string>()), std::string::npos)
      << r.out << "\n" << report["audit_chain"].dump();

  // The printable forms: the HTML document, the page, and a PDF where chromium is installed.
  fs::path html_path = root_ / "report.html";
  r = hub({"compliance", "report", "acme/m", "--format", "html", "-o", html_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = read_all(html_path.string());
  EXPECT_NE(html.find("<code>training_data.cleaning_methods</code>"), std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  auto page = http.Get("/acme/m/compliance", auth);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("class=\"cr-section\""), std::string::npos);
  auto repo_page = http.Get("/acme/m", auth);
  ASSERT_TRUE(repo_page);
  EXPECT_NE(repo_page->body.find("Training-data transparency"), std::string::npos);
  EXPECT_NE(repo_page->body.find("<code>training_data.cleaning_methods</code>"), std::string::npos);
  auto no_token = http.Get("/api/lv/models/acme/m/compliance");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  if (lv::hub::find_chromium().ok()) {
    fs::path pdf = root_ / "report.pdf";
    r = hub({"compliance", "report", "acme/m", "--format", "pdf", "-o", pdf.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_all(pdf.string()).substr(0, 5), "%PDF-");
  }
  r = hub({"compliance", "report", "acme/m", "--format", "pdf"});
  EXPECT_EQ(r.exit_code, 2);  // a PDF needs a file
  // Bad requests: a format the API does not make, a repository that does not exist.
  auto bad_format = http.Get("/api/lv/models/acme/m/compliance?format=pdf", auth);
  ASSERT_TRUE(bad_format);
  EXPECT_EQ(bad_format->status, 400);
  r = hub({"compliance", "report", "acme/nothing"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_err_line().find("404"), std::string::npos) << r.err;

  // With the cleaning methods stated, the model may be made internal.
  std::string complete = kCardWithoutCleaning;
  complete.insert(complete.find("  personal_data"), "  cleaning_methods: [deduplication]\n");
  write(dir / "README.md", complete);
  r = hub({"push", dir.string(), "acme/m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("model card incomplete"), std::string::npos) << r.out;
  r = hub({"admin", "visibility", "acme/m", "internal"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
