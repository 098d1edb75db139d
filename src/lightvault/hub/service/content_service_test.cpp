// The content use cases without HTTP, on every catalog backend: error codes, the payload and
// its audit entry together, and the repository's tokenizer read from the blob store once (the
// engine's real loader, on a llama2.c tokenizer file the test writes).
#include "lightvault/hub/service/content_service.h"

#include <gtest/gtest.h>

#include <cstring>

#include "cli/hub_text_tokenizer.h"
#include "lightvault/hub/service/service_testutil.h"
#include "lightvault/mark/image_testing.h"

namespace lv::hub {
namespace {

using json = nlohmann::json;

// A llama2.c tokenizer file: <unk>, <s>, </s>, the 256 byte tokens, then `pieces` (with ' '
// for the SentencePiece space), scored so that longer pieces win.
std::string llama2c_tokenizer(const std::vector<std::string>& pieces) {
  std::string out;
  auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  int32_t max_len = 16;
  put(&max_len, 4);
  auto token = [&](const std::string& piece, float score) {
    int32_t len = static_cast<int32_t>(piece.size());
    put(&score, 4);
    put(&len, 4);
    out += piece;
  };
  token("<unk>", 0);
  token("<s>", 0);
  token("</s>", 0);
  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    token(hex, 0);
  }
  for (const auto& p : pieces) token(p, static_cast<float>(p.size()));
  return out;
}

class ContentServiceTest : public testing::ServiceBackendTest {
 protected:
  void SetUp() override {
    ServiceBackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    content_ = std::make_unique<ContentService>(*service_, *catalog_, *blobs_, *keyring_, *audit_,
                                                [this](const std::string& path, const std::string& name) {
                                                  loads_.push_back(name);
                                                  return cli::load_engine_text_tokenizer(path, name);
                                                });
    ASSERT_TRUE(service_->create_org(admin_, "acme", "").ok());
    ASSERT_TRUE(service_->create_repo(admin_, "acme", "m", Visibility::kPrivate).ok());
    ASSERT_TRUE(catalog_->create_user("bob").ok());
    bob_.who.user = *catalog_->find_user("bob").value();
    bob_.who.scopes = kScopeRead;
    bob_.client = "127.0.0.1:1";
  }

  void put_file(const std::string& path, const std::string& text) {
    auto repo = service_->begin_upload(admin_, "acme", "m", {});
    ASSERT_TRUE(repo.ok());
    auto up = service_->upload(admin_, *repo, {}, [&](const std::function<bool(const char*, size_t)>& sink) {
      return sink(text.data(), text.size());
    });
    ASSERT_TRUE(up.ok()) << up.error().message;
    CommitRequest req;
    req.add.push_back(FileEntry{path, up->sha256, up->size});
    ASSERT_TRUE(service_->create_commit(admin_, "acme", "m", std::move(req)).ok());
  }
  std::unique_ptr<ContentService> content_;
  std::vector<std::string> loads_;
  Caller bob_;
};

TEST_P(ContentServiceTest, ErrorCodes) {
  const std::string png = mark::encode_image(mark::test_images::synthetic_image(256, 192, 3)).value();
  EXPECT_EQ(content_->mark_image(Caller{}, {}, png).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(content_->detect(Caller{}, {}, png).error().code, ErrorCode::kUnauthenticated);
  ImageMarkRequest hidden;
  hidden.repo = "acme/m";
  EXPECT_EQ(content_->mark_image(bob_, hidden, png).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(content_->mark_image(bob_, {}, "GIF89a").error().code, ErrorCode::kInvalid);
  EXPECT_EQ(content_->detect(bob_, {}, std::string("\0\1\2", 3)).error().code, ErrorCode::kInvalid);
  EXPECT_EQ(content_->detect(bob_, {}, "").error().code, ErrorCode::kInvalid);
  EXPECT_EQ(content_->text_watermark_key(bob_, "acme").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(trail("content.mark").size(), 3u);  // every refusal audited
  for (auto& e : trail("content.mark")) EXPECT_EQ(e["outcome"], "denied");
}

TEST_P(ContentServiceTest, TheIssuedPayloadAndItsEntryLandTogether) {
  const std::string png = mark::encode_image(mark::test_images::synthetic_image(512, 384, 3)).value();
  ImageMarkRequest request;
  request.repo = "acme/m";
  request.payload = "00112233445566AA";
  auto marked = content_->mark_image(admin_, request, png);
  ASSERT_TRUE(marked.ok()) << marked.error().message;
  EXPECT_EQ(marked->payload, "00112233445566aa");
  EXPECT_EQ(marked->content_type, "image/png");
  auto row = PayloadRegistry(*catalog_).find("00112233445566aa").value();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->repo, "acme/m");
  EXPECT_EQ(row->output_sha256, crypto::sha256_hex(marked->bytes));
  auto entries = trail("content.mark");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["details"]["payload"], "00112233445566aa");
  EXPECT_EQ(entries[0]["org"], "acme");

  auto found = content_->detect(bob_, {}, marked->bytes);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->report["watermark"]["payload"], "00112233445566aa");
  EXPECT_TRUE(found->report["issued"].is_null());  // bob cannot read acme/m
  EXPECT_EQ(json::parse(found->body)["watermark"]["payload"], "00112233445566aa");
  auto own = content_->detect(admin_, {}, marked->bytes);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->report["issued"]["by"], "admin");
}

TEST_P(ContentServiceTest, TheRepositorysTokenizerIsReadOnceAndNamedInErrors) {
  const std::string text = "the cat sat on the mat and the dog sat on the log";
  DetectRequest request;
  request.repo = "acme/m";
  request.text = true;
  auto none = content_->detect(admin_, request, text);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no commit"), std::string::npos) << none.error().message;

  put_file("tokenizer.bin", "not a tokenizer");
  auto broken = content_->detect(admin_, request, text);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, ErrorCode::kInvalid);
  EXPECT_NE(broken.error().message.find("acme/m@"), std::string::npos) << broken.error().message;
  EXPECT_NE(broken.error().message.find(":tokenizer.bin"), std::string::npos) << broken.error().message;
  EXPECT_EQ(broken.error().message.find("/proc/"), std::string::npos) << broken.error().message;

  put_file("tokenizer.bin", llama2c_tokenizer({" the", " cat", " sat", " on", " mat", " and", " dog", " log", "at"}));
  for (int i = 0; i < 2; ++i) {
    auto d = content_->detect(admin_, request, text);
    ASSERT_TRUE(d.ok()) << d.error().message;
    const auto& t = d->report["text_watermark"];
    EXPECT_GT(t["tokens"].get<int64_t>(), 0);
    EXPECT_FALSE(t["found"].get<bool>());  // written without the key
  }
  EXPECT_EQ(loads_.size(), 2u);  // the broken file, then the good one once
  auto entries = trail("content.detect");
  ASSERT_FALSE(entries.empty());
  EXPECT_TRUE(entries.back()["details"].contains("z"));
  EXPECT_EQ(trail("org.watermark_key").size(), 0u);  // detection made the key without handing it out
  EXPECT_TRUE(entries[entries.size() - 2]["details"].value("key_created", false));
}

INSTANTIATE_TEST_SUITE_P(Backends, ContentServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace lv::hub
