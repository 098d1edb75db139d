// The catalog's logic over an SqlConnection (SQLite or PostgreSQL): schema migrations and
// every query. SQL is written once in the dialect-neutral subset both engines accept
// (RETURNING, ON CONFLICT, ?N placeholders); the few differences are substituted below.
#include "lightvault/hub/catalog/catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>

#include "lightvault/hub/storage/blob_store_io.h"
#include "lightvault/hub/storage/crypto.h"
#include "lightvault/hub/service/repo_path.h"

namespace lv::hub {

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  if (name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

bool looks_like_commit_id(const std::string& name) {
  return name.size() == 40 && std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

namespace {

// Schema versions, applied in order; each runs once, inside a transaction.
// {ID} is the auto-increment primary key type of the dialect.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> m = {
      R"SQL(
CREATE TABLE users(id {ID}, name TEXT NOT NULL UNIQUE, site_admin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL);
CREATE TABLE orgs(id {ID}, name TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
CREATE TABLE org_members(org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE, role TEXT NOT NULL,
  PRIMARY KEY(org_id, user_id));
CREATE TABLE teams(id {ID}, org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE(org_id, name));
CREATE TABLE team_members(team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE, PRIMARY KEY(team_id, user_id));
CREATE TABLE repos(id {ID}, owner TEXT NOT NULL, owner_kind TEXT NOT NULL, owner_id BIGINT NOT NULL,
  name TEXT NOT NULL, visibility TEXT NOT NULL, created_at BIGINT NOT NULL, UNIQUE(owner, name));
CREATE TABLE blobs(owner TEXT NOT NULL, sha256 TEXT NOT NULL, size BIGINT NOT NULL,
  storage_id TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY(owner, sha256));
CREATE TABLE commits(repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE, id TEXT NOT NULL,
  parent TEXT, message TEXT NOT NULL, author TEXT NOT NULL, created_at BIGINT NOT NULL,
  card_json TEXT NOT NULL DEFAULT '', PRIMARY KEY(repo_id, id));
CREATE TABLE commit_files(repo_id BIGINT NOT NULL, commit_id TEXT NOT NULL, path TEXT NOT NULL,
  sha256 TEXT NOT NULL, size BIGINT NOT NULL, PRIMARY KEY(repo_id, commit_id, path),
  FOREIGN KEY(repo_id, commit_id) REFERENCES commits(repo_id, id) ON DELETE CASCADE);
CREATE TABLE refs(repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE, kind TEXT NOT NULL,
  name TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY(repo_id, kind, name));
CREATE TABLE grants(repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  subject_kind TEXT NOT NULL, subject_id BIGINT NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY(repo_id, subject_kind, subject_id));
CREATE TABLE tokens(id TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL DEFAULT 0, revoked_at BIGINT NOT NULL DEFAULT 0);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit(seq BIGINT PRIMARY KEY, org TEXT NOT NULL DEFAULT '', entry TEXT NOT NULL);
)SQL",
      // When a blob was last uploaded: garbage collection spares blobs uploaded within its
      // grace period, so a push that re-uploads an old unreferenced blob can still commit it.
      // The index answers "does any commit reference this blob?" without a scan.
      R"SQL(
ALTER TABLE blobs ADD COLUMN uploaded_at BIGINT NOT NULL DEFAULT 0;
UPDATE blobs SET uploaded_at = created_at;
CREATE INDEX commit_files_by_sha256 ON commit_files(sha256);
)SQL",
      // Who uploaded which blob to which repository: a commit may reference only blobs its
      // repository already has or its author uploaded to it. The audit chain's signed head
      // starts with the first entry after this version; a chain written before says so.
      R"SQL(
CREATE TABLE blob_uploads(repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL, sha256 TEXT NOT NULL, uploaded_at BIGINT NOT NULL,
  PRIMARY KEY(repo_id, sha256, user_id));
INSERT INTO meta(key, value) SELECT 'audit_head', 'unsigned' WHERE EXISTS (SELECT 1 FROM audit);
)SQL",
      // Content marking: every watermark payload the hub issued (payload_registry.h), so that
      // detection can say who marked an image, when and for which repository; and the
      // organizations' watermark keys, wrapped under the master key (org_keys.h). A payload
      // outlives its repository: `repo` is the name it was issued for, looked up again when read.
      // IF NOT EXISTS: a catalog whose version was rewound by hand re-applies it cleanly.
      R"SQL(
CREATE TABLE IF NOT EXISTS issued_payloads(payload TEXT PRIMARY KEY, issued_at BIGINT NOT NULL, actor TEXT NOT NULL,
  token_id TEXT NOT NULL DEFAULT '', repo TEXT NOT NULL DEFAULT '', input_sha256 TEXT NOT NULL,
  output_sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS org_keys(org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE, kind TEXT NOT NULL,
  key_id TEXT NOT NULL, nonce TEXT NOT NULL, sealed TEXT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY(org_id, kind));
)SQL",
      // Complaints about a model (complaint_store.h): the text stays here, the audit chain
      // keeps only id, due time and subject. Only a hash of the complainant's secret is kept.
      // A repository's complaint channel may be opened to people without an account, and an
      // organization may name a webhook that hears of overdue complaints.
      R"SQL(
CREATE TABLE complaints(id TEXT PRIMARY KEY, repo_id BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
  subject TEXT NOT NULL, text TEXT NOT NULL, contact TEXT NOT NULL, status TEXT NOT NULL,
  received_at BIGINT NOT NULL, due_at BIGINT NOT NULL, acknowledged_at BIGINT NOT NULL DEFAULT 0,
  closed_at BIGINT NOT NULL DEFAULT 0, resolution TEXT NOT NULL DEFAULT '', resolver TEXT NOT NULL DEFAULT '',
  complainant TEXT NOT NULL DEFAULT '', secret_hash TEXT NOT NULL, notified_at BIGINT NOT NULL DEFAULT 0);
CREATE INDEX complaints_by_repo ON complaints(repo_id, received_at);
CREATE INDEX complaints_open_by_due ON complaints(status, due_at);
CREATE TABLE complaint_channels(repo_id BIGINT PRIMARY KEY REFERENCES repos(id) ON DELETE CASCADE,
  public INTEGER NOT NULL);
CREATE TABLE org_complaint_webhooks(org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  url TEXT NOT NULL);
)SQL",
      // An organization's rules for its repositories (OrgPolicy); no row = the defaults.
      R"SQL(
CREATE TABLE org_policies(org_id BIGINT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  require_card_complete INTEGER NOT NULL DEFAULT 0);
)SQL",
      // Web sessions, shared by the replicas that share the catalog. A token's deletion takes
      // its sessions along; the indexes serve "end this token's sessions" and the pruning of
      // expired ones.
      R"SQL(
