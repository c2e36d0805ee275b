// NetnsHome: setns into the datapath's namespace for the duration of a kernel call (see header).
#include "userspace/bpf/netns_scope.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace mpx::datapath::bpf {
namespace {

int open_thread_netns() { return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC); }

bool same_namespace(int a, int b) {
  struct stat sa{};
  struct stat sb{};
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace

Result<NetnsHome> NetnsHome::current() {
  const int fd = open_thread_netns();
  if (fd < 0) {
    return Error{std::string("cannot open this thread's network namespace: ") +
                 std::strerror(errno)};
  }
  return NetnsHome(fd);
}

NetnsHome::NetnsHome(NetnsHome&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

NetnsHome::~NetnsHome() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

NetnsHome::Visit::Visit(int home_fd) {
  const int here = open_thread_netns();
  if (here < 0 || home_fd < 0) {
    ok_ = false;
    if (here >= 0) {
      close(here);
    }
    return;
  }
  if (same_namespace(here, home_fd)) {
    close(here);
    return;
  }
  if (setns(home_fd, CLONE_NEWNET) != 0) {
    close(here);
    ok_ = false;
    return;
  }
  return_fd_ = here;
}

NetnsHome::Visit::~Visit() {
  if (return_fd_ < 0) {
    return;
  }
  // A thread left in the datapath's namespace would run everything after it there.
  if (setns(return_fd_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "BpfDatapath: cannot return to the thread's namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
  close(return_fd_);
}

}  // namespace mpx::datapath::bpf
