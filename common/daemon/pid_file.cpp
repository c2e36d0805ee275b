// PidFile implementation: open, flock(LOCK_EX|LOCK_NB), truncate, write the PID.
#include "common/daemon/pid_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace mpx::daemon {

Result<PidFile> PidFile::create(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{"cannot open PID file " + path.string() + ": " + std::strerror(errno)};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string other = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    while (!other.empty() && (other.back() == '\n' || other.back() == ' ')) {
      other.pop_back();
    }
    return Error{"another instance holds PID file " + path.string() + " (pid " + other + ")"};
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return Error{"cannot write PID file " + path.string() + ": " + reason};
  }
  return PidFile(path, fd);
}

PidFile::PidFile(PidFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

PidFile::~PidFile() {
  if (fd_ >= 0) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    ::close(fd_);
  }
}

}  // namespace mpx::daemon
