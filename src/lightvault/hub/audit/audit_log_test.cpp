#include "lightvault/hub/audit/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "lightvault/hub/storage/blob_store_testutil.h"

namespace lv::hub {
namespace {

using testing::TempDir;

AuditEntry event(int i) {
  AuditEntry e;
  e.actor = i % 3 ? "alice" : "bob";
  e.token_id = "tok_" + std::to_string(i);
  e.action = i % 2 ? "model.download" : "model.upload";
  e.resource = "acme/llama/resolve/main/model-" + std::to_string(i) + ".gguf";
  e.outcome = i % 5 == 4 ? kAuditDenied : kAuditAllowed;
  e.client = "127.0.0.1:5" + std::to_string(1000 + i);
  e.request_id = "req-" + std::to_string(i);
  e.org = i % 2 ? "acme" : "";
  e.details = {{"bytes", i * 1000}, {"range", "bytes=0-"}};
  return e;
}

struct Chain {
  crypto::Key256 key = crypto::random_key().value();
  std::shared_ptr<MemoryAuditStore> store = std::make_shared<MemoryAuditStore>();
  AuditLog log{key, store};
  explicit Chain(int n) {
    for (int i = 1; i <= n; ++i) EXPECT_TRUE(log.append(event(i)).ok());
  }
  VerifyReport verify() {
    // A fresh log (no memory of what was appended), as `audit verify` has.
    AuditLog fresh(key, store);
    auto r = fresh.verify();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : VerifyReport{};
  }
  std::vector<AuditRecord>& recs() { return store->records(); }
};

TEST(AuditLog, AppendAssignsSeqTimeAndVerifies) {
  Chain c(10);
  auto r = c.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 10);
  EXPECT_EQ(r.first_seq, 1);
  EXPECT_EQ(r.last_seq, 10);
  ASSERT_EQ(c.recs().size(), 10u);
  auto p = parse_audit_line(c.recs()[3].line).value();
  EXPECT_EQ(p.entry.seq, 4);
  EXPECT_EQ(p.entry.actor, "alice");
  EXPECT_EQ(p.entry.details["bytes"], 4000);
  EXPECT_EQ(p.entry.time.size(), 24u);  // 2025-01-31T12:34:56.789Z
  EXPECT_EQ(p.entry.time.back(), 'Z');
  EXPECT_EQ(c.recs()[3].org, "");
  EXPECT_EQ(c.recs()[4].org, "acme");
  // Records are single canonical lines.
  for (const auto& rec : c.recs()) EXPECT_EQ(rec.line.find('\n'), std::string::npos);
  auto self = c.log.verify();
  ASSERT_TRUE(self.ok());
  EXPECT_TRUE(self->ok);
}

TEST(AuditLog, ModifiedEntryNamesItsSeq) {
  Chain c(10);
  auto j = nlohmann::json::parse(c.recs()[6].line);
  j["actor"] = "mallory";
  c.recs()[6].line = j.dump();
  auto r = c.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, AuditProblem::kChanged);
  EXPECT_EQ(r.bad_seq, 7);
  EXPECT_NE(r.message.find("entry 7"), std::string::npos) << r.message;
}

TEST(AuditLog, ModifiedMacOrDetailsDetected) {
  Chain c(5);
  auto j = nlohmann::json::parse(c.recs()[1].line);
  j["details"]["bytes"] = 1;
  c.recs()[1].line = j.dump();
  EXPECT_EQ(c.verify().bad_seq, 2);
  Chain d(5);
  auto k = nlohmann::json::parse(d.recs()[2].line);
  std::string mac = k["mac"];
  mac[0] = mac[0] == '0' ? '1' : '0';
  k["mac"] = mac;
  d.recs()[2].line = k.dump();
  auto r = d.verify();
  EXPECT_EQ(r.problem, AuditProblem::kChanged);
  EXPECT_EQ(r.bad_seq, 3);
}

TEST(AuditLog, DeletedEntryNamesItsSeq) {
  Chain c(10);
  c.recs().erase(c.recs().begin() + 4);  // seq 5
  auto r = c.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, AuditProblem::kRemoved);
  EXPECT_EQ(r.bad_seq, 5);
  EXPECT_NE(r.message.find("entry 5 removed"), std::string::npos) << r.message;

  Chain first(3);
  first.recs().erase(first.recs().begin());
  EXPECT_EQ(first.verify().bad_seq, 1);

  // Deleting the newest entry is caught by the log that wrote it (it remembers its head).
  Chain last(4);
  last.recs().pop_back();
  auto lr = last.log.verify();
  ASSERT_TRUE(lr.ok());
  EXPECT_FALSE(lr->ok);
  EXPECT_EQ(lr->problem, AuditProblem::kTruncated);
  EXPECT_EQ(lr->bad_seq, 4);
  VerifyOptions o;
  o.expected_last_seq = 4;
  AuditLog fresh(last.key, last.store);
  EXPECT_EQ(fresh.verify(o)->bad_seq, 4);
}

