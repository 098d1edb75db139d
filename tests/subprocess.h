#pragma once
// Runs the built `lightvault` binary (or any program) and captures what it printed, for
// end-to-end tests of the command line; names and reads the files those tests write.
#include <string>
#include <utility>
#include <vector>

namespace lv::testing_support {

struct Completed {
  int exit_code = -1;  // -1 if it did not exit normally (crashed)
  std::string out, err;
  std::string last_err_line() const;
};

// Runs argv[0] with the rest as arguments; stdin is /dev/null.
Completed run_program(const std::vector<std::string>& argv);

// Runs the lightvault binary built beside the tests.
Completed run_lightvault(const std::vector<std::string>& args);

// Runs `node --test SCRIPT` with the `NAME=value` pairs of `env` added to the environment: how
// a test drives a real npm client (the Hugging Face client, the browser, a C2PA reader).
Completed run_node_test(const std::string& script, const std::vector<std::string>& env);

// A loopback TCP port free at the time of the call, for a server a test starts in a child
// process (in-process servers bind port 0 instead).
int free_loopback_port();

// `lightvault serve --data DATA --listen 127.0.0.1:PORT --quiet` in a child process, with
// LIGHTVAULT_ADMIN_TOKEN set and its stderr appended to LOG; killed with the object.
class ServeProcess {
 public:
  ServeProcess(std::string data, int port, std::string admin_token, std::string log)
      : data_(std::move(data)), port_(port), admin_token_(std::move(admin_token)), log_(std::move(log)) {}
  ~ServeProcess() { kill9(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts it and waits up to 10 s for the port to accept connections; false if it did not.
  bool start();
  void kill9();  // SIGKILL, as a crash or power cut would
  void term();   // SIGTERM, the orderly shutdown

 private:
  void stop(int signal);

  std::string data_;
  int port_;
  std::string admin_token_, log_;
  int pid_ = -1;
};

// A path for a file named `name` in the tests' temp folder, unique to this process (ctest runs
// tests in parallel processes).
std::string temp_path(const std::string& name);
// The whole file, or "" when it cannot be read.
std::string read_all(const std::string& path);

}  // namespace lv::testing_support
