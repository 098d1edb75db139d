#include "lightvault/hub/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <istream>
#include <ostream>

#include "lightvault/hub/storage/blob_store_io.h"

namespace lv::hub {
namespace {

using nlohmann::json;

constexpr size_t kMaxLine = kMaxAuditLine;
constexpr int kMaxDepth = kMaxAuditDepth;
constexpr std::string_view kHeadContext = "lightvault audit head v1";

// Canonical serialization: sorted keys (nlohmann objects are std::map), compact, ASCII only;
// invalid UTF-8 is replaced by U+FFFD. Never throws.
std::string canonical(const json& j) {
  try {
    return j.dump(-1, ' ', true, json::error_handler_t::replace);
  } catch (const std::exception&) {
    return std::string();
  }
}

json entry_object(const AuditEntry& e) {
  json j = json::object();
  j["seq"] = e.seq;
  j["time"] = e.time;
  j["actor"] = e.actor;
  j["token_id"] = e.token_id;
  j["action"] = e.action;
  j["resource"] = e.resource;
  j["outcome"] = e.outcome;
  j["client"] = e.client;
  j["request_id"] = e.request_id;
  j["org"] = e.org;
  j["details"] = e.details.is_null() ? json::object() : e.details;
  return j;
}

crypto::Digest chain_mac(const crypto::Key256& key, const crypto::Digest& prev, std::string_view body) {
  crypto::HmacSha256 h(key);
  h.update(prev);
  h.update(crypto::as_bytes(body));
  return h.finish();
}

// Rejects JSON nested deeper than kMaxDepth (outside strings) before handing it to the parser.
bool depth_ok(std::string_view s) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool get_string(const json& j, const char* field, std::string& out) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_digest(const json& j, const char* field, crypto::Digest& out) {
  std::string s;
  if (!get_string(j, field, s) || s.size() != 64) return false;
  auto b = crypto::hex_decode(s);
  if (!b.ok()) return false;
  std::copy(b->begin(), b->end(), out.begin());
  return true;
}

// Nesting depth of a JSON value (a scalar is 0, {} or [] is 1), without recursion: the value may
// come from a request.
int json_depth(const json& root) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> todo{{&root, 1}};
  while (!todo.empty()) {
    auto [j, depth] = todo.back();
    todo.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, depth);
    for (const auto& child : *j) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

crypto::Digest head_sig(const crypto::Key256& key, int64_t seq, const crypto::Digest& mac) {
  crypto::HmacSha256 h(key);
  std::string prefix = std::string(kHeadContext) + '\0' + std::to_string(seq) + '\0';
  h.update(crypto::as_bytes(prefix));
  h.update(mac);
  return h.finish();
}

// An export's last line: {"head":{...signed head...}}.
bool is_head_line(std::string_view line) { return line.rfind("{\"head\":", 0) == 0; }

}  // namespace

Status check_audit_details(const json& details) {
  // The record line nests the details one level down.
  if (json_depth(details) > kMaxAuditDepth - 1) {
    return Error{"audit details nested deeper than " + std::to_string(kMaxAuditDepth - 1) + " levels"};
  }
  if (canonical(details).size() > kMaxAuditDetails) {
    return Error{"audit details larger than " + std::to_string(kMaxAuditDetails / 1024) + " KiB"};
  }
  return Status::Ok();
}

std::string signed_audit_head(const crypto::Key256& key, int64_t seq, const crypto::Digest& mac) {
  return canonical(json{{"seq", seq}, {"mac", crypto::hex_encode(mac)}, {"sig", crypto::hex_encode(head_sig(key, seq, mac))}});
}

Result<AuditHead> parse_signed_audit_head(const crypto::Key256& key, std::string_view text) {
  if (text.size() > 4096 || !depth_ok(text)) return Error{"signed head: not a head record"};
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"signed head: not a JSON object"};
  crypto::Digest mac{}, sig{};
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || seq->get<int64_t>() < 0) return Error{"signed head: missing or invalid \"seq\""};
  if (!get_digest(j, "mac", mac) || !get_digest(j, "sig", sig)) return Error{"signed head: missing or invalid \"mac\" or \"sig\""};
  AuditHead head{seq->get<int64_t>(), crypto::hex_encode(mac)};
  if (!crypto::ct_equal(head_sig(key, head.seq, mac), sig)) {
    return Error{"signed head (entry " + std::to_string(head.seq) + ") does not verify: forged, or signed with another audit key"};
  }
  return head;
}

