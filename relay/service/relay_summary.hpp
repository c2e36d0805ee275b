// The relay's `summary` record: MediaProxy's keys (ip, version, status, uptime, session_count,
// stream_count, bps_relayed) in MediaProxy's order, then mpx's: `load` (streams) and `datapath`
// (which one, its flows and hand-offs, what the relay's sockets dropped and why, how locks moved,
// and the eBPF program's attachment and verdicts). Dispatchers ignore the keys they do not know.
#pragma once

#include <string>

namespace mpx::relay::service {

class RelayService;

// The JSON text, as Python's json.dumps would write it.
std::string relay_summary_json(const RelayService& service);

}  // namespace mpx::relay::service
