// PostgreSQL driver for the catalog (libpq), so several hub replicas share one catalog.
// Statements are written with `?N` placeholders and rewritten to `$N` here; values are
// sent as text. One connection per catalog object, used under the catalog's lock.
#include <libpq-fe.h>

#include <cctype>

#include "lightvault/hub/catalog/sql.h"

namespace lv::hub {
namespace {

std::string rewrite_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_string = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_string = !in_string;
    if (!in_string && c == '?' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out.push_back('$');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string redact(const std::string& url) {
  // postgresql://user:password@host/db -> postgresql://user:***@host/db
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

class PgConnection final : public SqlConnection {
 public:
  PgConnection(PGconn* conn, std::string url) : conn_(conn), url_(redact(url)) {}
  ~PgConnection() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  std::string describe() const override { return url_; }

  Result<SqlResult> exec(const std::string& sql, const std::vector<SqlValue>& params) override {
    LV_RETURN_IF_ERROR(ensure_connected());
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<std::monostate>(params[i])) continue;
      if (auto* v = std::get_if<int64_t>(&params[i])) {
        storage[i] = std::to_string(*v);
      } else {
        storage[i] = std::get<std::string>(params[i]);
      }
      values[i] = storage[i].c_str();
    }
    std::string text = rewrite_placeholders(sql);
    PGresult* res = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return make_error(url_, std::string("postgresql: ") + PQresultErrorMessage(res));
    }
    SqlResult result;
    int rows = PQntuples(res), cols = PQnfields(res);
    for (int r = 0; r < rows; ++r) {
      SqlRow row(cols);
      for (int c = 0; c < cols; ++c) {
        if (!PQgetisnull(res, r, c)) row[c] = std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c));
      }
      result.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(res);
    result.changes = (tuples && *tuples) ? std::stoll(tuples) : 0;
    return result;
  }

  Status exec_script(const std::string& sql) override {
    LV_RETURN_IF_ERROR(ensure_connected());
    PGresult* res = PQexec(conn_, sql.c_str());
    auto st = PQresultStatus(res);
    std::string msg = PQresultErrorMessage(res);
    PQclear(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return make_error(url_, "postgresql: " + msg);
    return Status::Ok();
  }

 private:
  Status ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) {
      return make_error(url_, std::string("postgresql connection lost: ") + PQerrorMessage(conn_));
    }
    return Status::Ok();
  }

  PGconn* conn_;
  std::string url_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> open_postgres(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return make_error(redact(url), "cannot connect to catalog: " + msg);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlConnection>(std::make_unique<PgConnection>(conn, url));
}

}  // namespace lv::hub
