// daemonize(): classic double fork with a readiness pipe back to the waiting parent.
#include "common/daemon/daemonize.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace mpx::daemon {
namespace {

void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0 && errno != EINTR) {
      return;
    }
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    }
  }
}

// The original process: wait for "OK\n" or an error line, then exit accordingly.
[[noreturn]] void wait_for_report(int fd, const std::string& program_name) {
  std::string report;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    report.append(buf, static_cast<std::size_t>(n));
  }
  if (report == "OK\n") {
    std::_Exit(0);
  }
  if (report.empty()) {
    report = "exited during start-up without a report (see syslog)\n";
  }
  std::fprintf(stderr, "%s: %s", program_name.c_str(), report.c_str());
  std::_Exit(1);
}

}  // namespace

StartupReporter::StartupReporter(StartupReporter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

StartupReporter& StartupReporter::operator=(StartupReporter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StartupReporter::~StartupReporter() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void StartupReporter::ready() {
  if (fd_ >= 0) {
    write_all(fd_, "OK\n");
    ::close(std::exchange(fd_, -1));
  }
}

void StartupReporter::failed(const std::string& line) {
  if (fd_ >= 0) {
    write_all(fd_, line + "\n");
    ::close(std::exchange(fd_, -1));
  }
}

Result<StartupReporter> daemonize(const std::string& program_name) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Error{std::string("cannot create the start-up pipe: ") + std::strerror(errno)};
  }
  const pid_t first = ::fork();
  if (first < 0) {
    return Error{std::string("cannot fork: ") + std::strerror(errno)};
  }
  if (first > 0) {
    ::close(pipe_fds[1]);
    int status = 0;
    ::waitpid(first, &status, 0);  // the intermediate child exits at once
    wait_for_report(pipe_fds[0], program_name);
  }
  ::close(pipe_fds[0]);
  ::setsid();
  const pid_t second = ::fork();
  if (second < 0) {
    std::_Exit(1);
  }
  if (second > 0) {
    std::_Exit(0);
  }
  ::umask(022);
  if (::chdir("/") != 0) {
    // "/" always exists; nothing useful to do if it does not.
  }
  const int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    if (devnull > STDERR_FILENO) {
      ::close(devnull);
    }
  }
  return StartupReporter(pipe_fds[1]);
}

}  // namespace mpx::daemon
