// NetnsLab: drives scripts/lab.sh (up in the constructor, down in the destructor) and enters the
// lab's network namespaces, by `ip netns exec` for commands and by setns() for in-process sockets.
#include "tests/support/netns_lab.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace mpx::test {
namespace {

// Closes an fd on scope exit; in_ns() must not leak descriptors on any path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string describe(const RunResult& r) {
  std::string text = "exit " + std::to_string(r.exit_code);
  if (r.timed_out) {
    text += " (timed out)";
  }
  if (!r.out.empty()) {
    text += "\nstdout:\n" + r.out;
  }
  if (!r.err.empty()) {
    text += "\nstderr:\n" + r.err;
  }
  return text;
}

constexpr auto kLabScriptTimeout = std::chrono::seconds(60);

}  // namespace

std::string unique_lab_name(const std::string& base) {
  static std::atomic<unsigned> counter{0};
  std::string cut = base.substr(0, 12);
  while (!cut.empty() && cut.back() == '-') {
    cut.pop_back();
  }
  if (cut.empty()) {
    cut = "lab";
  }
  return cut + "-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

std::string lab_script() { return source_path("scripts/lab.sh"); }

NetnsLab::NetnsLab(const std::string& base_name, Variant variant)
    : name_(unique_lab_name(base_name)) {
  std::vector<std::string> argv{"bash", lab_script(), "up", name_};
  if (variant == Variant::kTwoRelays) {
    argv.emplace_back("--two-relays");
  } else if (variant == Variant::kAttack) {
    argv.emplace_back("--attack");
  }
  const RunResult up = run(argv, kLabScriptTimeout);
  if (up.exit_code != 0) {
    // lab.sh removes its own partial work; down again in case it was killed on the timeout.
    run({"bash", lab_script(), "down", name_}, kLabScriptTimeout);
    throw std::runtime_error("scripts/lab.sh up " + name_ + " failed: " + describe(up));
  }
}

NetnsLab::~NetnsLab() {
  try {
    const RunResult down = run({"bash", lab_script(), "down", name_}, kLabScriptTimeout);
    if (down.exit_code != 0) {
      // A lab that cannot be removed is a defect worth failing the test for, not just a warning.
      ADD_FAILURE() << "scripts/lab.sh down " << name_ << " failed: " << describe(down);
    }
  } catch (...) {
    std::fprintf(stderr, "NetnsLab: scripts/lab.sh down %s could not run\n", name_.c_str());
  }
}

std::string NetnsLab::ns(const std::string& role) const { return "mpx-" + name_ + "-" + role; }

std::filesystem::path NetnsLab::bpffs_dir() const {
  return std::filesystem::path("/run/mpx-lab") / name_ / "bpffs";
}

RunResult NetnsLab::exec(const std::string& role, const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout) const {
  std::vector<std::string> full{"ip", "netns", "exec", ns(role)};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full, timeout);
}

void NetnsLab::in_ns(const std::string& role, const std::function<void()>& fn) const {
  const FdCloser original(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (original.get() < 0) {
    throw std::runtime_error(std::string("cannot open this thread's network namespace: ") +
                             std::strerror(errno));
  }
  const std::string target_path = "/run/netns/" + ns(role);
  const FdCloser target(open(target_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (target.get() < 0) {
    throw std::runtime_error("cannot open " + target_path + ": " + std::strerror(errno));
  }
  if (setns(target.get(), CLONE_NEWNET) != 0) {
    throw std::runtime_error("setns into " + target_path + " failed: " + std::strerror(errno));
  }
  // Returning to the original namespace cannot be skipped: a test thread left in a lab
  // namespace would silently run everything after it there, so failure to return aborts.
  const auto restore = [&original]() noexcept {
    if (setns(original.get(), CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "NetnsLab: cannot return to the original network namespace: %s\n",
                   std::strerror(errno));
      std::terminate();
    }
  };
  try {
    fn();
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

}  // namespace mpx::test
