// The Datapath interface: how the relay hands a latched UDP flow to a forwarding back-end
// (conntrack NAT entries, XDP/TC eBPF maps, or its own sockets) and reads it back. The whole seam
// is here: single and batch install and remove, counters, the flows a previous relay process
// left in the kernel (adoption after a restart), and what the back-end says about itself for
// the summary and the metrics. It knows addresses and counters only: no SIP, no sessions, no
// dispatcher (docs/architecture.md, "Arrows").
#pragma once

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
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

// What a back-end says about itself beyond its flows (the eBPF one: where and how its program is
// attached, and its per-verdict packet counters), for the summary and the metrics.
struct DatapathDetails {
  std::string attach;
  std::map<std::string, std::uint64_t> verdicts;
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // The [Relay] datapath value it implements ("conntrack", "xdp", "tc", "userspace").
  virtual std::string name() const = 0;
  virtual Result<void> install(const Flow& flow) = 0;
  // Removes the flow and returns its final counters.
  virtual Result<FlowCounters> remove(const Flow& flow) = 0;
  virtual Result<FlowCounters> counters(const Flow& flow) = 0;
  virtual std::vector<Flow> flows() const = 0;

  // Per flow, the same result as install() / remove(); a back-end with a cheaper bulk path
  // (one kernel round trip for many flows) overrides them.
  virtual std::vector<Result<void>> install_batch(std::span<const Flow> flows);
  virtual std::vector<Result<FlowCounters>> remove_batch(std::span<const Flow> flows);

  // ---- restart: flows that outlive the process ----
  // Whether installed flows keep forwarding after the process died (kernel state), so that a
  // restarted relay can take its calls over; only then is a state file worth keeping.
  virtual bool flows_outlive_process() const { return false; }
  // The flows a previous process left, found when this one opened; they count as installed.
  virtual std::vector<Flow> adopted() const { return {}; }
  // A restarted relay taking one of them over for a session it recovered, in its own
  // orientation; an error when no installed flow matches (its entries are gone).
  virtual Result<void> claim_adopted(const Flow& flow);
  // Where leftover flows live, for the log ("conntrack (mark 0x6d707831)", a pin directory).
  virtual std::string leftovers_location() const { return name(); }

  // ---- what the relay must know to drive it ----
  // The longest the relay may wait between two counters() reads of a flow before the back-end
  // loses it (conntrack's lease); nullopt: no limit.
  virtual std::optional<std::chrono::milliseconds> max_poll_interval() const {
    return std::nullopt;
  }
  // For the summary and the metrics; nullopt when the back-end has nothing to add.
  virtual std::optional<DatapathDetails> details() const { return std::nullopt; }
};

}  // namespace mpx::datapath