TEST(AuditLog, InsertedEntryNamesTheSeq) {
  {  // a forged entry (no key): its mac fails
    Chain c(6);
    AuditEntry forged = event(99);
    forged.seq = 4;
    crypto::Key256 other = crypto::random_key().value();
    auto prev = parse_audit_line(c.recs()[2].line).value().mac;
    c.recs().insert(c.recs().begin() + 3, AuditRecord{4, "", audit_record_line(other, forged, prev), ""});
    auto r = c.verify();
    EXPECT_EQ(r.problem, AuditProblem::kChanged);
    EXPECT_EQ(r.bad_seq, 4);
  }
  {  // a replayed authentic entry
    Chain c(6);
    c.recs().insert(c.recs().begin() + 4, c.recs()[1]);
    auto r = c.verify();
    EXPECT_EQ(r.problem, AuditProblem::kInserted);
    EXPECT_EQ(r.bad_seq, 5);
  }
}

TEST(AuditLog, SwappedEntriesNameTheFirst) {
  Chain c(8);
  std::swap(c.recs()[2], c.recs()[3]);  // seq 3 and 4
  auto r = c.verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.problem, AuditProblem::kReordered);
  EXPECT_EQ(r.bad_seq, 3);
  // A store that keeps the seq column but swaps the contents behaves the same.
  Chain d(8);
  std::swap(d.recs()[5].line, d.recs()[6].line);
  EXPECT_EQ(d.verify().bad_seq, 6);
}

TEST(AuditLog, WrongKeyFailsAtFirstEntry) {
  Chain c(3);
  AuditLog other(crypto::random_key().value(), c.store);
  auto r = other.verify();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bad_seq, 1);
  EXPECT_EQ(r->problem, AuditProblem::kChanged);
}

TEST(AuditLog, ConcurrentAppendsNeverFork) {
  Chain c(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.log.append(event(t * 100 + i)).ok());
    });
  for (auto& t : threads) t.join();
  auto r = c.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 400);
}

TEST(AuditLog, TwoProcessesSharingAStoreRetryOnConflict) {
  // Two AuditLogs over one store stand for two replicas sharing one catalog.
  Chain c(2);
  AuditLog replica(c.key, c.store);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c.log.append(event(i)).ok());
    ASSERT_TRUE(replica.append(event(i + 50)).ok());
  }
  auto r = c.verify();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 22);
}

TEST(AuditLog, UnicodeAndInvalidUtf8AreCanonical) {
  Chain c(0);
  AuditEntry e = event(1);
  e.actor = "zoë \xff\xfe bad";
  e.details = {{"note", "日本語"}, {"pi", 3.14159}, {"neg", -1}, {"nested", {{"a", {1, 2, 3}}}}};
  auto stored = c.log.append(e);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_NE(stored->actor.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
  for (unsigned char ch : c.recs()[0].line) EXPECT_LT(ch, 0x80);      // pure ASCII
  EXPECT_TRUE(c.verify().ok);
}

TEST(AuditLog, ExportJsonlRoundTripAndOfflineVerify) {
  TempDir t;
  Chain c(20);
  std::string path = t.path() + "/export.jsonl";
  {
    // In small pages, as the server streams it; equal to one page of everything.
    std::string paged, whole;
    int pages = 0;
    for (int64_t next = 1; next <= 20; ++pages) {
      auto n = c.log.export_page(next, 20, 1000, nullptr, paged);
      ASSERT_TRUE(n.ok());
      ASSERT_GT(*n, next);
      next = *n;
    }
    EXPECT_GT(pages, 2);
    auto all = c.log.export_page(1, 20, SIZE_MAX, nullptr, whole);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, 21);
    EXPECT_EQ(paged, whole);
    EXPECT_EQ(std::count(whole.begin(), whole.end(), '\n'), 21);  // and the signed head
    std::ofstream(path) << whole;
  }
  auto r = verify_audit_export_file(c.key, path);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(r->entries, 20);

  // Tamper with line 12 of the file.
  std::vector<std::string> lines;
  {
    std::ifstream in(path);
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  auto write_lines = [&](const std::vector<std::string>& ls) {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& l : ls) out << l << "\n";
  };
  auto changed = lines;
  changed[11].replace(changed[11].find("model-12"), 8, "model-13");
  write_lines(changed);
  r = verify_audit_export_file(c.key, path);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->bad_seq, 12);
  EXPECT_EQ(r->bad_line, 12);
  EXPECT_NE(r->message.find(path), std::string::npos);

  auto removed = lines;
  removed.erase(removed.begin() + 7);
  write_lines(removed);
  r = verify_audit_export_file(c.key, path);
  EXPECT_EQ(r->problem, AuditProblem::kRemoved);
  EXPECT_EQ(r->bad_seq, 8);

  auto swapped = lines;
  std::swap(swapped[0], swapped[1]);
  write_lines(swapped);
  r = verify_audit_export_file(c.key, path);
  EXPECT_EQ(r->problem, AuditProblem::kReordered);
  EXPECT_EQ(r->bad_seq, 1);

  auto garbage = lines;
  garbage[4] = "{not json";
  write_lines(garbage);
  r = verify_audit_export_file(c.key, path);
  EXPECT_EQ(r->problem, AuditProblem::kMalformed);
  EXPECT_EQ(r->bad_seq, 5);

  // Export with a CRLF and without the final newline still verifies.
  {
    std::ofstream out(path, std::ios::trunc);
    for (size_t i = 0; i < lines.size(); ++i) out << lines[i] << (i + 1 < lines.size() ? "\r\n" : "");
  }
  EXPECT_TRUE(verify_audit_export_file(c.key, path)->ok);
  EXPECT_FALSE(verify_audit_export_file(c.key, t.path() + "/missing.jsonl").ok());
}

