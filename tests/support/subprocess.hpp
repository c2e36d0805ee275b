// Running commands from tests: synchronous runs with captured output and a deadline, and
// background children that are always stopped (by PID, SIGTERM then SIGKILL) on scope exit.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mpx::test {

struct RunResult {
  int exit_code = -1;  // -1 when killed on timeout or not started
  std::string out;     // stdout
  std::string err;     // stderr
  bool timed_out = false;
};

// Runs argv[0] (searched in PATH) with argv[1..]; kills it after `timeout`.
RunResult run(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Convenience: `sh -c command`.
RunResult run_shell(const std::string& command,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A background child; stdout+stderr go to a log file so a failing test can print them.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log_file);
  ~Child();  // stop()
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Waits for exit up to `timeout`; returns exit status, or nullopt-like -1000 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  int pid_ = -1;
  int status_ = -1000;
  std::string log_file_;
};

// Path of a file in the source tree (env MPX_SOURCE_DIR overrides the configure-time path).
std::string source_path(const std::string& relative);
// Path of a file in the build tree (env MPX_BINARY_DIR overrides the configure-time path).
std::string binary_path(const std::string& relative);

}  // namespace mpx::test