CREATE TABLE web_sessions(id_hash TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE, csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX web_sessions_by_token ON web_sessions(token_id);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);
)SQL",
  };
  return m;
}

int64_t to_i64(const std::optional<std::string>& s) { return s ? std::stoll(*s) : 0; }
std::string to_s(const std::optional<std::string>& s) { return s ? *s : std::string(); }

User row_user(const SqlRow& r) { return User{to_i64(r[0]), to_s(r[1]), to_i64(r[2]) != 0, to_i64(r[3])}; }
Org row_org(const SqlRow& r) { return Org{to_i64(r[0]), to_s(r[1]), to_i64(r[2])}; }
Repo row_repo(const SqlRow& r) {
  Repo repo;
  repo.id = to_i64(r[0]);
  repo.owner = to_s(r[1]);
  repo.owner_kind = to_s(r[2]) == "org" ? OwnerKind::kOrg : OwnerKind::kUser;
  repo.owner_id = to_i64(r[3]);
  repo.name = to_s(r[4]);
  repo.visibility = parse_visibility(to_s(r[5])).value_or(Visibility::kPrivate);
  repo.created_at = to_i64(r[6]);
  return repo;
}
Token row_token(const SqlRow& r) {
  Token t;
  t.id = to_s(r[0]);
  t.user_id = to_i64(r[1]);
  t.name = to_s(r[2]);
  t.hash = to_s(r[3]);
  t.scopes = parse_scopes(to_s(r[4])).value_or(0);
  t.created_at = to_i64(r[5]);
  t.expires_at = to_i64(r[6]);
  t.revoked_at = to_i64(r[7]);
  t.user = to_s(r[8]);
  return t;
}
const char* kBlobCols = "owner, sha256, size, storage_id, created_at, uploaded_at";
BlobRef row_blob(const SqlRow& r) {
  return BlobRef{to_s(r[0]), to_s(r[1]), static_cast<uint64_t>(to_i64(r[2])), to_s(r[3]), to_i64(r[4]), to_i64(r[5])};
}

const char* kUserCols = "id, name, site_admin, created_at";
const char* kRepoCols = "id, owner, owner_kind, owner_id, name, visibility, created_at";
const char* kTokenCols =
    "t.id, t.user_id, t.name, t.hash, t.scopes, t.created_at, t.expires_at, t.revoked_at, u.name";

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Catalog::Catalog(std::unique_ptr<SqlConnection> conn) : conn_(std::move(conn)) {}

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& data_dir, const std::string& catalog_url) {
  std::unique_ptr<SqlConnection> conn;
  if (catalog_url.rfind("postgresql://", 0) == 0 || catalog_url.rfind("postgres://", 0) == 0) {
    LV_ASSIGN_OR_RETURN(conn, open_postgres(catalog_url));
  } else {
    std::string path;
    if (catalog_url.rfind("sqlite:", 0) == 0) {
      path = catalog_url.substr(7);
    } else if (!catalog_url.empty()) {
      return make_error(catalog_url, "unknown catalog (expected postgresql://... or sqlite:PATH)");
    } else {
      // The data folder holds keys, the catalog and encrypted blobs: its owner's alone.
      LV_RETURN_IF_ERROR(io::make_dirs(data_dir, 0700));
      if (::chmod(data_dir.c_str(), 0700) != 0) return make_error(data_dir, "chmod 700: " + io::errno_text());
      path = (std::filesystem::path(data_dir) / "catalog.db").string();
    }
    LV_ASSIGN_OR_RETURN(conn, open_sqlite(path));
  }
  auto catalog = std::make_unique<Catalog>(std::move(conn));
  LV_RETURN_IF_ERROR(catalog->migrate());
  return catalog;
}

Result<SqlResult> Catalog::q(const std::string& sql, const std::vector<SqlValue>& params) {
  std::lock_guard lock(mu_);
  return conn_->exec(sql, params);
}

Result<int64_t> Catalog::insert_id(const std::string& sql, const std::vector<SqlValue>& params) {
  LV_ASSIGN_OR_RETURN(auto r, q(sql + " RETURNING id", params));
  if (r.rows.empty()) return make_error(conn_->describe(), "insert returned no id");
  return to_i64(r.rows[0][0]);
}

