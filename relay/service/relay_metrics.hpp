// The relay's Prometheus metrics ([Relay] listen_metrics): sessions, streams by media type, bytes
// relayed, the datapath's flows and what the relay's sockets dropped by reason, dispatcher links.
// Built at scrape time on the relay's executor.
#pragma once

#include <cstddef>
#include <vector>

#include "common/metrics/exposition.hpp"
#include "relay/service/relay_service.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::relay::service {

std::vector<metrics::MetricFamily> relay_metrics(const RelayService& service,
                                                 const datapath::MediaSockets::Stats& sockets,
                                                 std::size_t dispatchers_connected);

}  // namespace mpx::relay::service
