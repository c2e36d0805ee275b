// Traffic sampling (compat spec 5.14): bps_relayed = 8 x bytes relayed during the last sampling
// period / period. Fed with SessionManager::relayed_bytes() once per traffic_sampling_period by
// the IO layer's timer; no clock here.
#pragma once

#include <chrono>
#include <cstdint>

namespace mpx::relay::session {

class TrafficSampler {
 public:
  // `total_bytes`: every byte relayed so far (monotonic; a smaller value than last time, e.g.
  // after a datapath restart, counts as no traffic rather than a negative rate).
  // `period`: the time since the previous sample. Returns the new bps_relayed.
  double sample(std::uint64_t total_bytes, std::chrono::duration<double> period);
  double bps_relayed() const { return bps_; }

 private:
  std::uint64_t previous_total_ = 0;
  double bps_ = 0;
};

}  // namespace mpx::relay::session
