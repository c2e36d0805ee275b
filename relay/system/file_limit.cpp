// setrlimit(RLIMIT_NOFILE); see file_limit.hpp.
#include "relay/system/file_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mpx::relay::system {

Result<std::uint64_t> raise_file_limit(std::uint64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Error{std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno)};
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) {
    return static_cast<std::uint64_t>(limit.rlim_cur);
  }
  if (limit.rlim_cur == RLIM_INFINITY) {
    return wanted;
  }
  rlimit raised = limit;
  raised.rlim_cur = wanted;
  if (raised.rlim_max != RLIM_INFINITY && raised.rlim_max < wanted) {
    raised.rlim_max = wanted;  // needs CAP_SYS_RESOURCE
  }
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    const int error = errno;
    return Error{"cannot raise the open file limit to " + std::to_string(wanted) + " (soft " +
                 std::to_string(limit.rlim_cur) + ", hard " + std::to_string(limit.rlim_max) +
                 "): " + std::strerror(error) + "; narrow [Relay] port_range or raise the limit"};
  }
  return wanted;
}

}  // namespace mpx::relay::system
