// sysctl: /proc/sys reads and writes with read-back verification.
#include "userspace/conntrack/sysctl.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <fstream>
#include <sstream>

namespace mpx::datapath {
namespace {

std::string sysctl_path(const std::string& key) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + static_cast<std::ptrdiff_t>(std::string("/proc/sys/").size()),
               path.end(), '.', '/');
  return path;
}

std::string without_trailing_space(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.pop_back();
  }
  return text;
}

}  // namespace

Result<void> write_sysctl(const std::string& key, const std::string& value) {
  const std::string path = sysctl_path(key);
  {
    std::ofstream out(path);
    if (!out) {
      return Error{"sysctl " + key + ": cannot open " + path + " for writing"};
    }
    out << value << '\n';
    out.flush();
    if (!out) {
      return Error{"sysctl " + key + ": writing '" + value + "' to " + path + " failed"};
    }
  }
  auto now = read_sysctl(key);
  if (!now) {
    return now.error();
  }
  if (now.value() != value) {
    return Error{"sysctl " + key + ": wrote '" + value + "' but it reads back '" + now.value() +
                 "'"};
  }
  return outcome::success();
}

Result<std::string> read_sysctl(const std::string& key) {
  const std::string path = sysctl_path(key);
  std::ifstream in(path);
  if (!in) {
    return Error{"sysctl " + key + ": cannot open " + path};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return without_trailing_space(text.str());
}

}  // namespace mpx::datapath
