// RLIMIT_NOFILE for the relay (compat spec 5.1 step 5): four sockets per stream, two per port
// pair, so the port range plus headroom for links, netlink and logs must fit.
#pragma once

#include <cstdint>

#include "common/result.hpp"

namespace mpx::relay::system {

// Raises the soft (and if needed the hard) limit to at least `wanted`; never lowers it.
// Returns the soft limit now in force; an error names the wanted and the possible limit.
Result<std::uint64_t> raise_file_limit(std::uint64_t wanted);

}  // namespace mpx::relay::system
