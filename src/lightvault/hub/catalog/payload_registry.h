#pragma once
// Every watermark payload the hub issued: who marked which bytes, when, and for which model
// repository, so that detection through the hub can answer "who made this image?". Rows are
// only ever added; a payload is issued once (a second issue of the same payload is refused,
// so nobody can claim another's mark by passing its payload).
//
// Each method is atomic; inside Catalog::transaction it joins that transaction, which is how a
// payload and the audit entry of its issue land together.
#include <cstdint>
#include <optional>
#include <string>

#include "lightvault/hub/catalog/catalog.h"

namespace lv::hub {

struct IssuedPayload {
  std::string payload;  // 16 lowercase hex digits
  int64_t issued_at = 0;  // unix seconds
  std::string actor;      // user name
  std::string token_id;   // the token it came through ("" for a local caller)
  std::string repo;       // "owner/name" the caller named, "" if none
  std::string input_sha256, output_sha256;
};

class PayloadRegistry {
 public:
  explicit PayloadRegistry(Catalog& catalog) : catalog_(catalog) {}

  // Records `issued`. Error (naming the payload) when it is malformed or was issued before;
  // `*duplicate` then says which of the two (so callers can answer a conflict).
  Status record(const IssuedPayload& issued, bool* duplicate = nullptr);
  // The record of `payload` (16 hex digits, either case); nullopt when the hub never issued it.
  Result<std::optional<IssuedPayload>> find(const std::string& payload);

 private:
  Catalog& catalog_;
};

}  // namespace lv::hub