Status Catalog::transaction(const std::function<Status()>& fn) {
  std::lock_guard lock(mu_);
  if (depth_ > 0) {
    ++depth_;
    Status st = fn();
    --depth_;
    return st;
  }
  LV_RETURN_IF_ERROR(conn_->exec_script(conn_->dialect() == SqlDialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN"));
  depth_ = 1;
  Status st = fn();
  depth_ = 0;
  if (!st.ok()) {
    (void)conn_->exec_script("ROLLBACK");
    return st;
  }
  Status commit = conn_->exec_script("COMMIT");
  if (!commit.ok()) {
    (void)conn_->exec_script("ROLLBACK");
    return commit;
  }
  return Status::Ok();
}

Status Catalog::migrate() {
  std::lock_guard lock(mu_);
  LV_RETURN_IF_ERROR(conn_->exec_script("CREATE TABLE IF NOT EXISTS schema_migrations(version BIGINT PRIMARY KEY)"));
  return transaction([&]() -> Status {
    if (conn_->dialect() == SqlDialect::kPostgres) {
      // Replicas starting together: one migrates, the others wait here.
      LV_RETURN_IF_ERROR(conn_->exec("SELECT pg_advisory_xact_lock(7426354)"));
    }
    LV_ASSIGN_OR_RETURN(auto r, conn_->exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    int64_t current = to_i64(r.rows[0][0]);
    const auto& all = migrations();
    if (current > static_cast<int64_t>(all.size())) {
      return make_error(conn_->describe(), "catalog schema version " + std::to_string(current) +
                                               " is newer than this lightvault (" + std::to_string(all.size()) + ")");
    }
    for (size_t v = current; v < all.size(); ++v) {
      std::string sql = all[v];
      const std::string id = conn_->dialect() == SqlDialect::kSqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                                                     : "BIGSERIAL PRIMARY KEY";
      for (size_t p; (p = sql.find("{ID}")) != std::string::npos;) sql.replace(p, 4, id);
      LV_RETURN_IF_ERROR(conn_->exec_script(sql));
      LV_RETURN_IF_ERROR(conn_->exec("INSERT INTO schema_migrations(version) VALUES (?1)", {int64_t(v + 1)}));
    }
    return Status::Ok();
  });
}

Result<std::optional<std::string>> Catalog::get_meta(const std::string& key) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT value FROM meta WHERE key = ?1", {key}));
  if (r.rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(to_s(r.rows[0][0]));
}

Status Catalog::set_meta(const std::string& key, const std::string& value) {
  LV_RETURN_IF_ERROR(q("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       {key, value}));
  return Status::Ok();
}

// ---- users

Result<User> Catalog::create_user(const std::string& name, bool site_admin) {
  if (!valid_name(name)) return make_error("user " + name, "invalid name (1-64 of A-Z a-z 0-9 . _ -)");
  User u;
  Status st = transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto taken, q("SELECT 1 FROM users WHERE name = ?1 UNION ALL SELECT 1 FROM orgs WHERE name = ?1", {name}));
    if (!taken.rows.empty()) return make_error("user " + name, "name already taken");
    u.name = name;
    u.site_admin = site_admin;
    u.created_at = now_unix();
    LV_ASSIGN_OR_RETURN(u.id, insert_id("INSERT INTO users(name, site_admin, created_at) VALUES (?1, ?2, ?3)",
                                         {name, int64_t(site_admin), u.created_at}));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return u;
}

Result<std::optional<User>> Catalog::find_user(const std::string& name) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kUserCols + " FROM users WHERE name = ?1", {name}));
  if (r.rows.empty()) return std::optional<User>();
  return std::optional<User>(row_user(r.rows[0]));
}

Result<std::optional<User>> Catalog::user_by_id(int64_t id) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?1", {id}));
  if (r.rows.empty()) return std::optional<User>();
  return std::optional<User>(row_user(r.rows[0]));
}

Result<std::vector<User>> Catalog::list_users() {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kUserCols + " FROM users ORDER BY name"));
  std::vector<User> out;
  for (auto& row : r.rows) out.push_back(row_user(row));
  return out;
}

// ---- organizations

Result<Org> Catalog::create_org(const std::string& name) {
  if (!valid_name(name)) return make_error("organization " + name, "invalid name (1-64 of A-Z a-z 0-9 . _ -)");
  Org o;
  Status st = transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto taken, q("SELECT 1 FROM users WHERE name = ?1 UNION ALL SELECT 1 FROM orgs WHERE name = ?1", {name}));
    if (!taken.rows.empty()) return make_error("organization " + name, "name already taken");
    o.name = name;
    o.created_at = now_unix();
    LV_ASSIGN_OR_RETURN(o.id, insert_id("INSERT INTO orgs(name, created_at) VALUES (?1, ?2)", {name, o.created_at}));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return o;
}

Result<std::optional<Org>> Catalog::find_org(const std::string& name) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT id, name, created_at FROM orgs WHERE name = ?1", {name}));
  if (r.rows.empty()) return std::optional<Org>();
  return std::optional<Org>(row_org(r.rows[0]));
}

Result<OrgPolicy> Catalog::org_policy(int64_t org_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT require_card_complete FROM org_policies WHERE org_id = ?1", {org_id}));
  OrgPolicy p;
  if (!r.rows.empty()) p.require_card_complete = to_i64(r.rows[0][0]) != 0;
  return p;
}

Status Catalog::set_org_policy(int64_t org_id, const OrgPolicy& policy) {
  int64_t require = policy.require_card_complete ? 1 : 0;
  LV_RETURN_IF_ERROR(q("INSERT INTO org_policies(org_id, require_card_complete) VALUES (?1, ?2) "
                       "ON CONFLICT(org_id) DO UPDATE SET require_card_complete = excluded.require_card_complete",
                       {org_id, require}));
  return Status::Ok();
}

Result<std::vector<Org>> Catalog::list_orgs() {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT id, name, created_at FROM orgs ORDER BY name"));
  std::vector<Org> out;
  for (auto& row : r.rows) out.push_back(row_org(row));
  return out;
}

Status Catalog::set_membership(int64_t org_id, int64_t user_id, OrgRole role) {
  LV_RETURN_IF_ERROR(q("INSERT INTO org_members(org_id, user_id, role) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT(org_id, user_id) DO UPDATE SET role = excluded.role",
                       {org_id, user_id, std::string(to_string(role))}));
  return Status::Ok();
}

Status Catalog::remove_membership(int64_t org_id, int64_t user_id) {
  return transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(q("DELETE FROM team_members WHERE user_id = ?2 AND team_id IN (SELECT id FROM teams WHERE org_id = ?1)",
                         {org_id, user_id}));
    LV_RETURN_IF_ERROR(q("DELETE FROM grants WHERE subject_kind = 'user' AND subject_id = ?2 AND repo_id IN "
                         "(SELECT id FROM repos WHERE owner_kind = 'org' AND owner_id = ?1)",
                         {org_id, user_id}));
    LV_RETURN_IF_ERROR(q("DELETE FROM org_members WHERE org_id = ?1 AND user_id = ?2", {org_id, user_id}));
    return Status::Ok();
  });
}