const char* audit_problem_name(AuditProblem p) {
  switch (p) {
    case AuditProblem::kNone: return "ok";
    case AuditProblem::kMalformed: return "malformed";
    case AuditProblem::kChanged: return "changed";
    case AuditProblem::kRemoved: return "removed";
    case AuditProblem::kInserted: return "inserted";
    case AuditProblem::kReordered: return "reordered";
    case AuditProblem::kBroken: return "broken link";
    case AuditProblem::kTruncated: return "truncated";
    case AuditProblem::kHead: return "head";
  }
  return "unknown";
}

std::string rfc3339_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

std::string audit_record_line(const crypto::Key256& key, const AuditEntry& entry, const crypto::Digest& prev_mac,
                              crypto::Digest* mac_out) {
  json j = entry_object(entry);
  std::string body = canonical(j);
  crypto::Digest mac = chain_mac(key, prev_mac, body);
  if (mac_out) *mac_out = mac;
  j["mac"] = crypto::hex_encode(mac);
  j["prev_mac"] = crypto::hex_encode(prev_mac);
  return canonical(j);
}

Result<ParsedAuditLine> parse_audit_line(std::string_view line) {
  if (line.size() > kMaxLine) return Error{"line longer than 1 MiB"};
  if (!depth_ok(line)) return Error{"JSON nested deeper than 64 levels"};
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return Error{"not valid JSON"};
  if (!j.is_object()) return Error{"not a JSON object"};
  ParsedAuditLine p;
  if (!get_digest(j, "mac", p.mac)) return Error{"missing or invalid \"mac\" (64 hex digits)"};
  if (!get_digest(j, "prev_mac", p.prev_mac)) return Error{"missing or invalid \"prev_mac\" (64 hex digits)"};
  j.erase("mac");
  j.erase("prev_mac");
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer()) return Error{"missing or invalid \"seq\""};
  if (seq->is_number_unsigned()) {
    uint64_t u = seq->get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) return Error{"\"seq\" out of range"};
    p.entry.seq = static_cast<int64_t>(u);
  } else {
    p.entry.seq = seq->get<int64_t>();
  }
  if (p.entry.seq < 1) return Error{"\"seq\" must be >= 1"};
  struct Field {
    const char* name;
    std::string* out;
  } fields[] = {{"time", &p.entry.time},         {"actor", &p.entry.actor},   {"token_id", &p.entry.token_id},
                {"action", &p.entry.action},     {"resource", &p.entry.resource}, {"outcome", &p.entry.outcome},
                {"client", &p.entry.client},     {"request_id", &p.entry.request_id}, {"org", &p.entry.org}};
  for (const auto& f : fields)
    if (!get_string(j, f.name, *f.out)) return Error{std::string("missing or invalid \"") + f.name + "\""};
  auto details = j.find("details");
  if (details == j.end() || !details->is_object()) return Error{"missing or invalid \"details\" (object)"};
  p.entry.details = *details;
  p.canonical_body = canonical(j);
  if (p.canonical_body.empty()) return Error{"cannot serialize entry"};
  return p;
}

// ---------------------------------------------------------------------------------------------
// Verifier

AuditVerifier::AuditVerifier(const crypto::Key256& key, VerifyOptions options) : key_(key), opt_(std::move(options)) {
  if (opt_.first_seq < 1) opt_.first_seq = 1;
  if (opt_.require_complete) {
    expected_ = opt_.first_seq;
    have_prev_ = expected_ == 1;  // entry 1 links to 32 zero bytes
  }
}

void VerifyReport::add(AuditProblem p, int64_t seq, int64_t line, std::string text) {
  if (ok) {
    ok = false;
    problem = p;
    bad_seq = seq;
    bad_line = line;
    message = text;
  }
  if (issues.size() < kMaxIssues) {
    issues.push_back(AuditIssue{p, seq, line, std::move(text)});
  } else {
    ++more_issues;
  }
}

void AuditVerifier::accept(int64_t seq, const crypto::Digest& mac) {
  prev_ = mac;
  have_prev_ = true;
  r_.last_seq = seq;
  r_.head_mac = crypto::hex_encode(mac);
  expected_ = seq + 1;
}

