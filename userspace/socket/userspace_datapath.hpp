// UserspaceDatapath: the "userspace" Datapath back-end. Flows stay in the relay process: the
// media sockets forward them with recvmmsg/sendmmsg (MediaSockets' forwarding table), so it needs
// no privileges and no kernel support, at the cost of a CPU core at high packet rates. Counters
// are exact and last_activity is the receive time of the latest packet (no polling needed).
#pragma once

#include <string>
#include <vector>

#include "userspace/datapath.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::datapath {

class UserspaceDatapath final : public Datapath {
 public:
  // `sockets` must outlive this object; flows need both their local sockets open.
  explicit UserspaceDatapath(MediaSockets& sockets) : sockets_(sockets) {}

  std::string name() const override { return "userspace"; }
  Result<void> install(const Flow& flow) override;
  Result<FlowCounters> remove(const Flow& flow) override;
  Result<FlowCounters> counters(const Flow& flow) override;
  std::vector<Flow> flows() const override;

 private:
  MediaSockets& sockets_;
};

}  // namespace mpx::datapath
