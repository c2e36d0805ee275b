// The Datapath interface: how the relay hands a latched UDP flow to a forwarding back-end
// (conntrack NAT entries, XDP/TC eBPF maps, or its own sockets) and reads it back. It knows
// addresses and counters only: no SIP, no sessions, no dispatcher (ARCHITECTURE.md arrows).
#pragma once

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace mpx::datapath {

using Endpoint = boost::asio::ip::udp::endpoint;

// One bidirectional flow: what arrives from caller_remote at caller_local leaves from
// callee_local to callee_remote, and the reverse. Packets from any other source are not
// forwarded (the source gate every back-end enforces).
struct Flow {
  Endpoint caller_remote;
  Endpoint caller_local;
  Endpoint callee_local;
  Endpoint callee_remote;
  friend bool operator==(const Flow&, const Flow&) = default;
};

// IPv4 + UDP header bytes: what a datagram adds to the payload a socket sees.
inline constexpr std::uint64_t kIpv4UdpHeaderBytes = 28;

// Bytes count whole IPv4 datagrams (IP and UDP headers included), as conntrack accounting does,
// so every back-end reports the same figures for the same traffic.
struct FlowCounters {
  std::uint64_t caller_packets = 0;  // caller_remote -> callee_remote
  std::uint64_t caller_bytes = 0;
  std::uint64_t callee_packets = 0;  // callee_remote -> caller_remote
  std::uint64_t callee_bytes = 0;
  // Last packet in either direction, on the steady clock; epoch when none was seen.
  std::chrono::steady_clock::time_point last_activity{};
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  virtual std::string name() const = 0;
  virtual Result<void> install(const Flow& flow) = 0;
  // Removes the flow and returns its final counters.
  virtual Result<FlowCounters> remove(const Flow& flow) = 0;
  virtual Result<FlowCounters> counters(const Flow& flow) = 0;
  virtual std::vector<Flow> flows() const = 0;
};

}  // namespace mpx::datapath
