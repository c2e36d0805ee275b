// retry_delay (see reconnect_policy.hpp).
#include "relay/link/reconnect_policy.hpp"

namespace mpx::relay::link {

std::chrono::steady_clock::duration retry_delay(LinkEnd end,
                                                std::chrono::steady_clock::duration lived,
                                                const ReconnectTimes& times) {
  if (end == LinkEnd::lost && lived >= times.short_lived) {
    return times.quick_retry;
  }
  return times.reconnect_delay;
}

}  // namespace mpx::relay::link
