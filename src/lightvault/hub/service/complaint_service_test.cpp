// The complaint channel's use cases on every catalog backend, without HTTP: limits count
// characters of valid UTF-8 (not bytes), who may file and answer, the status machine, the
// complainant's secret, and the audit entries the compliance report reads.
#include "lightvault/hub/service/complaint_service.h"

#include <gtest/gtest.h>

#include "lightvault/hub/service/service_testutil.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

class ComplaintServiceTest : public testing::ServiceBackendTest {
 protected:
  void SetUp() override {
    ServiceBackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    complaints_ = std::make_unique<ComplaintService>(*catalog_, *audit_, *service_);
    ASSERT_TRUE(catalog_->create_user("alice").ok());
    ASSERT_TRUE(service_->create_repo(user("alice"), "alice", "model", Visibility::kPrivate).ok());
    ASSERT_TRUE(catalog_->create_user("bob").ok());
  }

  static Caller anonymous() { return Caller{Principal{}, "192.0.2.7:4000", "req-anon"}; }
  static ComplaintRequest request(std::string subject = "Wrong answer", std::string text = "It said the moon is cheese.") {
    return ComplaintRequest{"alice/model", std::move(subject), std::move(text), ""};
  }
  std::unique_ptr<ComplaintService> complaints_;
};

TEST(ComplaintText, FirstCharsCutsBetweenCodePoints) {
  EXPECT_EQ(first_chars("abc", 2), "ab");
  EXPECT_EQ(first_chars("生成式人工智能", 2), "生成");
  EXPECT_EQ(first_chars("😀x", 1), "😀");
  EXPECT_EQ(first_chars("", 5), "");
}

TEST_P(ComplaintServiceTest, OnlyReadersFileUntilTheChannelIsPublic) {
  auto hidden = complaints_->receive(anonymous(), request());
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  auto stranger = complaints_->receive(user("bob"), request());
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(stranger.error().message, hidden.error().message);  // nothing tells the two apart
  ComplaintRequest missing = request();
  missing.repo = "alice/none";
  EXPECT_EQ(complaints_->receive(anonymous(), missing).error().message, "repository alice/none not found");

  ASSERT_TRUE(complaints_->receive(user("alice"), request()).ok());  // a reader may
  auto denied = complaints_->set_public_channel(user("bob"), "alice", "model", true);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(complaints_->set_public_channel(user("alice"), "alice", "model", true).ok());
  auto filed = complaints_->receive(anonymous(), request());
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  EXPECT_EQ(filed->complaint.due_at - filed->complaint.received_at, kComplaintDeadlineSeconds);
  EXPECT_EQ(filed->complaint.complainant, "");
  EXPECT_EQ(trail("complaint.receive").size(), 5u);  // 3 denied, 2 allowed
  EXPECT_EQ(trail("complaint.channel").size(), 2u);   // bob's refusal, alice's change
}

TEST_P(ComplaintServiceTest, LimitsCountCharactersOfValidText) {
  ASSERT_TRUE(complaints_->set_public_channel(user("alice"), "alice", "model", true).ok());
  std::string cjk200;
  for (size_t i = 0; i < kMaxComplaintSubject; ++i) cjk200 += "诉";  // 600 bytes, 200 characters
  EXPECT_TRUE(complaints_->receive(anonymous(), request(cjk200)).ok());
  auto too_long = complaints_->receive(anonymous(), request(cjk200 + "诉"));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(too_long.error().message, "subject is 201 characters long (at most 200)");
  for (std::string bad : {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"),
                          std::string("trail\xe6\x88"), std::string("nul\0", 4), std::string("bell\a")}) {
    auto r = complaints_->receive(anonymous(), request("s", "text " + bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid) << bad;
  }
  EXPECT_EQ(complaints_->receive(anonymous(), request("two\nlines")).error().code, ErrorCode::kInvalid);
  EXPECT_TRUE(complaints_->receive(anonymous(), request("s", "two\r\nlines\tand a tab")).ok());
  EXPECT_EQ(complaints_->receive(anonymous(), request("   ")).error().code, ErrorCode::kInvalid);
  ComplaintRequest contact = request();
  contact.contact = std::string(kMaxComplaintContact + 1, 'c');
  EXPECT_EQ(complaints_->receive(anonymous(), contact).error().code, ErrorCode::kTooLarge);
  auto all = complaints_->list(user("alice"), {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(ComplaintServiceTest, StatusMachineAndTheComplainantsSecret) {
  ASSERT_TRUE(complaints_->set_public_channel(user("alice"), "alice", "model", true).ok());
  auto filed = complaints_->receive(anonymous(), request());
  ASSERT_TRUE(filed.ok());
  const std::string id = filed->complaint.id;
  EXPECT_TRUE(complaints_->status_for_complainant(id, filed->secret).ok());
  EXPECT_EQ(complaints_->status_for_complainant(id, "").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(complaints_->status_for_complainant(id, filed->secret + "x").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(complaints_->status_for_complainant("cmp_nothing", filed->secret).error().code, ErrorCode::kNotFound);

  // A read-only token of the owner may not answer; strangers and anonymous callers learn nothing.
  EXPECT_EQ(complaints_->decide(user("alice", kScopeRead), id, {"acknowledged", ""}).error().code, ErrorCode::kDenied);
  EXPECT_EQ(complaints_->decide(user("bob"), id, {"acknowledged", ""}).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(complaints_->decide(anonymous(), id, {"acknowledged", ""}).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(complaints_->decide(user("alice"), id, {"received", ""}).error().code, ErrorCode::kInvalid);
  auto ack = complaints_->decide(user("alice"), id, {"acknowledged", ""});
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_NE(ack->acknowledged_at, 0);
  EXPECT_EQ(complaints_->decide(user("alice"), id, {"acknowledged", ""}).error().code, ErrorCode::kConflict);
  EXPECT_EQ(complaints_->decide(user("alice"), id, {"rejected", " "}).error().code, ErrorCode::kInvalid);
  std::string long_answer(300, 'a');
  auto rejected = complaints_->decide(admin_, id, {"rejected", long_answer});
  ASSERT_TRUE(rejected.ok()) << rejected.error().message;
  EXPECT_EQ(rejected->resolver, "admin");
  EXPECT_EQ(complaints_->decide(user("alice"), id, {"resolved", "late"}).error().code, ErrorCode::kConflict);
  auto seen = complaints_->status_for_complainant(id, filed->secret);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->status, ComplaintStatus::kRejected);
  EXPECT_EQ(seen->resolution, long_answer);  // whole in the catalog

  auto entries = trail("complaint.reject");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["outcome"], "denied");  // the blank answer
  EXPECT_EQ(entries[0]["details"]["status"], 400);
  EXPECT_EQ(entries[1]["outcome"], "allowed");
  EXPECT_EQ(entries[1]["details"]["resolution"], std::string(200, 'a'));  // first 200 in the trail
  EXPECT_EQ(entries[1]["resource"], "alice/model");
  EXPECT_EQ(entries[1]["actor"], "admin");

  auto open = complaints_->list(user("alice"), ComplaintQuery{"", "open", false});
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  EXPECT_EQ(complaints_->list(user("alice"), ComplaintQuery{"", "pending", false}).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(complaints_->list(user("bob"), ComplaintQuery{"alice/model", "", false}).error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, ComplaintServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace lv::hub