Result<std::optional<OrgRole>> Catalog::org_role(int64_t org_id, int64_t user_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT role FROM org_members WHERE org_id = ?1 AND user_id = ?2", {org_id, user_id}));
  if (r.rows.empty()) return std::optional<OrgRole>();
  return parse_org_role(to_s(r.rows[0][0]));
}

namespace {
Membership row_membership(const SqlRow& r) {
  return Membership{to_s(r[0]), to_i64(r[1]), to_s(r[2]), to_i64(r[3]), parse_org_role(to_s(r[4])).value_or(OrgRole::kMember)};
}
}  // namespace

Result<std::vector<Membership>> Catalog::list_memberships(int64_t org_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT o.name, o.id, u.name, u.id, m.role FROM org_members m JOIN orgs o ON o.id = m.org_id "
                                "JOIN users u ON u.id = m.user_id WHERE m.org_id = ?1 ORDER BY u.name",
                                {org_id}));
  std::vector<Membership> out;
  for (auto& row : r.rows) out.push_back(row_membership(row));
  return out;
}

Result<std::vector<Membership>> Catalog::memberships_of(int64_t user_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT o.name, o.id, u.name, u.id, m.role FROM org_members m JOIN orgs o ON o.id = m.org_id "
                                "JOIN users u ON u.id = m.user_id WHERE m.user_id = ?1 ORDER BY o.name",
                                {user_id}));
  std::vector<Membership> out;
  for (auto& row : r.rows) out.push_back(row_membership(row));
  return out;
}

Result<Team> Catalog::create_team(int64_t org_id, const std::string& name) {
  if (!valid_name(name)) return make_error("team " + name, "invalid name (1-64 of A-Z a-z 0-9 . _ -)");
  Team t;
  Status st = transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto org, q("SELECT name FROM orgs WHERE id = ?1", {org_id}));
    if (org.rows.empty()) return make_error("team " + name, "no such organization");
    t.org = to_s(org.rows[0][0]);
    LV_ASSIGN_OR_RETURN(auto taken, q("SELECT 1 FROM teams WHERE org_id = ?1 AND name = ?2", {org_id, name}));
    if (!taken.rows.empty()) return make_error("team " + t.org + "/" + name, "already exists");
    t.org_id = org_id;
    t.name = name;
    LV_ASSIGN_OR_RETURN(t.id, insert_id("INSERT INTO teams(org_id, name, created_at) VALUES (?1, ?2, ?3)",
                                         {org_id, name, now_unix()}));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return t;
}

Result<std::optional<Team>> Catalog::find_team(const std::string& org, const std::string& name) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT t.id, t.org_id, o.name, t.name FROM teams t JOIN orgs o ON o.id = t.org_id "
                                "WHERE o.name = ?1 AND t.name = ?2",
                                {org, name}));
  if (r.rows.empty()) return std::optional<Team>();
  return std::optional<Team>(Team{to_i64(r.rows[0][0]), to_i64(r.rows[0][1]), to_s(r.rows[0][2]), to_s(r.rows[0][3])});
}

Result<std::vector<Team>> Catalog::list_teams(int64_t org_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT t.id, t.org_id, o.name, t.name FROM teams t JOIN orgs o ON o.id = t.org_id "
                                "WHERE t.org_id = ?1 ORDER BY t.name",
                                {org_id}));
  std::vector<Team> out;
  for (auto& row : r.rows) out.push_back(Team{to_i64(row[0]), to_i64(row[1]), to_s(row[2]), to_s(row[3])});
  return out;
}

Status Catalog::add_team_member(int64_t team_id, int64_t user_id) {
  LV_RETURN_IF_ERROR(q("INSERT INTO team_members(team_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING", {team_id, user_id}));
  return Status::Ok();
}

Status Catalog::remove_team_member(int64_t team_id, int64_t user_id) {
  LV_RETURN_IF_ERROR(q("DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2", {team_id, user_id}));
  return Status::Ok();
}

Result<std::vector<int64_t>> Catalog::team_ids_of(int64_t user_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT team_id FROM team_members WHERE user_id = ?1", {user_id}));
  std::vector<int64_t> out;
  for (auto& row : r.rows) out.push_back(to_i64(row[0]));
  return out;
}

// ---- repositories

Result<Repo> Catalog::create_repo(const std::string& owner, const std::string& name, Visibility visibility) {
  if (!valid_name(name)) return make_error("repository " + owner + "/" + name, "invalid name (1-64 of A-Z a-z 0-9 . _ -)");
  Repo repo;
  Status st = transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto user, find_user(owner));
    LV_ASSIGN_OR_RETURN(auto org, find_org(owner));
    if (!user && !org) return make_error("repository " + owner + "/" + name, "no user or organization named " + owner);
    LV_ASSIGN_OR_RETURN(auto existing, find_repo(owner, name));
    if (existing) return make_error("repository " + owner + "/" + name, "already exists");
    repo.owner = owner;
    repo.owner_kind = user ? OwnerKind::kUser : OwnerKind::kOrg;
    repo.owner_id = user ? user->id : org->id;
    repo.name = name;
    repo.visibility = visibility;
    repo.created_at = now_unix();
    LV_ASSIGN_OR_RETURN(repo.id, insert_id("INSERT INTO repos(owner, owner_kind, owner_id, name, visibility, created_at) "
                                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                           {owner, std::string(to_string(repo.owner_kind)), repo.owner_id, name,
                                            std::string(to_string(visibility)), repo.created_at}));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return repo;
}

Result<std::optional<Repo>> Catalog::find_repo(const std::string& owner, const std::string& name) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kRepoCols + " FROM repos WHERE owner = ?1 AND name = ?2", {owner, name}));
  if (r.rows.empty()) return std::optional<Repo>();
  return std::optional<Repo>(row_repo(r.rows[0]));
}

Result<std::vector<Repo>> Catalog::list_repos() {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kRepoCols + " FROM repos ORDER BY owner, name"));
  std::vector<Repo> out;
  for (auto& row : r.rows) out.push_back(row_repo(row));
  return out;
}

