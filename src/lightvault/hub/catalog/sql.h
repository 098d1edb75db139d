#pragma once
// A minimal SQL connection interface that the catalog is written against, so the same
// catalog logic runs on SQLite (embedded, default) and PostgreSQL (shared by replicas).
// Statements use `?1, ?2, ...` placeholders; the PostgreSQL driver rewrites them to `$1`.
// Values travel as text (integers are formatted), which both engines accept.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lightvault/util/status.h"

namespace lv::hub {

using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t changes = 0;  // rows inserted/updated/deleted by the statement
};

enum class SqlDialect { kSqlite, kPostgres };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs one statement with bound parameters.
  virtual Result<SqlResult> exec(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // Runs several statements without parameters (schema migrations).
  virtual Status exec_script(const std::string& sql) = 0;
  // Where the connection points, for error messages ("catalog.db", "postgresql://host/db").
  virtual std::string describe() const = 0;
};

// Opens DIR/catalog.db (created if missing) in WAL mode with foreign keys on.
Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path);
// Opens a libpq connection string / URL (postgresql://...).
Result<std::unique_ptr<SqlConnection>> open_postgres(const std::string& url);

}  // namespace lv::hub
