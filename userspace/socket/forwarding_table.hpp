// ForwardingTable: the userspace datapath's installed flows, looked up by (local socket, remote
// source) on every received packet. It owns the per-direction counters and the transmit_every
// sequence; it knows sockets only as file descriptors handed in at install time (MediaSockets
// removes a socket's flows before closing it, so an installed direction's fd is always open).
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/endpoint_key.hpp"

namespace mpx::datapath::socket_detail {

// One direction of an installed flow, as the receive path needs it.
struct Direction {
  int out_fd = -1;          // the relay socket the packets leave from
  sockaddr_in destination;  // where they go
  std::uint64_t* packets = nullptr;  // the flow's counters for this direction
  std::uint64_t* bytes = nullptr;
  std::chrono::steady_clock::time_point* last_activity = nullptr;
  std::uint64_t sequence = 0;  // packets seen, for transmit_every
};

class ForwardingTable {
 public:
  ForwardingTable() = default;
  ForwardingTable(const ForwardingTable&) = delete;
  ForwardingTable& operator=(const ForwardingTable&) = delete;

  // caller_fd / callee_fd: the open sockets bound to flow.caller_local / flow.callee_local.
  // Errors: non-IPv4 or unusable remote (0.0.0.0, port 0), both legs identical, a leg already
  // used by an installed flow.
  Result<void> install(const Flow& flow, int caller_fd, int callee_fd);
  Result<FlowCounters> remove(const Flow& flow);
  Result<FlowCounters> counters(const Flow& flow) const;
  std::vector<Flow> flows() const;
  // Removes every flow with a leg on the local socket `local`; returns how many.
  std::size_t remove_using(EndpointKey local);

  bool empty() const { return legs_.empty(); }
  // The direction packets from `remote` arriving at `local` take; nullptr when none (punt).
  Direction* find(EndpointKey local, EndpointKey remote) {
    if (legs_.empty()) return nullptr;
    const auto it = legs_.find(LegKey{local, remote});
    return it == legs_.end() ? nullptr : it->second;
  }

 private:
  struct Installed {
    Flow flow;
    FlowCounters counters;
    Direction from_caller;  // caller_remote -> caller_local  ==> callee_local -> callee_remote
    Direction from_callee;  // callee_remote -> callee_local  ==> caller_local -> caller_remote
  };
  using FlowMap = std::map<LegKey, std::unique_ptr<Installed>>;

  static LegKey caller_leg(const Flow& flow);
  static LegKey callee_leg(const Flow& flow);
  // The installed flow equal to `flow`, or an error naming `action`.
  Result<FlowMap::const_iterator> find_flow(const Flow& flow, const char* action) const;
  void erase(FlowMap::const_iterator it);

  FlowMap flows_;  // keyed by the caller leg; ordered so flows() is deterministic
  std::unordered_map<LegKey, Direction*, LegKeyHash> legs_;
};

}  // namespace mpx::datapath::socket_detail
