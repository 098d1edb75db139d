#pragma once
// Tamper-evident audit trail: an append-only HMAC hash chain.
//
// Each entry is serialized as one canonical JSON line (the "record line"), which is exactly what
// the store keeps and what `audit export` writes (JSON Lines):
//   {"action":..,"actor":..,"client":..,"details":{..},"mac":"<hex>","org":..,"outcome":..,
//    "prev_mac":"<hex>","request_id":..,"resource":..,"seq":N,"time":..,"token_id":..}
// Canonical JSON = nlohmann::json::dump() with sorted keys, no whitespace, ensure_ascii (pure
// ASCII output; invalid UTF-8 in inputs is replaced by U+FFFD at append time).
//   mac = HMAC-SHA256(audit_key, prev_mac_bytes(32) || canonical(entry object WITHOUT "mac"
//                     and "prev_mac", i.e. all other keys incl. seq))
// prev_mac of seq 1 is 32 zero bytes; prev_mac of seq n is mac of seq n-1. Seqs start at 1 and
// are contiguous. Because every line also carries its prev_mac, a verifier can tell an entry
// that was changed (its own mac fails) from one whose neighbour was removed/inserted/reordered.
//
// The audit key is per data folder: DIR/keys/audit.key, 64 hex digits, mode 0600 (refused
// otherwise), created on first start. It is kept in clear (not wrapped by the master key) so
// `lightvault audit verify --data DIR` works offline without the master key.
//
// The chain's head (the newest entry's seq and mac) is also kept apart from the entries, signed
// with the audit key: by stores that can (the catalog keeps it in its meta table, written in
// the same transaction as the entry), and as the last line of every export
// ({"head":{"mac":..,"seq":..,"sig":..}}). Whoever can delete the newest entries but does not
// hold the audit key cannot write a matching head, so the removal shows. Known limit: someone
// who saved an older signed head can roll the entries and the head back together; an export
// kept elsewhere shows that.
// A filtered export (e.g. an organization's entries only) is verified entry by entry plus
// linkage wherever consecutive seqs are present; removals inside such an export can only be
// detected against the full chain.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lightvault/hub/storage/crypto.h"
#include "lightvault/util/status.h"

namespace lv::hub {

// What an entry may carry, checked when it is written (AuditLog::append) so that nothing
// enters the chain that the verifier would refuse to read: the record line at most
// kMaxAuditLine bytes and kMaxAuditDepth levels deep (its details one level less), details at
// most kMaxAuditDetails bytes serialized.
inline constexpr size_t kMaxAuditLine = 1 << 20;
inline constexpr int kMaxAuditDepth = 64;
inline constexpr size_t kMaxAuditDetails = 256 * 1024;
// Ok, or an error saying which limit `details` exceeds ("audit details nested deeper than ...").
Status check_audit_details(const nlohmann::json& details);

// Outcome values.
inline constexpr const char* kAuditAllowed = "allowed";
inline constexpr const char* kAuditDenied = "denied";
inline constexpr const char* kAuditError = "error";

// One audit event. Fill everything but seq/time (assigned by AuditLog::append; time may be
// preset, e.g. by tests, as RFC3339 UTC "YYYY-MM-DDTHH:MM:SS.mmmZ").
struct AuditEntry {
  int64_t seq = 0;
  std::string time;
  std::string actor;       // user name, "" for anonymous
  std::string token_id;    // public token id ("tok_..."), "" if none
  std::string action;      // "model.download", "model.upload", "model.delete", "repo.create",
                           // "grant.add", "token.create", "model.finetune", "model.deploy", ...
  std::string resource;    // e.g. "acme/llama" or "acme/llama/resolve/main/model.gguf"
  std::string outcome;     // kAuditAllowed / kAuditDenied / kAuditError
  std::string client;      // client address "ip:port"
  std::string request_id;
  std::string org;         // organization owning the resource, "" if none (org-admin exports)
  nlohmann::json details = nlohmann::json::object();
};

// What a store keeps per entry. `line` is the full record line (entry + mac + prev_mac) and
// must be stored and returned byte-for-byte. `org` duplicates the entry's org for filtering.
// `head` is the signed chain head after this entry (set by AuditLog::append; see
// signed_audit_head); a store that keeps heads stores it in the same atomic step as the entry.
struct AuditRecord {
  int64_t seq = 0;
  std::string org;
  std::string line;
  std::string head;
};

// The storage the chain lives in. The API engineer implements it over the catalog (SQLite or
// PostgreSQL; e.g. table audit(seq BIGINT PRIMARY KEY, org TEXT, line TEXT)).
class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // The record with the highest seq, or nullopt when empty.
  virtual Result<std::optional<AuditRecord>> last() = 0;
  // Appends one record. MUST fail without storing anything if `seq` already exists (primary
  // key), so that two processes sharing a catalog never fork the chain: AuditLog then reloads
  // last() and retries.
  virtual Status append(const AuditRecord& record) = 0;
  // Visits records with seq >= from_seq in ascending seq order (in stored order for stores
  // without an index, like a JSONL file). `visit` returns false to stop early.
  virtual Status scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) = 0;
  // Whether the store keeps the signed head apart from the records (then verify requires it).
  virtual bool keeps_head() const { return false; }
  // The head stored with the newest append; nullopt when there is none. kUnsignedAuditHead
  // marks a chain written before heads were kept (the next append signs one).
  virtual Result<std::optional<std::string>> head() { return std::optional<std::string>(); }
};
inline constexpr const char* kUnsignedAuditHead = "unsigned";

