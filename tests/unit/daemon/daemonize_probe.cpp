// Test helper for daemonize(): `daemonize_probe ready|fail FILE` forks into the background, writes
// "<pid> <sid>" to FILE from the daemon, then reports ready or a failure line to the waiting parent.
#include <unistd.h>

#include <fstream>
#include <string>

#include "common/daemon/daemonize.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    return 64;
  }
  auto reporter = mpx::daemon::daemonize("daemonize_probe");
  if (!reporter) {
    return 70;
  }
  {
    std::ofstream(argv[2]) << getpid() << " " << getsid(0) << "\n";
  }
  if (std::string(argv[1]) == "ready") {
    reporter.value().ready();
  } else {
    reporter.value().failed("cannot bind 0.0.0.0:25060: Address already in use");
  }
  return 0;
}