Result<std::vector<RepoListing>> Catalog::list_repos_with_heads(const std::string& owner) {
  // The head as resolve() picks it: a branch called main before a tag called main.
  std::string sql = std::string("SELECT r.id, r.owner, r.owner_kind, r.owner_id, r.name, r.visibility, r.created_at, ") +
                    "h.id, h.created_at FROM repos r LEFT JOIN commits h ON h.repo_id = r.id AND h.id = "
                    "(SELECT f.commit_id FROM refs f WHERE f.repo_id = r.id AND f.name = 'main' ORDER BY f.kind LIMIT 1)";
  std::vector<SqlValue> params;
  if (!owner.empty()) {
    sql += " WHERE r.owner = ?1";
    params.push_back(owner);
  }
  LV_ASSIGN_OR_RETURN(auto r, q(sql + " ORDER BY r.owner, r.name", params));
  std::vector<RepoListing> out;
  out.reserve(r.rows.size());
  for (auto& row : r.rows) {
    RepoListing l;
    l.repo = row_repo(row);
    if (row[7]) {
      l.head_id = to_s(row[7]);
      l.head_time = to_i64(row[8]);
    }
    out.push_back(std::move(l));
  }
  return out;
}

Status Catalog::set_visibility(int64_t repo_id, Visibility visibility) {
  LV_RETURN_IF_ERROR(q("UPDATE repos SET visibility = ?2 WHERE id = ?1", {repo_id, std::string(to_string(visibility))}));
  return Status::Ok();
}

Status Catalog::delete_repo(int64_t repo_id) {
  return transaction([&]() -> Status {
    // Explicit deletes (SQLite needs foreign_keys on for cascades; be independent of it).
    for (const char* table : {"commit_files", "refs", "grants", "blob_uploads", "commits"}) {
      LV_RETURN_IF_ERROR(q(std::string("DELETE FROM ") + table + " WHERE repo_id = ?1", {repo_id}));
    }
    LV_RETURN_IF_ERROR(q("DELETE FROM repos WHERE id = ?1", {repo_id}));
    return Status::Ok();
  });
}

// ---- grants

Status Catalog::set_grant(int64_t repo_id, SubjectKind subject, int64_t subject_id, RepoRole role) {
  std::string kind(to_string(subject));
  if (role == RepoRole::kNone) {
    LV_RETURN_IF_ERROR(q("DELETE FROM grants WHERE repo_id = ?1 AND subject_kind = ?2 AND subject_id = ?3", {repo_id, kind, subject_id}));
    return Status::Ok();
  }
  LV_RETURN_IF_ERROR(q("INSERT INTO grants(repo_id, subject_kind, subject_id, role) VALUES (?1, ?2, ?3, ?4) "
                       "ON CONFLICT(repo_id, subject_kind, subject_id) DO UPDATE SET role = excluded.role",
                       {repo_id, kind, subject_id, std::string(to_string(role))}));
  return Status::Ok();
}

Result<std::vector<Grant>> Catalog::list_grants(int64_t repo_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT g.subject_kind, g.subject_id, g.role, "
                                "CASE WHEN g.subject_kind = 'user' THEN (SELECT name FROM users WHERE id = g.subject_id) "
                                "ELSE (SELECT o.name || '/' || t.name FROM teams t JOIN orgs o ON o.id = t.org_id WHERE t.id = g.subject_id) END "
                                "FROM grants g WHERE g.repo_id = ?1 ORDER BY g.subject_kind, g.subject_id",
                                {repo_id}));
  std::vector<Grant> out;
  for (auto& row : r.rows) {
    Grant g;
    g.repo_id = repo_id;
    g.subject = parse_subject_kind(to_s(row[0])).value_or(SubjectKind::kUser);
    g.subject_id = to_i64(row[1]);
    g.role = parse_repo_role(to_s(row[2])).value_or(RepoRole::kNone);
    g.subject_name = to_s(row[3]);
    out.push_back(g);
  }
  return out;
}

Result<std::vector<Grant>> Catalog::grants_held_by(int64_t user_id, const std::vector<int64_t>& team_ids) {
  // Team ids are integers from the catalog itself, so they are written into the statement.
  std::string teams;
  for (int64_t id : team_ids) teams += (teams.empty() ? "" : ",") + std::to_string(id);
  std::string sql = "SELECT repo_id, subject_kind, subject_id, role FROM grants WHERE (subject_kind = 'user' AND subject_id = ?1)";
  if (!teams.empty()) sql += " OR (subject_kind = 'team' AND subject_id IN (" + teams + "))";
  LV_ASSIGN_OR_RETURN(auto r, q(sql, {user_id}));
  std::vector<Grant> out;
  out.reserve(r.rows.size());
  for (auto& row : r.rows) {
    Grant g;
    g.repo_id = to_i64(row[0]);
    g.subject = to_s(row[1]) == "team" ? SubjectKind::kTeam : SubjectKind::kUser;
    g.subject_id = to_i64(row[2]);
    g.role = parse_repo_role(to_s(row[3])).value_or(RepoRole::kNone);
    out.push_back(std::move(g));
  }
  return out;
}

// ---- revisions

Result<std::vector<FileEntry>> Catalog::commit_files(int64_t repo_id, const std::string& commit_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT path, sha256, size FROM commit_files WHERE repo_id = ?1 AND commit_id = ?2 ORDER BY path",
                                {repo_id, commit_id}));
  std::vector<FileEntry> out;
  for (auto& row : r.rows) out.push_back(FileEntry{to_s(row[0]), to_s(row[1]), static_cast<uint64_t>(to_i64(row[2]))});
  return out;
}

Result<std::optional<Commit>> Catalog::load_commit(int64_t repo_id, const std::string& id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT id, parent, message, author, created_at, card_json FROM commits WHERE repo_id = ?1 AND id = ?2",
                                {repo_id, id}));
  if (r.rows.empty()) return std::optional<Commit>();
  Commit c;
  c.id = to_s(r.rows[0][0]);
  c.repo_id = repo_id;
  c.parent = to_s(r.rows[0][1]);
  c.message = to_s(r.rows[0][2]);
  c.author = to_s(r.rows[0][3]);
  c.created_at = to_i64(r.rows[0][4]);
  c.card_json = to_s(r.rows[0][5]);
  LV_ASSIGN_OR_RETURN(c.files, commit_files(repo_id, c.id));
  return std::optional<Commit>(std::move(c));
}

