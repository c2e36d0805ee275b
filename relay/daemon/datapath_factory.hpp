// The datapath a relay runs, built from [Relay] datapath and each back-end's own options: one case
// per datapath. conntrack prepares the network namespace (sysctls, its nftables table, kept for
// the datapath's lifetime); xdp and tc enable IPv4 forwarding (their route lookups need it),
// load, attach and pin their program; userspace forwards through the relay's own sockets. The
// kernel datapaths keep the flows a previous relay process left, as adopted(), for the restart
// step to take over or remove (relay/recovery/session_recovery.hpp).
#pragma once

#include <memory>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::relay::daemon {

// What the configuration alone says against the chosen datapath (before anything is touched).
Result<void> check_datapath(const config::Config& config);

// The error is one line for the operator, naming the datapath and what failed. `sockets` must
// outlive the datapath (the userspace one forwards through them).
Result<std::unique_ptr<datapath::Datapath>> open_datapath(const config::Config& config,
                                                          datapath::MediaSockets& sockets);

}  // namespace mpx::relay::daemon