void AuditVerifier::settle_gap_as_removed() {
  const Pending g = *pending_;
  pending_.reset();
  issue(AuditProblem::kRemoved, expected_, g.line,
        "entry " + std::to_string(expected_) + (g.seq - 1 > expected_ ? "-" + std::to_string(g.seq - 1) : std::string()) +
            " removed: line " + std::to_string(g.line) + " holds entry " + std::to_string(g.seq));
  accept(g.seq, g.mac);
}

void AuditVerifier::feed(std::string_view line) {
  if (done_) return;
  ++line_no_;
  const std::string where = "line " + std::to_string(line_no_);
  if (head_line_seen_) {
    issue(AuditProblem::kMalformed, 0, line_no_, where + ": follows the signed head line, which ends an export");
    return;
  }
  if (is_head_line(line)) return head_line(line);
  auto parsed = parse_audit_line(line);
  if (!parsed.ok()) {
    if (pending_) settle_gap_as_removed();
    const int64_t at = expected_;
    issue(AuditProblem::kMalformed, at, line_no_,
          where + ": " + (at ? "entry " + std::to_string(at) + " is malformed: " : "malformed: ") + parsed.error().message);
    // It may have held entry `at` or been added: the next good entry decides, unlinked.
    after_malformed_ = true;
    have_prev_ = false;
    return;
  }
  ++r_.entries;
  const ParsedAuditLine& p = *parsed;
  entry(p, crypto::ct_equal(chain_mac(key_, p.prev_mac, p.canonical_body), p.mac), where);
}

void AuditVerifier::entry(const ParsedAuditLine& p, bool self_ok, const std::string& where) {
  const int64_t seq = p.entry.seq;
  if (pending_) {
    // The previous line skipped seqs [expected_, pending seq).
    if (self_ok && seq == expected_) {
      const Pending g = *pending_;
      pending_.reset();
      issue(AuditProblem::kReordered, expected_, g.line,
            "entry " + std::to_string(expected_) + " is out of order: it appears after entry " + std::to_string(g.seq) +
                " (" + where + ")");
      // Two neighbours swapped: continue after the later one.
      if (g.seq == seq + 1) {
        accept(g.seq, g.mac);
      } else {
        accept(seq, p.mac);
      }
      return;
    }
    settle_gap_as_removed();
  }
  if (expected_ == 0) {  // first entry of a filtered export
    expected_ = seq;
    have_prev_ = seq == 1;
    prev_ = crypto::Digest{};
    r_.first_seq = seq;
  }
  if (after_malformed_) {
    after_malformed_ = false;
    // The malformed line held entry expected_ (this is the next one) or was an extra line.
    if (opt_.require_complete && self_ok && seq == expected_ + 1) expected_ = seq;
  }
  if (!self_ok) {
    const int64_t at = opt_.require_complete ? expected_ : seq;
    issue(AuditProblem::kChanged, at, line_no_,
          "entry " + std::to_string(at) + " changed: its mac does not verify (" + where +
              (seq != at ? ", claims seq " + std::to_string(seq) : std::string()) + ")");
    // Its content changed, its stored mac maybe not: the next entry links to that mac.
    accept(at, p.mac);
    return;
  }
  if (seq < expected_) {
    issue(opt_.require_complete ? AuditProblem::kInserted : AuditProblem::kReordered, expected_, line_no_,
          "entry " + std::to_string(expected_) + ": found entry " + std::to_string(seq) + " again at " + where +
              " (inserted or replayed entry)");
    return;
  }
  if (seq > expected_) {
    if (opt_.require_complete) {
      pending_ = Pending{seq, line_no_, p.mac};
      return;
    }
    r_.gaps += seq - expected_;
    have_prev_ = false;
    expected_ = seq;
  }
  if (have_prev_ && !crypto::ct_equal(prev_, p.prev_mac)) {
    issue(AuditProblem::kBroken, seq, line_no_,
          "entry " + std::to_string(seq) + " does not link to entry " + std::to_string(seq - 1) + " (" + where +
              "): an entry before it was removed, inserted or changed");
  }
  accept(seq, p.mac);
}

