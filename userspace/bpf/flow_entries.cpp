// Flow <-> flow map entries (see flow_entries.hpp).
#include "userspace/bpf/flow_entries.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <tuple>

namespace mpx::datapath::bpf {
namespace {

__be32 be32_of(const Endpoint& endpoint) { return htonl(endpoint.address().to_v4().to_uint()); }
__be16 be16_of(const Endpoint& endpoint) { return htons(endpoint.port()); }

Endpoint endpoint_of(__be32 address, __be16 port) {
  return Endpoint(boost::asio::ip::address_v4(ntohl(address)), ntohs(port));
}

std::string check_endpoint(const Endpoint& endpoint, const char* role) {
  if (!endpoint.address().is_v4()) {
    return std::string(role) + " " + describe(endpoint) + " is not IPv4 (the BPF programs forward IPv4 only)";
  }
  if (endpoint.address().is_unspecified()) {
    return std::string(role) + " has no address";
  }
  if (endpoint.port() == 0) {
    return std::string(role) + " " + describe(endpoint) + " has port 0";
  }
  return "";
}

// Sort order of a direction's relay endpoint for choosing the caller side of an adopted pair.
std::tuple<std::uint16_t, std::uint32_t, std::uint16_t, std::uint32_t> order_of(
    const mpx_flow_key& key) {
  return {ntohs(key.relay_port), ntohl(key.relay_addr), ntohs(key.remote_port),
          ntohl(key.remote_addr)};
}

}  // namespace

bool KeyLess::operator()(const mpx_flow_key& a, const mpx_flow_key& b) const {
  return std::memcmp(&a, &b, sizeof a) < 0;
}

bool same_key(const mpx_flow_key& a, const mpx_flow_key& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

std::string describe(const Endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::string describe(const Flow& flow) {
  return describe(flow.caller_remote) + " -> " + describe(flow.caller_local) + " / " +
         describe(flow.callee_local) + " -> " + describe(flow.callee_remote);
}

std::string describe(const mpx_flow_key& key) {
  return describe(endpoint_of(key.remote_addr, key.remote_port)) + " -> " +
         describe(endpoint_of(key.relay_addr, key.relay_port));
}

std::string invalid_flow(const Flow& flow) {
  for (const auto& [endpoint, role] :
       {std::pair{&flow.caller_remote, "caller_remote"}, std::pair{&flow.caller_local, "caller_local"},
        std::pair{&flow.callee_local, "callee_local"},
        std::pair{&flow.callee_remote, "callee_remote"}}) {
    std::string why = check_endpoint(*endpoint, role);
    if (!why.empty()) {
      return why;
    }
  }
  if (flow.caller_local == flow.callee_local && flow.caller_remote == flow.callee_remote) {
    return "both directions would have the same key";
  }
  return "";
}

FlowEntries entries_of(const Flow& flow) {
  FlowEntries entries;
  entries.caller.key = {be32_of(flow.caller_local), be32_of(flow.caller_remote),
                        be16_of(flow.caller_local), be16_of(flow.caller_remote)};
  entries.caller.value.new_src_addr = be32_of(flow.callee_local);
  entries.caller.value.new_dst_addr = be32_of(flow.callee_remote);
  entries.caller.value.new_src_port = be16_of(flow.callee_local);
  entries.caller.value.new_dst_port = be16_of(flow.callee_remote);
  entries.callee.key = {be32_of(flow.callee_local), be32_of(flow.callee_remote),
                        be16_of(flow.callee_local), be16_of(flow.callee_remote)};
  entries.callee.value.new_src_addr = be32_of(flow.caller_local);
  entries.callee.value.new_dst_addr = be32_of(flow.caller_remote);
  entries.callee.value.new_src_port = be16_of(flow.caller_local);
  entries.callee.value.new_dst_port = be16_of(flow.caller_remote);
  return entries;
}

FlowCounters counters_of(const mpx_flow_value& caller, const mpx_flow_value& callee) {
  FlowCounters counters;
  counters.caller_packets = caller.packets;
  counters.caller_bytes = caller.bytes;
  counters.callee_packets = callee.packets;
  counters.callee_bytes = callee.bytes;
  const std::uint64_t last_ns = std::max(caller.last_seen_ns, callee.last_seen_ns);
  if (last_ns != 0) {
    counters.last_activity = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(last_ns)));
  }
  return counters;
}

PairedEntries pair_entries(const std::vector<FlowEntry>& entries) {
  std::map<mpx_flow_key, const FlowEntry*, KeyLess> by_key;
  for (const FlowEntry& entry : entries) {
    by_key.emplace(entry.key, &entry);
  }
  PairedEntries paired;
  std::map<mpx_flow_key, bool, KeyLess> used;
  for (const FlowEntry& entry : entries) {
    if (used.contains(entry.key)) {
      continue;
    }
    const mpx_flow_key partner_key{entry.value.new_src_addr, entry.value.new_dst_addr,
                                   entry.value.new_src_port, entry.value.new_dst_port};
    const auto partner = by_key.find(partner_key);
    const bool mutual =
        partner != by_key.end() && !same_key(partner_key, entry.key) &&
        !used.contains(partner_key) && partner->second->value.new_src_addr == entry.key.relay_addr &&
        partner->second->value.new_src_port == entry.key.relay_port &&
        partner->second->value.new_dst_addr == entry.key.remote_addr &&
        partner->second->value.new_dst_port == entry.key.remote_port;
    if (!mutual) {
      paired.orphans.push_back(entry.key);
      used.emplace(entry.key, true);
      continue;
    }
    const mpx_flow_key& caller = order_of(entry.key) < order_of(partner_key) ? entry.key
                                                                              : partner_key;
    const mpx_flow_key& callee = &caller == &entry.key ? partner_key : entry.key;
    paired.flows.push_back(Flow{endpoint_of(caller.remote_addr, caller.remote_port),
                                endpoint_of(caller.relay_addr, caller.relay_port),
                                endpoint_of(callee.relay_addr, callee.relay_port),
                                endpoint_of(callee.remote_addr, callee.remote_port)});
    used.emplace(entry.key, true);
    used.emplace(partner_key, true);
  }
  return paired;
}

}  // namespace mpx::datapath::bpf
