// sysctl: reads and writes /proc/sys knobs. Net knobs resolve in the network namespace of the
// calling THREAD (the one it entered with setns), which is what a relay preparing its own
// namespace needs.
#pragma once

#include <string>

#include "common/result.hpp"

namespace mpx::datapath {

// Writes value to /proc/sys/<key with '.' as '/'> and checks that it reads back the same.
Result<void> write_sysctl(const std::string& key, const std::string& value);
// The knob's value without trailing whitespace.
Result<std::string> read_sysctl(const std::string& key);

}  // namespace mpx::datapath