void AuditVerifier::head_line(std::string_view line) {
  head_line_seen_ = true;
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  std::string inner = !j.is_discarded() && j.is_object() && j.size() == 1 ? canonical(j["head"]) : std::string();
  auto head = parse_signed_audit_head(key_, inner);
  if (!head.ok()) {
    issue(AuditProblem::kHead, 0, line_no_, "line " + std::to_string(line_no_) + ": " + head.error().message);
    return;
  }
  set_head(*head);
}

void AuditVerifier::set_head(const AuditHead& head) { head_ = head; }

VerifyReport AuditVerifier::finish() {
  if (done_) return r_;
  done_ = true;
  if (pending_) settle_gap_as_removed();
  const int64_t end_line = line_no_ + 1;
  std::optional<int64_t> want;
  std::string want_mac;
  if (head_) {
    want = head_->seq;
    want_mac = head_->mac;
  } else if (opt_.expected_last_seq > 0) {
    want = opt_.expected_last_seq;
    want_mac = opt_.expected_head_mac;
  } else if (opt_.require_signed_head) {
    issue(AuditProblem::kTruncated, r_.last_seq + 1, end_line,
          "no signed head after entry " + std::to_string(r_.last_seq) +
              ": the newest entries may have been removed (an export that was cut short, or written before "
              "lightvault signed its exports)");
  }
  if (want && opt_.require_complete && r_.last_seq < *want) {
    issue(AuditProblem::kTruncated, r_.last_seq + 1, end_line,
          "entry " + std::to_string(r_.last_seq + 1) + (*want > r_.last_seq + 1 ? "-" + std::to_string(*want) : std::string()) +
              " removed: the chain ends at entry " + std::to_string(r_.last_seq) + " but entry " + std::to_string(*want) +
              " was written (truncated)");
  } else if (want && r_.last_seq > *want) {
    issue(AuditProblem::kHead, *want, end_line,
          "the signed head names entry " + std::to_string(*want) + " but the chain goes on to entry " +
              std::to_string(r_.last_seq) + " (the head was rolled back, or entries were added without the key)");
  } else if (want && *want > 0 && r_.last_seq == *want && !want_mac.empty() && r_.head_mac != want_mac) {
    issue(AuditProblem::kTruncated, *want, end_line,
          "entry " + std::to_string(*want) + " is not the entry the signed head names (its mac differs)");
  }
  if (r_.ok && r_.entries == 0) r_.first_seq = 0;
  if (r_.ok && opt_.require_complete && r_.entries > 0) r_.first_seq = opt_.first_seq;
  if (r_.ok) r_.message = "ok: " + std::to_string(r_.entries) + " entries" +
                          (r_.entries ? " (" + std::to_string(r_.first_seq) + ".." + std::to_string(r_.last_seq) + ")"
                                      : std::string()) +
                          (r_.gaps ? ", " + std::to_string(r_.gaps) + " not included" : std::string());
  return r_;
}

VerifyReport verify_audit_export(const crypto::Key256& key, std::istream& in, const VerifyOptions& options) {
  AuditVerifier v(key, options);
  std::string line;
  line.reserve(4096);
  // Read line by line with a hard length limit (untrusted input).
  while (true) {
    line.clear();
    bool got = false, too_long = false;
    int c;
    while ((c = in.get()) != EOF) {
      got = true;
      if (c == '\n') break;
      if (line.size() >= kMaxLine) {
        too_long = true;
        continue;  // drain the rest of the line
      }
      line.push_back(static_cast<char>(c));
    }
    if (!got) break;
    if (too_long) line.assign(kMaxLine + 1, 'x');
    if (!line.empty() && line.back() == '\r') line.pop_back();
    v.feed(line);
  }
  return v.finish();
}

