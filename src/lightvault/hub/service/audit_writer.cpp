#include "lightvault/hub/service/audit_writer.h"

namespace lv::hub {

AuditWriter::AuditWriter(Catalog& catalog, const crypto::Key256& key)
    : catalog_(catalog), key_(key), store_(std::make_shared<CatalogAuditStore>(catalog)),
      log_(std::make_unique<AuditLog>(key, store_)) {}

AuditWriter::~AuditWriter() { crypto::secure_zero(key_.data(), key_.size()); }

Status AuditWriter::append(AuditEntry entry) {
  return in_transaction([&](AuditEntry& e) -> Status {
    e = std::move(entry);
    return Status::Ok();
  });
}

Status AuditWriter::in_transaction(const std::function<Status(AuditEntry& entry)>& change) {
  bool appended = false;
  Status st = catalog_.transaction([&]() -> Status {
    AuditEntry entry;
    LV_RETURN_IF_ERROR(change(entry));
    auto r = log_->append(std::move(entry));
    if (!r.ok()) return r.error();
    appended = true;
    return Status::Ok();
  });
  if (!st.ok() && appended) reset_head();
  return st;
}

void AuditWriter::reset_head() {
  (void)catalog_.transaction([&]() -> Status {
    log_ = std::make_unique<AuditLog>(key_, store_);
    return Status::Ok();
  });
}

}  // namespace lv::hub
