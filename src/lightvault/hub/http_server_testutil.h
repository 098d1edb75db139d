#pragma once
// Test helpers for the hub server tests: options of a quiet server on a free loopback port, and
// a fixture that runs one such server per test. Tests only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
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

// A fixture whose test gets a fresh folder (dir_) and a server in it on a free loopback port
// (server_, port_); the server is stopped and the folder removed after the test.
class LoopbackServerTest : public ::testing::Test {
 protected:
  // dir_ = TEMP/PREFIX PID _ TESTNAME, emptied.
  void make_test_dir(const std::string& prefix) {
    dir_ = std::filesystem::temp_directory_path() /
           (prefix + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  // Opens a server with `opt` and starts it in the background; fails the test if it cannot.
  void start_server(const ServerOptions& opt) {
    auto s = HubServer::open(opt);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
    auto port = server_->start_background();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<HubServer> server_;
  int port_ = 0;
};

}  // namespace lv::hub::testing
