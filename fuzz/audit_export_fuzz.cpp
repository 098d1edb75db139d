// libFuzzer target: an audit export (JSON Lines) is untrusted input handed to
// `lightvault audit verify --file`. Parsing and verifying must never crash, hang or leak, and
// canonical serialization must be a fixpoint (what we write, we read back identically).
//
//   clang++ -std=c++20 -Isrc -fsanitize=fuzzer,address,undefined fuzz/audit_export_fuzz.cpp \
//     src/lightvault/hub/{audit_log,crypto,blob_store_io}.cpp -lcrypto -o audit_export_fuzz
//   ./audit_export_fuzz -max_total_time=60 corpus/
// Seeds: valid exports made with the fixed key below (0x42 * 32) reach the mac/link checks.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "lightvault/hub/audit/audit_log.h"

namespace {

lv::hub::crypto::Key256 fuzz_key() {
  lv::hub::crypto::Key256 k;
  k.fill(0x42);
  return k;
}

void check_fixpoint(const lv::hub::crypto::Key256& key, std::string_view line) {
  auto p = lv::hub::parse_audit_line(line);
  if (!p.ok()) return;
  std::string line2 = lv::hub::audit_record_line(key, p->entry, p->prev_mac);
  auto p2 = lv::hub::parse_audit_line(line2);
  if (!p2.ok()) std::abort();  // we must be able to read what we write
  std::string line3 = lv::hub::audit_record_line(key, p2->entry, p2->prev_mac);
  if (line3 != line2) std::abort();  // canonical form is stable
  // A line we produced verifies as the first entry of a partial export (entry 1 must also
  // chain from the all-zero genesis mac).
  if (p2->entry.seq == 1 && p2->prev_mac != lv::hub::crypto::Digest{}) return;
  lv::hub::VerifyOptions o;
  o.require_complete = false;
  lv::hub::AuditVerifier v(key, o);
  v.feed(line2);
  if (!v.finish().ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lv::hub::crypto::Key256 key = fuzz_key();
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    std::istringstream in(text);
    (void)lv::hub::verify_audit_export(key, in);
  }
  {
    std::istringstream in(text);
    lv::hub::VerifyOptions o;
    o.require_complete = false;
    (void)lv::hub::verify_audit_export(key, in, o);
  }
  size_t start = 0, lines = 0;
  while (start <= text.size() && lines < 64) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start, (nl == std::string::npos ? text.size() : nl) - start);
    check_fixpoint(key, line);
    ++lines;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return 0;
}
