// Traffic sampling (see traffic_sampler.hpp).
#include "relay/session/traffic_sampler.hpp"

namespace mpx::relay::session {

double TrafficSampler::sample(std::uint64_t total_bytes, std::chrono::duration<double> period) {
  const std::uint64_t delta = total_bytes >= previous_total_ ? total_bytes - previous_total_ : 0;
  previous_total_ = total_bytes;
  bps_ = period.count() > 0 ? 8.0 * static_cast<double>(delta) / period.count() : 0.0;
  return bps_;
}

}  // namespace mpx::relay::session
