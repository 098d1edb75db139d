// libFuzzer target: arbitrary bytes from the network, through the hub's whole HTTP stack
// in-process: the connection gate, httplib's request parser, our pre-routing checks, the
// routes and their JSON bodies, the audit trail. Nothing may crash, hang or grow without bound.
//
// How it is driven, and why: the server runs once per process (LLVMFuzzerInitialize) on a
// loopback port with a fresh data folder, and each input is sent over a real socket, then the
// write side is shut and the answer read to the end. That keeps the bytes on the path an
// attacker's bytes take (gate -> parser -> pre-routing -> handler), which an in-memory call
// into one handler would skip. The first input byte picks the mode:
//   even: the rest is sent as it is (request line, headers, bodies, pipelining, garbage);
//   odd:  the second byte picks a JSON route (all of them, as the administrator, so handlers
//         run past authentication) and the rest is that request's body, with a correct
//         Content-Length.
// Run: make fuzz (build-sanitize/http_request_fuzz -max_total_time=60 build-sanitize/corpus/... seeds)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "lightvault/hub/http/http_server.h"

namespace {

const std::string kAdminToken = "lvt_fuzz_admin_token_0123456789abcdef";

const char* const kJsonRoutes[] = {
    "/api/repos/create",
    "/api/lv/models/admin/m/commit/main",
    "/api/lv/models/admin/m/tags",
    "/api/lv/models/admin/m/grants",
    "/api/lv/models/admin/m/events",
    "/api/lv/models/admin/m/upload",
    "/api/lv/users",
    "/api/lv/orgs",
    "/api/lv/orgs/acme/members",
    "/api/lv/orgs/acme/teams",
    "/api/lv/orgs/acme/teams/t/members",
    "/api/lv/tokens",
    "/api/lv/admin/gc",
};

int g_port = 0;

// Sends `bytes`, shuts the write side and reads the answer until the server closes.
void exchange(const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(g_port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();  // the server died
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server refused and closed: fine
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) std::abort();  // the server neither answered nor closed in a minute
    if (::recv(fd, buf, sizeof buf, 0) <= 0) break;
  }
  ::close(fd);
}

std::string json_request(const std::string& route, const std::string& body) {
  return "POST " + route + " HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " + kAdminToken +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static std::unique_ptr<lv::hub::HubServer> server;
  auto dir = std::filesystem::temp_directory_path() / ("lv_http_fuzz_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  lv::hub::ServerOptions opt;
  opt.data_dir = dir.string();
  opt.listen = "127.0.0.1:0";
  opt.admin_token = kAdminToken;
  opt.quiet = true;
  opt.fsync = false;
  opt.threads = 4;
  opt.head_deadline_ms = 2000;
  auto s = lv::hub::HubServer::open(opt);
  if (!s.ok()) std::abort();
  server = std::move(*s);
  auto port = server->start_background();
  if (!port.ok()) std::abort();
  g_port = *port;
  exchange(json_request("/api/repos/create", R"({"name":"m"})"));
  exchange(json_request("/api/lv/orgs", R"({"name":"acme"})"));
  exchange(json_request("/api/lv/orgs/acme/teams", R"({"name":"t"})"));
  std::atexit([] {
    server.reset();
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                ("lv_http_fuzz_" + std::to_string(::getpid())));
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    exchange(rest);
  } else if (!rest.empty()) {
    const size_t routes = sizeof kJsonRoutes / sizeof kJsonRoutes[0];
    exchange(json_request(kJsonRoutes[static_cast<uint8_t>(rest[0]) % routes], rest.substr(1)));
  }
  return 0;
}
