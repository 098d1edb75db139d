#include "subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lv::testing_support {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / (std::to_string(getpid()) + "-" + name)).string();
}

std::string Completed::last_err_line() const {
  std::string e = err;
  while (!e.empty() && e.back() == '\n') e.pop_back();
  size_t nl = e.rfind('\n');
  return nl == std::string::npos ? e : e.substr(nl + 1);
}

Completed run_program(const std::vector<std::string>& argv) {
  char out_tmpl[] = "/tmp/lv-out-XXXXXX", err_tmpl[] = "/tmp/lv-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl), err_fd = mkstemp(err_tmpl);
  Completed c;
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  c.out = read_all(out_tmpl);
  c.err = read_all(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return c;
}

Completed run_lightvault(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {LV_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

Completed run_node_test(const std::string& script, const std::vector<std::string>& env) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {"node", "--test", script});
  return run_program(argv);
}

int free_loopback_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

bool ServeProcess::start() {
  pid_ = fork();
  if (pid_ == 0) {
    setenv("LIGHTVAULT_ADMIN_TOKEN", admin_token_.c_str(), 1);
    if (!freopen(log_.c_str(), "a", stderr)) _exit(126);
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    execl(LV_CLI_PATH, LV_CLI_PATH, "serve", "--data", data_.c_str(), "--listen", listen.c_str(), "--quiet", nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    if (up) return true;
    usleep(50 * 1000);
  }
  return false;
}

void ServeProcess::stop(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ServeProcess::kill9() { stop(SIGKILL); }
void ServeProcess::term() { stop(SIGTERM); }

}  // namespace lv::testing_support