Result<Commit> Catalog::create_commit(const Repo& repo, const std::string& branch, const std::optional<std::string>& expected_parent,
                                      const std::string& message, const User& author, std::vector<FileEntry> files,
                                      const std::string& card_json) {
  std::string ctx = "commit to " + repo.full_name();
  if (!valid_name(branch) || looks_like_commit_id(branch)) {
    return make_error(ctx, "invalid branch name '" + branch + "' (1-64 of A-Z a-z 0-9 . _ -, not 40 hex digits)");
  }
  for (auto& f : files) {
    LV_ASSIGN_OR_RETURN(f.path, normalize_repo_path(f.path));
  }
  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0 && files[i].path == files[i - 1].path) return make_error(ctx, "file listed twice: " + files[i].path);
    if (!is_hex(files[i].sha256, 64)) return make_error(ctx, "bad sha256 for " + files[i].path);
  }
  Commit c;
  Status st = transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(lock_blobs(BlobLock::kShared));
    LV_ASSIGN_OR_RETURN(auto head, q("SELECT commit_id FROM refs WHERE repo_id = ?1 AND kind = 'branch' AND name = ?2",
                                     {repo.id, branch}));
    std::string parent = head.rows.empty() ? "" : to_s(head.rows[0][0]);
    if (expected_parent && *expected_parent != parent) {
      return make_error(ctx, "branch " + branch + " moved (at " + (parent.empty() ? "nothing" : parent) + ", expected " +
                                 (expected_parent->empty() ? "nothing" : *expected_parent) + ")");
    }
    for (auto& f : files) {
      // Whether the owner stores these bytes for another repository is none of the committer's
      // business: the refusal is the same whether the blob exists elsewhere or nowhere.
      LV_ASSIGN_OR_RETURN(bool usable, may_reference_blob(repo.id, author.id, f.sha256));
      LV_ASSIGN_OR_RETURN(auto blob, usable ? find_blob(repo.owner, f.sha256) : std::optional<BlobRef>());
      if (!blob) return make_error(ctx, "file " + f.path + ": blob " + f.sha256 + " was not uploaded to this repository");
      if (blob->size != f.size) {
        return make_error(ctx, "file " + f.path + ": size " + std::to_string(f.size) + " does not match the uploaded blob (" +
                                   std::to_string(blob->size) + ")");
      }
    }
    c.repo_id = repo.id;
    c.parent = parent;
    c.message = message;
    c.author = author.name;
    c.created_at = now_unix();
    c.card_json = card_json;
    std::string digest_input = repo.full_name() + "\n" + parent + "\n" + c.author + "\n" + std::to_string(c.created_at) +
                               "\n" + crypto::random_hex(8) + "\n" + message + "\n";
    for (auto& f : files) digest_input += f.path + std::string(1, '\0') + f.sha256 + "\n";
    c.id = crypto::sha256_hex(digest_input).substr(0, 40);
    LV_RETURN_IF_ERROR(q("INSERT INTO commits(repo_id, id, parent, message, author, created_at, card_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                         {repo.id, c.id, parent.empty() ? SqlValue() : SqlValue(parent), message, c.author, c.created_at, card_json}));
    for (auto& f : files) {
      LV_RETURN_IF_ERROR(q("INSERT INTO commit_files(repo_id, commit_id, path, sha256, size) VALUES (?1, ?2, ?3, ?4, ?5)",
                           {repo.id, c.id, f.path, f.sha256, static_cast<int64_t>(f.size)}));
    }
    if (head.rows.empty()) {
      LV_RETURN_IF_ERROR(q("INSERT INTO refs(repo_id, kind, name, commit_id) VALUES (?1, 'branch', ?2, ?3)", {repo.id, branch, c.id}));
    } else {
      // Compare-and-set: another replica may have moved the branch since we read it.
      LV_ASSIGN_OR_RETURN(auto upd, q("UPDATE refs SET commit_id = ?3 WHERE repo_id = ?1 AND kind = 'branch' AND name = ?2 AND commit_id = ?4",
                                      {repo.id, branch, c.id, parent}));
      if (upd.changes != 1) return make_error(ctx, "branch " + branch + " moved concurrently; retry");
    }
    c.files = files;
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return c;
}

Result<std::optional<Commit>> Catalog::resolve(int64_t repo_id, const std::string& revision) {
  if (is_hex(revision, 40)) {
    LV_ASSIGN_OR_RETURN(auto commit, load_commit(repo_id, revision));
    if (commit) return commit;
  }
  std::string rev = revision == "HEAD" ? "main" : revision;
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT commit_id FROM refs WHERE repo_id = ?1 AND name = ?2 ORDER BY kind", {repo_id, rev}));
  if (!r.rows.empty()) return load_commit(repo_id, to_s(r.rows[0][0]));
  return std::optional<Commit>();
}

Status Catalog::set_tag(int64_t repo_id, const std::string& tag, const std::string& commit_id) {
  if (!valid_name(tag) || looks_like_commit_id(tag)) {
    return make_error("tag " + tag, "invalid tag name (1-64 of A-Z a-z 0-9 . _ -, not 40 hex digits)");
  }
  return transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto c, load_commit(repo_id, commit_id));
    if (!c) return make_error("tag " + tag, "no commit " + commit_id);
    LV_RETURN_IF_ERROR(q("INSERT INTO refs(repo_id, kind, name, commit_id) VALUES (?1, 'tag', ?2, ?3) "
                         "ON CONFLICT(repo_id, kind, name) DO UPDATE SET commit_id = excluded.commit_id",
                         {repo_id, tag, commit_id}));
    return Status::Ok();
  });
}

Status Catalog::delete_tag(int64_t repo_id, const std::string& tag) {
  LV_RETURN_IF_ERROR(q("DELETE FROM refs WHERE repo_id = ?1 AND kind = 'tag' AND name = ?2", {repo_id, tag}));
  return Status::Ok();
}

