#pragma once
// The audit chain's storage in the catalog (table `audit`): implements the audit log's
// AuditStore over SQLite or PostgreSQL. The primary key on seq makes a second writer's
// append with the same seq fail, so replicas sharing a catalog never fork the chain. The
// signed head is kept in the meta table (key "audit_head"), written with each entry.
#include "lightvault/hub/audit/audit_log.h"
#include "lightvault/hub/catalog/catalog.h"

namespace lv::hub {

class CatalogAuditStore final : public AuditStore {
 public:
  explicit CatalogAuditStore(Catalog& catalog) : catalog_(catalog) {}
  Result<std::optional<AuditRecord>> last() override;
  Status append(const AuditRecord& record) override;
  Status scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) override;
  bool keeps_head() const override { return true; }
  Result<std::optional<std::string>> head() override { return catalog_.get_meta(kAuditHeadMeta); }

 private:
  Catalog& catalog_;
};

}  // namespace lv::hub