Result<VerifyReport> verify_audit_export_file(const crypto::Key256& key, const std::string& path,
                                              const VerifyOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open: " + std::strerror(errno)};
  VerifyReport r = verify_audit_export(key, in, options);
  if (!r.ok) r.message = path + ": " + r.message;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Audit key

Result<crypto::Key256> load_audit_key(const std::string& data_dir, bool create) {
  const std::string dir = data_dir + "/keys";
  const std::string path = dir + "/audit.key";
  crypto::Key256 key{};
  if (io::exists(path)) {
    LV_RETURN_IF_ERROR(io::check_private_file(path, "audit key file"));
    LV_ASSIGN_OR_RETURN(std::string text, io::read_file(path, 4096));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    auto b = crypto::hex_decode(text);
    crypto::secure_zero(text.data(), text.size());
    if (!b.ok() || b->size() != key.size()) return Error{path + ": audit key must be 64 hex digits"};
    std::copy(b->begin(), b->end(), key.begin());
    crypto::secure_zero(b->data(), b->size());
    return key;
  }
  if (!create) return Error{path + ": audit key file not found (is " + data_dir + " a lightvault data folder?)"};
  LV_ASSIGN_OR_RETURN(key, crypto::random_key());
  LV_RETURN_IF_ERROR(io::make_dirs(dir, 0700));
  std::string text = crypto::hex_encode(key) + "\n";
  Status st = io::write_file_atomic(path, text, 0600);
  crypto::secure_zero(text.data(), text.size());
  LV_RETURN_IF_ERROR(st);
  return key;
}

// ---------------------------------------------------------------------------------------------
// Stores

Result<std::optional<AuditRecord>> MemoryAuditStore::last() {
  std::lock_guard lock(mu_);
  if (records_.empty()) return std::optional<AuditRecord>();
  return std::optional<AuditRecord>(records_.back());
}

Status MemoryAuditStore::append(const AuditRecord& record) {
  std::lock_guard lock(mu_);
  for (const auto& r : records_)
    if (r.seq == record.seq) return Error{"audit entry " + std::to_string(record.seq) + " already exists"};
  records_.push_back(record);
  if (!record.head.empty()) head_ = record.head;
  return Status::Ok();
}

Result<std::optional<std::string>> MemoryAuditStore::head() {
  std::lock_guard lock(mu_);
  return head_;
}

Status MemoryAuditStore::scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) {
  std::vector<AuditRecord> copy;
  {
    std::lock_guard lock(mu_);
    copy = records_;
  }
  for (const auto& r : copy)
    if (r.seq >= from_seq && !visit(r)) break;
  return Status::Ok();
}

static int64_t line_seq(const std::string& line) {
  auto p = parse_audit_line(line);
  return p.ok() ? p->entry.seq : -1;
}

Result<std::unique_ptr<JsonlAuditStore>> JsonlAuditStore::open(const std::string& path) {
  std::unique_ptr<JsonlAuditStore> s(new JsonlAuditStore(path));
  s->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (s->fd_ < 0) return Error{path + ": open: " + io::errno_text()};
  LV_RETURN_IF_ERROR(s->scan(0, [&](const AuditRecord& r) {
    s->last_ = r;
    return true;
  }));
  return s;
}

JsonlAuditStore::~JsonlAuditStore() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::optional<AuditRecord>> JsonlAuditStore::last() {
  std::lock_guard lock(mu_);
  return last_;
}

Status JsonlAuditStore::append(const AuditRecord& record) {
  std::lock_guard lock(mu_);
  if (last_ && record.seq <= last_->seq)
    return Error{path_ + ": audit entry " + std::to_string(record.seq) + " already exists"};
  if (record.line.find('\n') != std::string::npos) return Error{path_ + ": audit line contains a newline"};
  std::string data = record.line + "\n";
  LV_RETURN_IF_ERROR(io::write_all(fd_, data.data(), data.size(), path_));
  if (::fsync(fd_) != 0) return Error{path_ + ": fsync: " + io::errno_text()};
  last_ = record;
  return Status::Ok();
}

