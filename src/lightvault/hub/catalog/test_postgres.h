#pragma once
// Test support (header only, used by *_test.cpp): a throwaway PostgreSQL server from Debian's
// packages (/usr/lib/postgresql/<ver>/bin), listening only on a unix socket in a temp folder.
// initdb refuses to run as root, so as root the server runs as the `postgres` system user
// (runuser -u postgres); as any other user it runs as that user. started() is false, with a
// reason, when the binaries or the user are missing: tests then GTEST_SKIP with that reason.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "lightvault/hub/catalog/sql.h"

namespace lv::hub::testing {

class TestPostgres {
 public:
  static TestPostgres& instance() {
    static TestPostgres pg;
    return pg;
  }
  bool started() const { return started_; }
  const std::string& reason() const { return reason_; }
  // A fresh, empty database for one test.
  std::string new_database_url() {
    std::string db = "lvtest" + std::to_string(++counter_);
    auto admin = open_postgres("postgresql:///postgres?host=" + dir_ + "&port=5433&user=lv");
    if (!admin.ok() || !(*admin)->exec("CREATE DATABASE " + db).ok()) return "";
    return "postgresql:///" + db + "?host=" + dir_ + "&port=5433&user=lv";
  }
  ~TestPostgres() {
    if (started_) run(as_ + pg_ctl_ + " -D " + dir_ + "/data -m immediate -w stop >/dev/null 2>&1");
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

 private:
  TestPostgres() {
    std::string bin;
    for (const char* v : {"17", "16", "15", "14", "13"}) {
      std::string b = std::string("/usr/lib/postgresql/") + v + "/bin";
      if (std::filesystem::exists(b + "/initdb") && std::filesystem::exists(b + "/pg_ctl")) {
        bin = b;
        break;
      }
    }
    if (bin.empty()) {
      reason_ = "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb); apt-get install postgresql";
      return;
    }
    pg_ctl_ = bin + "/pg_ctl";
    if (geteuid() == 0) {
      if (std::system("id postgres >/dev/null 2>&1") != 0) {
        reason_ = "running as root and no 'postgres' user to run the server as";
        return;
      }
      as_ = "runuser -u postgres -- ";
    }
    char tmpl[] = "/tmp/lvpgXXXXXX";
    if (!mkdtemp(tmpl)) {
      reason_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    if (geteuid() == 0) run("chown postgres " + dir_);
    if (run(as_ + bin + "/initdb -D " + dir_ + "/data -A trust -U lv --no-sync -E UTF8 >" + dir_ + "/initdb.log 2>&1") != 0) {
      reason_ = "initdb failed (see " + dir_ + "/initdb.log)";
      return;
    }
    std::string opts = "-c listen_addresses='' -k " + dir_ + " -p 5433 -c fsync=off -c max_connections=50";
    if (run(as_ + pg_ctl_ + " -D " + dir_ + "/data -l " + dir_ + "/server.log -o \"" + opts + "\" -w -t 60 start >/dev/null") != 0) {
      reason_ = "pg_ctl start failed (see " + dir_ + "/server.log)";
      return;
    }
    started_ = true;
  }
  static int run(const std::string& cmd) { return std::system(cmd.c_str()); }

  bool started_ = false;
  std::string reason_, dir_, pg_ctl_, as_;
  int counter_ = 0;
};

}  // namespace lv::hub::testing
