// The compliance use cases on every catalog backend: the card check a commit carries, the
// organization policy that keeps incomplete cards private, and the report's figures, computed
// from audit entries appended here through the AuditWriter exactly as the complaint and
// content use cases write them.
#include <gtest/gtest.h>

#include "lightvault/hub/service/service_testutil.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

const std::string kCard =
    "---\n"
    "license: apache-2.0\n"
    "base_model: karpathy/tinyllamas\n"
    "datasets: [tinystories]\n"
    "intended_use: Children's bedtime stories.\n"
    "limitations: English only.\n"
    "training_data:\n"
    "  sources:\n"
    "    - name: TinyStories\n"
    "      kind: synthetic stories\n"
    "      link: https://huggingface.co/datasets/roneneldan/TinyStories\n"
    "      license: cdla-sharing-1.0\n"
    "      time_span: 2023\n"
    "  cleaning_methods: [deduplication]\n"
    "  personal_data:\n"
    "    present: no\n"
    "  copyright_opt_outs_respected: yes\n"
    "---\n"
    "# Stories\n";

// The card without its cleaning methods.
std::string card_without_cleaning() {
  std::string card = kCard;
  card.erase(card.find("  cleaning_methods"), std::string("  cleaning_methods: [deduplication]\n").size());
  return card;
}

class HubServiceComplianceTest : public testing::ServiceBackendTest {
 protected:
  void SetUp() override {
    ServiceBackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (const char* name : {"alice", "bob"}) ASSERT_TRUE(service_->create_user(admin_, name, false).ok());
  }

  // Uploads `files` (path -> text) and commits them on main as the whole tree.
  Outcome<CommitResult> commit(const Caller& who, const std::string& owner, const std::string& name,
                               const std::map<std::string, std::string>& files) {
    CommitRequest req;
    req.replace = true;
    for (auto& file : files) {
      const std::string& text = file.second;  // clang 14 lambdas cannot capture structured bindings
      auto r = service_->begin_upload(who, owner, name, {});
      if (!r.ok()) return r.error();
      auto up = service_->upload(who, *r, {}, [&](const std::function<bool(const char*, size_t)>& sink) {
        return sink(text.data(), text.size());
      });
      if (!up.ok()) return up.error();
      req.add.push_back(FileEntry{file.first, up->sha256, up->size});
    }
    return service_->create_commit(who, owner, name, req);
  }

  // An entry as another use case of the hub writes it, at a given time.
  void append(const std::string& action, const std::string& resource, json details, const std::string& time = "",
              const std::string& actor = "") {
    AuditEntry e;
    e.action = action;
    e.resource = resource;
    e.outcome = kAuditAllowed;
    e.actor = actor;
    e.client = "127.0.0.1:2";
    e.time = time;
    e.details = std::move(details);
    ASSERT_TRUE(audit_->append(std::move(e)).ok());
  }

  json last_entry() {
    auto last = catalog_->last_audit().value();
    return last ? json::parse(last->json) : json();
  }
};

TEST_P(HubServiceComplianceTest, ACommitCarriesItsCardCheck) {
  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m", Visibility::kPrivate).ok());
  auto bare = commit(alice, "alice", "m", {{"model.gguf", "weights"}});
  ASSERT_TRUE(bare.ok()) << bare.error().message;
  EXPECT_FALSE(bare->card.has_card);
  EXPECT_EQ(bare->card.missing.size(), 8u);  // every top-level field: there is no card

  auto partial = commit(alice, "alice", "m", {{"README.md", card_without_cleaning()}, {"model.gguf", "weights"}});
  ASSERT_TRUE(partial.ok()) << partial.error().message;  // not refused: no policy says so
  EXPECT_EQ(partial->card.missing, std::vector<std::string>{"training_data.cleaning_methods"});
  json entry = last_entry();
  EXPECT_EQ(entry["action"], "model.upload");
  EXPECT_EQ(entry["details"]["card_missing"], json({"training_data.cleaning_methods"}));

  auto broken = commit(alice, "alice", "m", {{"README.md", "---\nlicense mit\n---\n"}});
  ASSERT_TRUE(broken.ok());
  EXPECT_NE(broken->card.error.find("line 2"), std::string::npos) << broken->card.error;
  EXPECT_NE(last_entry()["details"]["card_error"].get<std::string>().find("line 2"), std::string::npos);

  auto full = commit(alice, "alice", "m", {{"README.md", kCard}});
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->card.complete());
  EXPECT_EQ(last_entry()["details"]["card_missing"], json::array());
}