// In-memory store (tests). Thread-safe. Keeps the head. `records()` gives direct access for
// tamper tests.
class MemoryAuditStore : public AuditStore {
 public:
  Result<std::optional<AuditRecord>> last() override;
  Status append(const AuditRecord& record) override;
  Status scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) override;
  bool keeps_head() const override { return true; }
  Result<std::optional<std::string>> head() override;
  std::vector<AuditRecord>& records() { return records_; }

 private:
  std::mutex mu_;
  std::vector<AuditRecord> records_;
  std::optional<std::string> head_;
};

// A JSON Lines file (one record line per line, the export format); appends are
// O_APPEND + fsync. scan() returns lines in file order with seq parsed from each line (a line
// that does not parse is reported with seq = -1 and the raw text, so verify names it).
class JsonlAuditStore : public AuditStore {
 public:
  static Result<std::unique_ptr<JsonlAuditStore>> open(const std::string& path);
  ~JsonlAuditStore() override;
  Result<std::optional<AuditRecord>> last() override;
  Status append(const AuditRecord& record) override;
  Status scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) override;

 private:
  explicit JsonlAuditStore(std::string path) : path_(std::move(path)) {}
  std::string path_;
  std::mutex mu_;
  int fd_ = -1;
  std::optional<AuditRecord> last_;
};

enum class AuditProblem {
  kNone,
  kMalformed,  // a line/record that is not a valid entry (bad JSON, missing field, bad mac hex)
  kChanged,    // the entry's own mac does not verify (content or mac altered, or forged)
  kRemoved,    // seq gap: entries missing
  kInserted,   // an authentic entry where it does not belong (duplicate/replayed seq)
  kReordered,  // entries out of seq order
  kBroken,     // entry authentic but its prev_mac does not link to its predecessor
  kTruncated,  // fewer entries than expected_last_seq / the signed head names; no signed head
  kHead,       // the signed head itself is wrong: forged, unreadable, or behind the chain
};
const char* audit_problem_name(AuditProblem p);

struct VerifyOptions {
  // Full chain: seqs must start at 1 (or at `first_seq`) and be contiguous. false for filtered
  // exports: gaps allowed (reported in `gaps`), each entry's mac and every contiguous link checked.
  bool require_complete = true;
  int64_t first_seq = 1;
  int64_t expected_last_seq = 0;   // 0 = unknown
  std::string expected_head_mac;   // "" = unknown
  // A signed head must be present (the store's head record, an export's last line); without
  // one, removal of the newest entries cannot be ruled out.
  bool require_signed_head = false;
};

struct AuditIssue {
  AuditProblem problem = AuditProblem::kNone;
  int64_t seq = 0;   // the entry where it shows (0: none in particular)
  int64_t line = 0;  // 1-based line/record index in the input (0: none in particular)
  std::string message;
};

struct VerifyReport {
  bool ok = true;
  // The first problem (the position where the chain breaks); every problem is in `issues`.
  AuditProblem problem = AuditProblem::kNone;
  int64_t bad_seq = 0;
  int64_t bad_line = 0;
  std::string message;      // e.g. "entry 7 changed: mac does not verify"; "ok: ..." when ok
  std::vector<AuditIssue> issues;  // in the order found, at most kMaxIssues
  int64_t more_issues = 0;         // found beyond kMaxIssues
  static constexpr size_t kMaxIssues = 1000;
  // Records a problem (the first one also fills problem, bad_seq, bad_line, message).
  void add(AuditProblem p, int64_t seq, int64_t line, std::string text);
  int64_t entries = 0;      // entries checked
  int64_t first_seq = 0, last_seq = 0;
  int64_t gaps = 0;         // missing seqs tolerated when !require_complete
  std::string head_mac;     // mac of the last good entry (hex)
};

// Computes the record line for `entry` (with entry.seq set) chained after `prev_mac`
// (32 bytes). Exposed for tests and tools.
std::string audit_record_line(const crypto::Key256& key, const AuditEntry& entry,
                              const crypto::Digest& prev_mac, crypto::Digest* mac_out = nullptr);

// Parses a record line (untrusted input: size and depth limited, never throws).
struct ParsedAuditLine {
  AuditEntry entry;
  crypto::Digest mac{};
  crypto::Digest prev_mac{};
  std::string canonical_body;  // canonical JSON the mac covers
};
Result<ParsedAuditLine> parse_audit_line(std::string_view line);

