#pragma once
// Test helpers for the hub server tests: options of a quiet server on a free loopback port.
// Tests only.
#include <string>

#include "lightvault/hub/http_server.h"

namespace lv::hub::testing {

inline ServerOptions test_server_options(const std::string& data_dir, const std::string& admin_token) {
  ServerOptions opt;
  opt.data_dir = data_dir;
  opt.listen = "127.0.0.1:0";
  opt.admin_token = admin_token;
  opt.quiet = true;
  opt.fsync = false;  // speed; durability is the blob store's tests' business
  opt.threads = 8;
  return opt;
}

}  // namespace lv::hub::testing