Status JsonlAuditStore::scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Error{path_ + ": cannot open: " + std::strerror(errno)};
  std::string line;
  while (std::getline(in, line)) {
    AuditRecord r;
    r.seq = line_seq(line);
    if (r.seq >= 0 && r.seq < from_seq) continue;
    if (auto p = parse_audit_line(line); p.ok()) r.org = p->entry.org;
    r.line = std::move(line);
    if (!visit(r)) break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// AuditLog

AuditLog::AuditLog(const crypto::Key256& key, std::shared_ptr<AuditStore> store) : key_(key), store_(std::move(store)) {}

Result<AuditEntry> AuditLog::append(AuditEntry entry) {
  std::lock_guard lock(mu_);
  if (entry.time.empty()) entry.time = rfc3339_now();
  if (entry.details.is_null()) entry.details = json::object();
  if (!entry.details.is_object()) entry.details = json{{"value", entry.details}};
  LV_RETURN_IF_ERROR(check_audit_details(entry.details));
  Error last_error{"audit append failed"};
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!head_loaded_) {
      LV_ASSIGN_OR_RETURN(std::optional<AuditRecord> last, store_->last());
      if (last) {
        auto p = parse_audit_line(last->line);
        if (!p.ok())
          return Error{"audit chain head (entry " + std::to_string(last->seq) + ") is corrupt: " + p.error().message};
        head_seq_ = p->entry.seq;
        head_mac_ = p->mac;
      } else {
        head_seq_ = 0;
        head_mac_ = crypto::Digest{};
      }
      head_loaded_ = true;
    }
    entry.seq = head_seq_ + 1;
    crypto::Digest mac{};
    std::string line = audit_record_line(key_, entry, head_mac_, &mac);
    // What the verifier could not read never enters the chain (an over-long resource, say).
    auto stored = parse_audit_line(line);
    if (!stored.ok()) return Error{"audit entry refused: " + stored.error().message};
    Status st = store_->append(AuditRecord{entry.seq, entry.org, line, signed_audit_head(key_, entry.seq, mac)});
    if (st.ok()) {
      head_seq_ = entry.seq;
      head_mac_ = mac;
      max_appended_seq_ = std::max(max_appended_seq_, entry.seq);
      return stored->entry;  // as stored (after UTF-8 sanitizing)
    }
    last_error = st.error();
    head_loaded_ = false;
    // Only a seq conflict (someone else appended) is worth a retry.
    auto last = store_->last();
    if (!last.ok() || !*last || (*last)->seq < entry.seq) return last_error;
  }
  return last_error;
}

Result<VerifyReport> AuditLog::verify(VerifyOptions options) {
  {
    std::lock_guard lock(mu_);
    if (options.expected_last_seq == 0) options.expected_last_seq = max_appended_seq_;
  }
  AuditVerifier v(key_, options);
  std::optional<AuditIssue> head_issue;
  std::optional<std::string> head;
  if (store_->keeps_head()) {
    LV_ASSIGN_OR_RETURN(head, store_->head());
    if (head && *head != kUnsignedAuditHead) {
      auto parsed = parse_signed_audit_head(key_, *head);
      if (parsed.ok()) {
        v.set_head(*parsed);
      } else {
        head_issue = AuditIssue{AuditProblem::kHead, 0, 0, "the stored chain head: " + parsed.error().message};
      }
    }
  }
  LV_RETURN_IF_ERROR(store_->scan(options.first_seq, [&](const AuditRecord& r) {
    v.feed(r.line);
    return true;
  }));
  VerifyReport report = v.finish();
  if (store_->keeps_head() && !head && (report.entries > 0 || !report.ok)) {
    head_issue = AuditIssue{AuditProblem::kTruncated, report.last_seq + 1, 0,
                            "the stored chain head is missing: the newest entries may have been removed"};
  }
  if (head_issue) report.add(head_issue->problem, head_issue->seq, head_issue->line, head_issue->message);
  return report;
}

Result<int64_t> AuditLog::export_page(int64_t from_seq, int64_t to_seq, size_t max_bytes,
                                      const std::function<bool(const AuditRecord&)>& filter, std::string& out) {
  int64_t next = to_seq + 1;
  const size_t start = out.size();
  std::string last_line;  // entry to_seq, filtered out or not: the head is its mac
  LV_RETURN_IF_ERROR(store_->scan(from_seq, [&](const AuditRecord& r) {
    if (r.seq > to_seq) return false;
    if (out.size() - start >= max_bytes) {
      next = r.seq;
      return false;
    }
    if (!filter || filter(r)) out.append(r.line).push_back('\n');
    if (r.seq == to_seq) last_line = r.line;
    return true;
  }));
  if (next <= to_seq) return next;
  crypto::Digest mac{};
  if (to_seq > 0) {
    auto p = parse_audit_line(last_line);
    if (!p.ok()) return Error{"audit export: entry " + std::to_string(to_seq) + " is missing or malformed"};
    mac = p->mac;
  }
  out.append("{\"head\":").append(signed_audit_head(key_, to_seq, mac)).append("}\n");
  return next;
}

}  // namespace lv::hub
