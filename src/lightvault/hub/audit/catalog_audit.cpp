#include "lightvault/hub/audit/catalog_audit.h"

namespace lv::hub {

Result<std::optional<AuditRecord>> CatalogAuditStore::last() {
  LV_ASSIGN_OR_RETURN(auto row, catalog_.last_audit());
  if (!row) return std::optional<AuditRecord>();
  return std::optional<AuditRecord>(AuditRecord{row->seq, row->org, row->json, ""});
}

Status CatalogAuditStore::append(const AuditRecord& record) {
  return catalog_.append_audit(AuditRow{record.seq, record.org, record.line, record.head});
}

Status CatalogAuditStore::scan(int64_t from_seq, const std::function<bool(const AuditRecord&)>& visit) {
  constexpr int64_t kPage = 1000;
  int64_t next = from_seq;
  for (;;) {
    LV_ASSIGN_OR_RETURN(auto rows, catalog_.audit_rows(next, kPage));
    for (auto& r : rows) {
      if (!visit(AuditRecord{r.seq, r.org, r.json, ""})) return Status::Ok();
      next = r.seq + 1;
    }
    if (static_cast<int64_t>(rows.size()) < kPage) return Status::Ok();
  }
}

}  // namespace lv::hub