TEST_P(HubServiceComplianceTest, PolicyKeepsIncompleteCardsOutOfInternal) {
  Caller alice = user("alice"), bob = user("bob");
  ASSERT_TRUE(service_->create_org(alice, "acme", "").ok());
  ASSERT_TRUE(service_->set_member(alice, "acme", "bob", "member").ok());
  ASSERT_TRUE(service_->create_repo(alice, "acme", "m", Visibility::kPrivate).ok());
  ASSERT_TRUE(commit(alice, "acme", "m", {{"README.md", card_without_cleaning()}}).ok());

  // Only an organization owner or admin sets the policy; members may read it.
  auto by_member = service_->set_org_policy(bob, "acme", OrgPolicy{true});
  ASSERT_FALSE(by_member.ok());
  EXPECT_EQ(by_member.error().code, ErrorCode::kDenied);
  EXPECT_EQ(last_entry()["outcome"], kAuditDenied);
  EXPECT_FALSE(service_->org_policy(bob, "acme")->require_card_complete);
  ASSERT_TRUE(service_->set_org_policy(alice, "acme", OrgPolicy{true}).ok());
  EXPECT_EQ(last_entry()["action"], "org.policy");
  EXPECT_TRUE(service_->org_policy(bob, "acme")->require_card_complete);
  EXPECT_EQ(service_->org_policy(user("bob"), "nope").error().code, ErrorCode::kNotFound);

  // Incomplete: refused as a conflict naming what is missing, audited, nothing changed.
  auto refused = service_->set_visibility(alice, "acme", "m", "internal");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("training_data.cleaning_methods"), std::string::npos) << refused.error().message;
  EXPECT_EQ(last_entry()["action"], "repo.settings");
  EXPECT_EQ(last_entry()["outcome"], kAuditDenied);
  EXPECT_EQ(catalog_->find_repo("acme", "m").value()->visibility, Visibility::kPrivate);
  // Private stays allowed whatever the card says.
  EXPECT_TRUE(service_->set_visibility(alice, "acme", "m", "private").ok());

  ASSERT_TRUE(commit(alice, "acme", "m", {{"README.md", kCard}}).ok());
  ASSERT_TRUE(service_->set_visibility(alice, "acme", "m", "internal").ok());
  // Internal now: a push that would leave the card incomplete is refused, and main stays.
  std::string head = catalog_->resolve(catalog_->find_repo("acme", "m").value()->id, "main").value()->id;
  auto pushed = commit(alice, "acme", "m", {{"README.md", card_without_cleaning()}});
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(pushed.error().code, ErrorCode::kConflict);
  EXPECT_EQ(catalog_->resolve(catalog_->find_repo("acme", "m").value()->id, "main").value()->id, head);

  // With the policy off, the same push goes through and carries its missing list.
  ASSERT_TRUE(service_->set_org_policy(alice, "acme", OrgPolicy{false}).ok());
  auto allowed = commit(alice, "acme", "m", {{"README.md", card_without_cleaning()}});
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->card.missing, std::vector<std::string>{"training_data.cleaning_methods"});
}

