#pragma once
// Test helpers for the hub server tests: options of a quiet server on a free loopback port, a
// fixture that runs one such server per test, and a raw connection for requests an HTTP client
// would not send. Tests only.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <filesystem>
#include <memory>
#include <string>

#include "lightvault/hub/http/http_server.h"

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
    // A parameterized test's name ("Test/sqlite") holds a slash: one folder, not two.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()) + "_" + test);
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

// A raw TCP connection to a test server, for requests httplib's client would not send.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // What arrives until the server closes the connection or `timeout_ms` passes; `closed` says
  // which.
  std::string read_until_close(int timeout_ms, bool* closed = nullptr) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, left) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The status code of a raw HTTP response ("HTTP/1.1 401 ..."), 0 if there is none.
inline int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

}  // namespace lv::hub::testing
