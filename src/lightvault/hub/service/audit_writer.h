#pragma once
// Appends to the audit chain on behalf of the service layer: inside the transaction of the
// change it records, or alone. The chain's head is cached by the audit log; when the
// transaction that carried an append rolls back, the cached head is ahead of the stored chain,
// so the writer starts a fresh log that reloads it. Every use of the log happens under the
// catalog's lock (lock order: catalog, then audit log).
#include <functional>
#include <memory>

#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/catalog/catalog.h"
#include "lightvault/hub/audit/catalog_audit.h"
#include "lightvault/hub/storage/crypto.h"

namespace lv::hub {

class AuditWriter {
 public:
  AuditWriter(Catalog& catalog, const crypto::Key256& key);
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Appends `entry` in a transaction of its own.
  Status append(AuditEntry entry);
  // Runs `change` and appends the entry it fills in one transaction: both land or neither.
  // When `change` fails, nothing it did is committed and nothing is appended.
  Status in_transaction(const std::function<Status(AuditEntry& entry)>& change);
  // The live log, for verification and export (use it inside a catalog transaction).
  AuditLog& log() { return *log_; }

 private:
  void reset_head();

  Catalog& catalog_;
  crypto::Key256 key_{};
  std::shared_ptr<CatalogAuditStore> store_;
  std::unique_ptr<AuditLog> log_;
};

}  // namespace lv::hub