Result<std::vector<Ref>> Catalog::list_refs(int64_t repo_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT kind, name, commit_id FROM refs WHERE repo_id = ?1 ORDER BY kind, name", {repo_id}));
  std::vector<Ref> out;
  for (auto& row : r.rows) out.push_back(Ref{to_s(row[0]), to_s(row[1]), to_s(row[2])});
  return out;
}

Result<std::vector<Commit>> Catalog::list_commits(int64_t repo_id, const std::string& branch, int limit) {
  std::vector<Commit> out;
  LV_ASSIGN_OR_RETURN(auto head, resolve(repo_id, branch));
  std::optional<Commit> cur = std::move(head);
  while (cur && static_cast<int>(out.size()) < limit) {
    std::string parent = cur->parent;
    out.push_back(std::move(*cur));
    if (parent.empty()) break;
    LV_ASSIGN_OR_RETURN(cur, load_commit(repo_id, parent));
  }
  return out;
}

// ---- blobs

Result<BlobRef> Catalog::put_blob(const BlobRef& blob) {
  BlobRef out = blob;
  Status st = transaction([&]() -> Status {
    LV_RETURN_IF_ERROR(lock_blobs(BlobLock::kShared));
    LV_ASSIGN_OR_RETURN(auto existing, find_blob(blob.owner, blob.sha256));
    int64_t now = now_unix();
    if (existing) {
      out = *existing;
      out.uploaded_at = now;
      LV_RETURN_IF_ERROR(q("UPDATE blobs SET uploaded_at = ?3 WHERE owner = ?1 AND sha256 = ?2", {blob.owner, blob.sha256, now}));
      return Status::Ok();
    }
    out.created_at = out.uploaded_at = now;
    LV_RETURN_IF_ERROR(q("INSERT INTO blobs(owner, sha256, size, storage_id, created_at, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                         {blob.owner, blob.sha256, static_cast<int64_t>(blob.size), blob.storage_id, now}));
    return Status::Ok();
  });
  if (!st.ok()) return st.error();
  return out;
}

Result<std::optional<BlobRef>> Catalog::find_blob(const std::string& owner, const std::string& sha256) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kBlobCols + " FROM blobs WHERE owner = ?1 AND sha256 = ?2", {owner, sha256}));
  if (r.rows.empty()) return std::optional<BlobRef>();
  return std::optional<BlobRef>(row_blob(r.rows[0]));
}

Status Catalog::record_upload(int64_t repo_id, int64_t user_id, const std::string& sha256) {
  LV_RETURN_IF_ERROR(q("INSERT INTO blob_uploads(repo_id, user_id, sha256, uploaded_at) VALUES (?1, ?2, ?3, ?4) "
                       "ON CONFLICT(repo_id, sha256, user_id) DO UPDATE SET uploaded_at = excluded.uploaded_at",
                       {repo_id, user_id, sha256, now_unix()}));
  return Status::Ok();
}

Result<bool> Catalog::may_reference_blob(int64_t repo_id, int64_t user_id, const std::string& sha256) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT 1 FROM commit_files WHERE repo_id = ?1 AND sha256 = ?3 UNION ALL "
                                "SELECT 1 FROM blob_uploads WHERE repo_id = ?1 AND user_id = ?2 AND sha256 = ?3 LIMIT 1",
                                {repo_id, user_id, sha256}));
  return !r.rows.empty();
}

Result<std::vector<BlobRef>> Catalog::list_blobs() {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kBlobCols + " FROM blobs ORDER BY owner, sha256"));
  std::vector<BlobRef> out;
  for (auto& row : r.rows) out.push_back(row_blob(row));
  return out;
}

// A blob is referenced when a file of any commit of any repository of its owner has its sha256.
static const char* kUnreferencedBlob =
    "NOT EXISTS (SELECT 1 FROM commit_files f JOIN repos r ON r.id = f.repo_id "
    "WHERE r.owner = blobs.owner AND f.sha256 = blobs.sha256)";

Result<std::vector<BlobRef>> Catalog::unreferenced_blobs(int64_t uploaded_until) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kBlobCols + " FROM blobs WHERE uploaded_at <= ?1 AND " +
                                    kUnreferencedBlob + " ORDER BY owner, sha256",
                                {uploaded_until}));
  std::vector<BlobRef> out;
  for (auto& row : r.rows) out.push_back(row_blob(row));
  return out;
}

Result<bool> Catalog::delete_unreferenced_blob(const std::string& owner, const std::string& sha256, int64_t uploaded_until) {
  bool deleted = false;
  LV_RETURN_IF_ERROR(transaction([&]() -> Status {
    LV_ASSIGN_OR_RETURN(auto r, q(std::string("DELETE FROM blobs WHERE owner = ?1 AND sha256 = ?2 AND uploaded_at <= ?3 AND ") +
                                      kUnreferencedBlob,
                                  {owner, sha256, uploaded_until}));
    deleted = r.changes > 0;
    if (!deleted) return Status::Ok();
    LV_RETURN_IF_ERROR(q("DELETE FROM blob_uploads WHERE sha256 = ?2 AND repo_id IN (SELECT id FROM repos WHERE owner = ?1)",
                         {owner, sha256}));
    return Status::Ok();
  }));
  return deleted;
}

Status Catalog::lock_blobs(BlobLock kind) {
  std::lock_guard lock(mu_);
  if (depth_ == 0) return make_error(conn_->describe(), "lock_blobs outside a transaction");
  // SQLite: a write transaction (BEGIN IMMEDIATE) already excludes every other one. PostgreSQL:
  // replicas' transactions run side by side, so the blob registrations and commits share one
  // lock that garbage collection takes alone.
  if (conn_->dialect() != SqlDialect::kPostgres) return Status::Ok();
  LV_RETURN_IF_ERROR(conn_->exec(kind == BlobLock::kShared ? "SELECT pg_advisory_xact_lock_shared(7426355)"
                                                            : "SELECT pg_advisory_xact_lock(7426355)"));
  return Status::Ok();
}

// ---- tokens

