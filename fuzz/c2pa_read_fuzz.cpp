// libFuzzer target: what `lightvault detect` does with an image's C2PA manifest (JPEG APP11
// packets or a PNG caBX chunk, JUMBF boxes, CBOR claims and assertions, the COSE signature
// and its X.509 chain), and the CBOR and JUMBF parsers on raw bytes. Every input must give a
// report or an error, never a crash.
#include <cstdint>
#include <string_view>

#include "lightvault/mark/c2pa.h"
#include "lightvault/mark/cbor.h"
#include "lightvault/mark/jumbf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto report = lv::mark::read_c2pa(bytes, "fuzz");
  if (report.ok()) {
    // A valid report must rest on every check having passed.
    if (report->valid && !(report->present && report->signature_valid && report->hash_binding_valid && report->assertion_hashes_valid)) {
      __builtin_trap();
    }
    (void)lv::mark::c2pa_report_json(*report).dump();
  }
  (void)lv::mark::cbor::decode(bytes, "fuzz");
  (void)lv::mark::parse_jumbf(bytes, "fuzz");
  return 0;
}