// The signed head of a chain whose newest entry is `seq` with `mac`: canonical JSON
// {"mac":"<hex>","seq":N,"sig":"<hex>"}, sig = HMAC-SHA256(key, "lightvault audit head v1\0"
// || decimal seq || "\0" || mac bytes).
std::string signed_audit_head(const crypto::Key256& key, int64_t seq, const crypto::Digest& mac);
struct AuditHead {
  int64_t seq = 0;
  std::string mac;  // hex
};
// Parses and authenticates a signed head (untrusted input); errors say what is wrong.
Result<AuditHead> parse_signed_audit_head(const crypto::Key256& key, std::string_view text);

// Incremental verifier over a sequence of record lines (used by AuditLog::verify and the
// export verifier; feed lines in order, then finish()). It reports every problem it finds and
// keeps going: after a malformed or changed entry it resynchronizes on the next good one. An
// export's last line, the signed head, is recognized and checked at finish().
class AuditVerifier {
 public:
  AuditVerifier(const crypto::Key256& key, VerifyOptions options);
  void feed(std::string_view line);
  // The chain's authenticated head (from the store): finish() checks the chain ends there.
  void set_head(const AuditHead& head);
  VerifyReport finish();

 private:
  struct Pending {  // an entry after a gap, decided on the next line (removed vs reordered)
    int64_t seq = 0, line = 0;
    crypto::Digest mac{};
  };
  void issue(AuditProblem p, int64_t seq, int64_t line, std::string message) { r_.add(p, seq, line, std::move(message)); }
  void entry(const ParsedAuditLine& p, bool self_ok, const std::string& where);
  void accept(int64_t seq, const crypto::Digest& mac);
  void settle_gap_as_removed();
  void head_line(std::string_view line);
  crypto::Key256 key_;
  VerifyOptions opt_;
  VerifyReport r_;
  int64_t line_no_ = 0;
  int64_t expected_ = 0;  // next expected seq, 0 until the first entry (for !require_complete)
  crypto::Digest prev_{};
  bool have_prev_ = false;
  bool after_malformed_ = false;
  std::optional<Pending> pending_;
  bool head_line_seen_ = false;
  std::optional<AuditHead> head_;
  bool done_ = false;
};

// Verifies a JSON Lines export offline (`lightvault audit verify --data DIR --file F`).
// Empty lines are not allowed except a trailing newline. Lines longer than 1 MiB are malformed.
VerifyReport verify_audit_export(const crypto::Key256& key, std::istream& in,
                                 const VerifyOptions& options = {});
Result<VerifyReport> verify_audit_export_file(const crypto::Key256& key, const std::string& path,
                                              const VerifyOptions& options = {});

// Loads DIR/keys/audit.key (mode 0600 enforced); creates it (RAND_bytes, 0600) when missing and
// `create` is true. Errors name the file.
Result<crypto::Key256> load_audit_key(const std::string& data_dir, bool create);

// Current time as RFC3339 UTC with milliseconds, "2025-01-31T12:34:56.789Z".
std::string rfc3339_now();

class AuditLog {
 public:
  AuditLog(const crypto::Key256& key, std::shared_ptr<AuditStore> store);

  // Assigns seq (last + 1) and time (if empty), computes the mac, and stores the record with
  // the new signed head. Refuses (stores nothing) an entry over the limits above.
  // Serialized by a mutex so concurrent requests never fork the chain; if the store reports a
  // seq conflict (another process appended), reloads the head and retries (up to 8 times).
  // Returns the stored entry (with seq and time).
  Result<AuditEntry> append(AuditEntry entry);

  // Verifies the whole stored chain against the store's signed head (when it keeps one). Also
  // reports kTruncated if this process has appended entries beyond what the store now holds.
  Result<VerifyReport> verify(VerifyOptions options = {});

  // One page of an export: appends to `out` the record lines (each ending in '\n'), in seq
  // order, of the entries with seq in [from_seq, to_seq] that `filter` accepts (all when it is
  // empty), stopping once this call has appended at least `max_bytes`. Returns the seq to continue from,
  // to_seq + 1 when the range is done; the page that completes the range ends with the signed
  // head of entry to_seq as its last line. Entries are never rewritten, so pages read at
  // different times make up one consistent export of [1, to_seq].
  Result<int64_t> export_page(int64_t from_seq, int64_t to_seq, size_t max_bytes,
                              const std::function<bool(const AuditRecord&)>& filter, std::string& out);

  AuditStore& store() { return *store_; }

 private:
  crypto::Key256 key_;
  std::shared_ptr<AuditStore> store_;
  std::mutex mu_;
  bool head_loaded_ = false;
  int64_t head_seq_ = 0;
  crypto::Digest head_mac_{};
  int64_t max_appended_seq_ = 0;
};

}  // namespace lv::hub