Status Catalog::create_token(const Token& t) {
  LV_RETURN_IF_ERROR(q("INSERT INTO tokens(id, user_id, name, hash, scopes, created_at, expires_at, revoked_at) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                       {t.id, t.user_id, t.name, t.hash, scopes_to_string(t.scopes), t.created_at, t.expires_at}));
  return Status::Ok();
}

Result<std::optional<Token>> Catalog::find_token_by_hash(const std::string& hash) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kTokenCols + " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1", {hash}));
  if (r.rows.empty()) return std::optional<Token>();
  return std::optional<Token>(row_token(r.rows[0]));
}

Result<std::optional<Token>> Catalog::find_token(const std::string& id) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kTokenCols + " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?1", {id}));
  if (r.rows.empty()) return std::optional<Token>();
  return std::optional<Token>(row_token(r.rows[0]));
}

Result<std::vector<Token>> Catalog::list_tokens(int64_t user_id) {
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT ") + kTokenCols +
                                    " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ?1 ORDER BY t.created_at, t.id",
                                {user_id}));
  std::vector<Token> out;
  for (auto& row : r.rows) out.push_back(row_token(row));
  return out;
}

Status Catalog::revoke_token(const std::string& id) {
  LV_ASSIGN_OR_RETURN(auto r, q("UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0", {id, now_unix()}));
  if (r.changes == 0) return make_error("token " + id, "no such live token");
  return Status::Ok();
}

// ---- web sessions

Status Catalog::create_session(const SessionRow& s) {
  LV_RETURN_IF_ERROR(q("INSERT INTO web_sessions(id_hash, token_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                       {s.id_hash, s.token_id, s.csrf, s.created_at, s.expires_at}));
  return Status::Ok();
}

Result<std::optional<LiveSession>> Catalog::find_live_session(const std::string& id_hash, int64_t now) {
  // One query for the session, its token and its user: every page request asks it.
  LV_ASSIGN_OR_RETURN(auto r, q(std::string("SELECT s.id_hash, s.token_id, s.csrf, s.created_at, s.expires_at, ") + kTokenCols +
                                    ", u.id, u.name, u.site_admin, u.created_at FROM web_sessions s"
                                    " JOIN tokens t ON t.id = s.token_id JOIN users u ON u.id = t.user_id"
                                    " WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND t.revoked_at = 0"
                                    " AND (t.expires_at = 0 OR t.expires_at > ?2)",
                                {id_hash, now}));
  if (r.rows.empty()) return std::optional<LiveSession>();
  const SqlRow& row = r.rows[0];
  LiveSession live;
  live.session = SessionRow{to_s(row[0]), to_s(row[1]), to_s(row[2]), to_i64(row[3]), to_i64(row[4])};
  live.token = row_token(SqlRow(row.begin() + 5, row.begin() + 14));
  live.user = row_user(SqlRow(row.begin() + 14, row.end()));
  return std::optional<LiveSession>(std::move(live));
}

Result<bool> Catalog::delete_session(const std::string& id_hash) {
  LV_ASSIGN_OR_RETURN(auto r, q("DELETE FROM web_sessions WHERE id_hash = ?1", {id_hash}));
  return r.changes > 0;
}

Result<int64_t> Catalog::delete_sessions_of_token(const std::string& token_id) {
  LV_ASSIGN_OR_RETURN(auto r, q("DELETE FROM web_sessions WHERE token_id = ?1", {token_id}));
  return r.changes;
}

Result<int64_t> Catalog::prune_sessions(int64_t now) {
  LV_ASSIGN_OR_RETURN(auto r, q("DELETE FROM web_sessions WHERE expires_at <= ?1 OR token_id IN (SELECT id FROM tokens"
                                " WHERE revoked_at <> 0 OR (expires_at <> 0 AND expires_at <= ?1))",
                                {now}));
  return r.changes;
}

Result<int64_t> Catalog::session_count() {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT COUNT(*) FROM web_sessions"));
  return to_i64(r.rows[0][0]);
}

// ---- audit

Status Catalog::append_audit(const AuditRow& row) {
  std::lock_guard lock(mu_);
  auto insert = [&]() -> Status {
    LV_RETURN_IF_ERROR(conn_->exec("INSERT INTO audit(seq, org, entry) VALUES (?1, ?2, ?3)", {row.seq, row.org, row.json}));
    if (row.head.empty()) return Status::Ok();
    LV_RETURN_IF_ERROR(conn_->exec("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                   {std::string(kAuditHeadMeta), row.head}));
    return Status::Ok();
  };
  if (depth_ == 0) return transaction(insert);
  // Inside a request's transaction: a seq conflict (another replica appended first) must not
  // abort the whole transaction (PostgreSQL would), so the insert runs under a savepoint and
  // the audit log retries with the new head.
  LV_RETURN_IF_ERROR(conn_->exec_script("SAVEPOINT lv_audit"));
  Status st = insert();
  if (!st.ok()) {
    (void)conn_->exec_script("ROLLBACK TO SAVEPOINT lv_audit");
    (void)conn_->exec_script("RELEASE SAVEPOINT lv_audit");
    return st;
  }
  LV_RETURN_IF_ERROR(conn_->exec_script("RELEASE SAVEPOINT lv_audit"));
  return Status::Ok();
}

Result<std::optional<AuditRow>> Catalog::last_audit() {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT seq, org, entry FROM audit ORDER BY seq DESC LIMIT 1"));
  if (r.rows.empty()) return std::optional<AuditRow>();
  return std::optional<AuditRow>(AuditRow{to_i64(r.rows[0][0]), to_s(r.rows[0][1]), to_s(r.rows[0][2]), ""});
}

Result<std::vector<AuditRow>> Catalog::audit_rows(int64_t from_seq, int64_t limit) {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT seq, org, entry FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2", {from_seq, limit}));
  std::vector<AuditRow> out;
  for (auto& row : r.rows) out.push_back(AuditRow{to_i64(row[0]), to_s(row[1]), to_s(row[2]), ""});
  return out;
}

Result<int64_t> Catalog::audit_count() {
  LV_ASSIGN_OR_RETURN(auto r, q("SELECT COUNT(*) FROM audit"));
  return to_i64(r.rows[0][0]);
}

}  // namespace lv::hub
