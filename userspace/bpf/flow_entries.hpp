// How a Flow becomes entries of the BPF flow map and back: one entry per direction, keyed by
// (relay endpoint, remote endpoint) as the programs look packets up (bpf/mpx_shared.h), the
// validation of a flow before install, the counters of a pair of entries, and the pairing of
// entries found in a reused pinned map into Flows (adoption after a restart).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bpf/mpx_shared.h"
#include "userspace/datapath.hpp"

namespace mpx::datapath::bpf {

struct FlowEntry {
  mpx_flow_key key{};
  mpx_flow_value value{};
};

// caller: packets from caller_remote to caller_local, rewritten to callee_local -> callee_remote;
// callee: the reverse. egress_ifindex 0: the route decides (the Flow names no interface).
struct FlowEntries {
  FlowEntry caller;
  FlowEntry callee;
};

// Orders keys bytewise, for std::map (the key struct has no padding).
struct KeyLess {
  bool operator()(const mpx_flow_key& a, const mpx_flow_key& b) const;
};
bool same_key(const mpx_flow_key& a, const mpx_flow_key& b);

std::string describe(const Endpoint& endpoint);
// "10.1.0.10:5000 -> 203.0.113.1:40000 / 203.0.113.1:40002 -> 10.2.0.20:6000"
std::string describe(const Flow& flow);
std::string describe(const mpx_flow_key& key);  // "remote -> relay"

// Why the flow cannot be a pair of map entries on its own ("" when it can): every endpoint IPv4
// with a specified address and a non-zero port, and the two directions' keys distinct.
std::string invalid_flow(const Flow& flow);

// Precondition: invalid_flow(flow) is "".
FlowEntries entries_of(const Flow& flow);

// The counters of a flow from its two values. last_activity is the later last_seen_ns (the BPF
// programs' bpf_ktime_get_ns, CLOCK_MONOTONIC, which is what std::chrono::steady_clock reads on
// Linux); the epoch when neither direction forwarded a packet.
FlowCounters counters_of(const mpx_flow_value& caller, const mpx_flow_value& callee);

// Pairs the entries of a map into flows: an entry and the entry whose key is its rewrite
// (new_src, new_dst) and whose rewrite is its key form one Flow. Which side is the "caller" is
// not stored in the map: the direction whose relay endpoint (port, then address) is lower
// becomes caller_local. Entries without a partner (a crash between the two halves of an
// install or a remove) are returned as orphans.
struct PairedEntries {
  std::vector<Flow> flows;
  std::vector<mpx_flow_key> orphans;
};
PairedEntries pair_entries(const std::vector<FlowEntry>& entries);

}  // namespace mpx::datapath::bpf