TEST(AuditLog, FilteredExportVerifiesWithGaps) {
  Chain c(12);
  std::string lines;
  auto n = c.log.export_page(1, 12, SIZE_MAX, [](const AuditRecord& r) { return r.org == "acme"; }, lines);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 7);  // and the signed head
  std::stringstream ss(lines);
  VerifyOptions o;
  o.require_complete = false;
  std::stringstream copy(ss.str());
  auto r = verify_audit_export(c.key, copy, o);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.entries, 6);
  EXPECT_EQ(r.gaps, 5);  // 2,4,..,10 (12 is after the last exported entry)
  // As a complete export it fails, naming the first missing entry.
  std::stringstream copy2(ss.str());
  auto full = verify_audit_export(c.key, copy2);
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.bad_seq, 2);
  // A changed entry in a filtered export is still found.
  std::string text = ss.str();
  text.replace(text.find("alice"), 5, "alicf");
  std::stringstream bad(text);
  auto b = verify_audit_export(c.key, bad, o);
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(b.problem, AuditProblem::kChanged);
}

TEST(AuditLog, JsonlStorePersistsAndContinuesTheChain) {
  TempDir t;
  std::string path = t.path() + "/audit.jsonl";
  crypto::Key256 key = crypto::random_key().value();
  {
    auto s = JsonlAuditStore::open(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    AuditLog log(key, std::shared_ptr<AuditStore>(std::move(*s)));
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log.append(event(i)).ok());
  }
  {
    auto s = JsonlAuditStore::open(path).value();
    AuditLog log(key, std::shared_ptr<AuditStore>(std::move(s)));
    auto e = log.append(event(6));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->seq, 6);
    auto r = log.verify();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->ok) << r->message;
    EXPECT_EQ(r->entries, 6);
  }
  // The store file is itself a valid export.
  auto r = verify_audit_export_file(key, path);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(r->entries, 6);
}

TEST(AuditLog, AuditKeyFileIsCreated0600AndChecked) {
  TempDir t;
  EXPECT_FALSE(load_audit_key(t.path(), false).ok());
  auto k = load_audit_key(t.path(), true);
  ASSERT_TRUE(k.ok()) << k.error().message;
  std::string path = t.path() + "/keys/audit.key";
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_audit_key(t.path(), false).value(), *k);
  ::chmod(path.c_str(), 0644);
  auto bad = load_audit_key(t.path(), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(path), std::string::npos);
  EXPECT_NE(bad.error().message.find("0600"), std::string::npos);
}

TEST(AuditLog, ParseRejectsHostileLines) {
  EXPECT_FALSE(parse_audit_line("").ok());
  EXPECT_FALSE(parse_audit_line("[]").ok());
  EXPECT_FALSE(parse_audit_line(std::string(100000, '[')).ok());
  EXPECT_FALSE(parse_audit_line("{\"seq\":1e400}").ok());
  std::string mac(64, '0');
  std::string base = "{\"mac\":\"" + mac + "\",\"prev_mac\":\"" + mac +
                     "\",\"seq\":1,\"time\":\"\",\"actor\":\"\",\"token_id\":\"\",\"action\":\"\",\"resource\":\"\","
                     "\"outcome\":\"\",\"client\":\"\",\"request_id\":\"\",\"org\":\"\",\"details\":{}}";
  EXPECT_TRUE(parse_audit_line(base).ok());
  std::string neg = base;
  neg.replace(neg.find("\"seq\":1"), 7, "\"seq\":-1");
  EXPECT_FALSE(parse_audit_line(neg).ok());
  std::string big = base;
  big.replace(big.find("\"seq\":1"), 7, "\"seq\":18446744073709551615");
  EXPECT_FALSE(parse_audit_line(big).ok());
  std::string nodetails = base;
  nodetails.replace(nodetails.find("\"details\":{}"), 12, "\"details\":[]");
  EXPECT_FALSE(parse_audit_line(nodetails).ok());
}

}  // namespace
}  // namespace lv::hub
