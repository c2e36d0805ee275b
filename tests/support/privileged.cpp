// Requirement probes behind MPX_REQUIRE (see privileged.hpp).
#include "tests/support/privileged.hpp"

#include <linux/capability.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace mpx::test {
namespace {

// Reads CapEff from /proc/self/status: avoids a libcap dependency for one bitmask.
bool has_capability(int cap) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return (mask >> cap) & 1ULL;
    }
  }
  return false;
}

}  // namespace

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::string missing_root() {
  if (geteuid() != 0) {
    return "needs root (effective uid is " + std::to_string(geteuid()) + ")";
  }
  if (!has_capability(CAP_NET_ADMIN) || !has_capability(CAP_SYS_ADMIN)) {
    return "needs CAP_NET_ADMIN and CAP_SYS_ADMIN (running in a restricted container?)";
  }
  return {};
}

std::string missing_tool(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / tool;
    if (access(candidate.c_str(), X_OK) == 0) {
      return {};
    }
  }
  return "needs the tool '" + tool + "' in PATH (scripts/install-deps.sh installs it)";
}

std::string missing_path(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return {};
  }
  return "needs " + what + " (" + path + " does not exist)";
}

}  // namespace mpx::test