TEST_P(HubServiceComplianceTest, ReportFiguresComeFromTheTrailAndFiles) {
  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m", Visibility::kPrivate).ok());
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m2", Visibility::kPrivate).ok());
  json compression = {{"input", "/home/alice/models/stories260K.bin"},
                      {"importance", "ablation"},
                      {"quantization", "per-row"},
                      {"removed_heads", 4},
                      {"total_heads", 40},
                      {"before", {{"perplexity", 4.5}, {"top1_accuracy", 0.52}, {"parameters", 260000}}},
                      {"after", {{"perplexity", 4.9}, {"top1_accuracy", 0.5}, {"top1_agreement", 0.91}, {"parameters", 240000}}}};
  ASSERT_TRUE(commit(alice, "alice", "m",
                     {{"README.md", card_without_cleaning()},
                      {"model.gguf", "weights"},
                      {"model.report.json", compression.dump()},
                      {"model.eval.json", json{{"perplexity", 4.9}, {"top1_accuracy", 0.5}}.dump()},
                      {"broken.eval.json", "{not json"}})
                  .ok());

  // Two downloads, one page view, and entries of another repository whose name starts alike.
  append("model.download", "alice/m/resolve/main/model.gguf", {{"size", 7}}, "", "alice");
  append("model.download", "alice/m/resolve/main/model.gguf", {{"size", 7}}, "", "bob");
  append("model.download", "alice/m/blob/abc/README.md", {{"via", "web"}}, "", "alice");
  append("model.download", "alice/m2/resolve/main/model.gguf", {{"size", 7}}, "", "alice");
  append("model.deploy", "alice/m", {{"target", "prod-eu"}}, "", "alice");
  // Complaints as the complaint use cases write them: c1 overdue, c2 acknowledged and within
  // its deadline, c3 resolved after 10 hours, c4 rejected after 20 hours.
  append("complaint.receive", "alice/m", {{"id", "c1"}, {"due", "2020-01-04T00:00:00.000Z"}, {"subject", "s"}}, "2020-01-01T00:00:00.000Z");
  append("complaint.receive", "alice/m", {{"id", "c2"}, {"due", "2999-01-04T00:00:00.000Z"}, {"subject", "s"}}, "2020-01-01T00:00:00.000Z");
  append("complaint.acknowledge", "alice/m", {{"id", "c2"}, {"status", "acknowledged"}}, "2020-01-01T01:00:00.000Z");
  append("complaint.receive", "alice/m", {{"id", "c3"}, {"due", "2020-01-04T00:00:00.000Z"}, {"subject", "s"}}, "2020-01-01T00:00:00.000Z");
  append("complaint.resolve", "alice/m", {{"id", "c3"}, {"status", "resolved"}}, "2020-01-01T10:00:00.000Z");
  append("complaint.receive", "alice/m", {{"id", "c4"}, {"due", "2020-01-04T00:00:00.000Z"}, {"subject", "s"}}, "2020-01-01T00:00:00.000Z");
  append("complaint.reject", "alice/m", {{"id", "c4"}, {"status", "rejected"}}, "2020-01-01T20:00:00.000Z");
  append("complaint.receive", "alice/m2", {{"id", "x1"}, {"due", "2020-01-04T00:00:00.000Z"}, {"subject", "s"}}, "2020-01-01T00:00:00.000Z");
  for (int i = 0; i < 3; ++i) append("content.mark", "alice/m", {{"payload", "p" + std::to_string(i)}}, "", "alice");

  auto report = service_->compliance_report(alice, "alice", "m", "main");
  ASSERT_TRUE(report.ok()) << report.error().message;
  const json& r = *report;
  for (const char* key : {"model", "training_data", "evaluation", "labeling", "access", "audit", "complaints", "generated_at", "audit_chain"}) {
    EXPECT_TRUE(r.contains(key)) << key;
  }
  EXPECT_EQ(r["training_data"]["missing"], json({"training_data.cleaning_methods"}));
  EXPECT_EQ(r["audit"]["downloads"], 2);
  EXPECT_EQ(r["audit"]["page_views"], 1);
  EXPECT_EQ(r["audit"]["downloads_by_user"], json({{"alice", 1}, {"bob", 1}}));
  EXPECT_EQ(r["audit"]["deploys"][0]["target"], "prod-eu");
  EXPECT_EQ(r["complaints"]["received"], 4);
  EXPECT_EQ(r["complaints"]["open"], 2);
  EXPECT_EQ(r["complaints"]["overdue"], 1);
  EXPECT_EQ(r["complaints"]["overdue_ids"], json({"c1"}));
  EXPECT_EQ(r["complaints"]["acknowledged"], 1);
  EXPECT_EQ(r["complaints"]["resolved"], 1);
  EXPECT_EQ(r["complaints"]["rejected"], 1);
  EXPECT_DOUBLE_EQ(r["complaints"]["median_hours_to_resolve"].get<double>(), 15.0);
  EXPECT_EQ(r["labeling"]["marks_issued"], 3);
  EXPECT_EQ(r["labeling"]["marked_outputs"], true);
  // Figures from the revision's files.
  ASSERT_EQ(r["evaluation"]["results"].size(), 2u);
  EXPECT_EQ(r["evaluation"]["results"][0]["source"], "model.eval.json");
  EXPECT_EQ(r["evaluation"]["results"][1]["after"]["top1_agreement"], 0.91);
  EXPECT_EQ(r["evaluation"]["unreadable"][0]["source"], "broken.eval.json");
  EXPECT_EQ(r["model"]["weights"][0]["path"], "model.gguf");
  EXPECT_EQ(r["model"]["weights"][0]["sha256"], crypto::sha256_hex("weights"));
  EXPECT_EQ(r["model"]["lineage"][0]["base_model"], "karpathy/tinyllamas");
  EXPECT_EQ(r["model"]["lineage"][1]["removed_heads"], 4);
  EXPECT_EQ(r["model"]["lineage"][1]["input"], "stories260K.bin");  // the file name, not the compressing machine's path
  // The chain head the report names is the newest entry: the report's own.
  auto last = catalog_->last_audit().value();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(r["audit_chain"]["head_seq"], last->seq);
  EXPECT_EQ(r["audit_chain"]["head_mac"], json::parse(last->json)["mac"]);
  EXPECT_EQ(r["audit_chain"]["verified"], true);
  EXPECT_EQ(json::parse(last->json)["action"], "compliance.report");
  // Owner access is listed with its reason.
  bool owner_listed = false;
  for (auto& h : r["access"]["holders"]) owner_listed |= h["subject"] == "user:alice" && h["via"] == "owner";
  EXPECT_TRUE(owner_listed) << r["access"].dump();
}

TEST_P(HubServiceComplianceTest, ReportNeedsReadAccess) {
  Caller alice = user("alice");
  ASSERT_TRUE(service_->create_repo(alice, "alice", "m", Visibility::kPrivate).ok());
  ASSERT_TRUE(commit(alice, "alice", "m", {{"README.md", kCard}}).ok());
  auto hidden = service_->compliance_report(user("bob"), "alice", "m", "main");
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service_->compliance_report(Caller{}, "alice", "m", "main").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(service_->compliance_report(alice, "alice", "m", "nope").error().code, ErrorCode::kNotFound);
  auto ok = service_->compliance_report(alice, "alice", "m", "main");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["training_data"]["complete"], true);
  EXPECT_EQ((*ok)["training_data"]["missing"], json::array());
}

INSTANTIATE_TEST_SUITE_P(Backends, HubServiceComplianceTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub
