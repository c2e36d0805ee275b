// Forking into the background without losing start-up errors: the parent waits on a pipe until
// the daemon says it is ready (exit 0) or reports a failure line (printed, exit 1). So
// `mpx-relay` run by hand or by an init script fails visibly when, say, its port is taken.
#pragma once

#include <string>

#include "common/result.hpp"

namespace mpx::daemon {

// Held by the daemon after the fork; exactly one of ready()/failed() reaches the parent.
class StartupReporter {
 public:
  StartupReporter() = default;  // foreground: reports go nowhere
  explicit StartupReporter(int fd) : fd_(fd) {}
  StartupReporter(StartupReporter&& other) noexcept;
  StartupReporter& operator=(StartupReporter&& other) noexcept;
  StartupReporter(const StartupReporter&) = delete;
  StartupReporter& operator=(const StartupReporter&) = delete;
  ~StartupReporter();

  void ready();
  void failed(const std::string& line);

 private:
  int fd_ = -1;
};

// Double fork + setsid; stdio to /dev/null; chdir("/"). Returns in the daemon only: the original
// process waits for the report and exits with it. An error is returned if the fork itself fails.
Result<StartupReporter> daemonize(const std::string& program_name);

}  // namespace mpx::daemon
