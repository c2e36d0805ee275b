// ForwardingTable: validation, installation and removal of flows, counter snapshots.
#include "userspace/socket/forwarding_table.hpp"

#include <string>
#include <utility>

namespace mpx::datapath::socket_detail {
namespace {

Error flow_error(const char* action, const Flow& flow, const std::string& why) {
  return Error{std::string("userspace datapath: ") + action + " " + flow_text(flow) + ": " + why};
}

bool usable_remote(const Endpoint& remote) {
  return !remote.address().is_unspecified() && remote.port() != 0;
}

Direction make_direction(int out_fd, const Endpoint& destination, std::uint64_t* packets,
                         std::uint64_t* bytes, FlowCounters& counters) {
  Direction direction;
  direction.out_fd = out_fd;
  direction.destination = sockaddr_of(destination);
  direction.packets = packets;
  direction.bytes = bytes;
  direction.last_activity = &counters.last_activity;
  return direction;
}

}  // namespace

LegKey ForwardingTable::caller_leg(const Flow& flow) {
  return LegKey{key_of(flow.caller_local), key_of(flow.caller_remote)};
}

LegKey ForwardingTable::callee_leg(const Flow& flow) {
  return LegKey{key_of(flow.callee_local), key_of(flow.callee_remote)};
}

Result<void> ForwardingTable::install(const Flow& flow, int caller_fd, int callee_fd) {
  if (!flow.caller_remote.address().is_v4() || !flow.caller_local.address().is_v4() ||
      !flow.callee_local.address().is_v4() || !flow.callee_remote.address().is_v4()) {
    return flow_error("install", flow, "only IPv4 endpoints are supported");
  }
  if (!usable_remote(flow.caller_remote) || !usable_remote(flow.callee_remote)) {
    return flow_error("install", flow, "a remote endpoint has no address or port 0");
  }
  const LegKey from_caller = caller_leg(flow);
  const LegKey from_callee = callee_leg(flow);
  if (from_caller == from_callee) {
    return flow_error("install", flow, "caller and callee legs are the same");
  }
  for (const LegKey& leg : {from_caller, from_callee}) {
    const auto it = legs_.find(leg);
    if (it == legs_.end()) continue;
    for (const auto& [key, installed] : flows_) {
      if (&installed->from_caller == it->second || &installed->from_callee == it->second) {
        return flow_error("install", flow,
                          "overlaps installed flow " + flow_text(installed->flow));
      }
    }
    return flow_error("install", flow, "overlaps an installed flow");
  }

  auto installed = std::make_unique<Installed>();
  installed->flow = flow;
  FlowCounters& c = installed->counters;
  installed->from_caller =
      make_direction(callee_fd, flow.callee_remote, &c.caller_packets, &c.caller_bytes, c);
  installed->from_callee =
      make_direction(caller_fd, flow.caller_remote, &c.callee_packets, &c.callee_bytes, c);
  legs_.emplace(from_caller, &installed->from_caller);
  legs_.emplace(from_callee, &installed->from_callee);
  flows_.emplace(from_caller, std::move(installed));
  return outcome::success();
}

Result<ForwardingTable::FlowMap::const_iterator> ForwardingTable::find_flow(
    const Flow& flow, const char* action) const {
  if (!flow.caller_local.address().is_v4() || !flow.caller_remote.address().is_v4()) {
    return flow_error(action, flow, "not installed");
  }
  const auto it = flows_.find(caller_leg(flow));
  if (it == flows_.end() || !(it->second->flow == flow)) {
    return flow_error(action, flow, "not installed");
  }
  return it;
}

void ForwardingTable::erase(FlowMap::const_iterator it) {
  legs_.erase(caller_leg(it->second->flow));
  legs_.erase(callee_leg(it->second->flow));
  flows_.erase(it);
}

Result<FlowCounters> ForwardingTable::remove(const Flow& flow) {
  auto found = find_flow(flow, "remove");
  if (!found) return found.error();
  const FlowCounters last = found.value()->second->counters;
  erase(found.value());
  return last;
}

Result<FlowCounters> ForwardingTable::counters(const Flow& flow) const {
  auto found = find_flow(flow, "counters of");
  if (!found) return found.error();
  return found.value()->second->counters;
}

std::vector<Flow> ForwardingTable::flows() const {
  std::vector<Flow> all;
  all.reserve(flows_.size());
  for (const auto& [key, installed] : flows_) all.push_back(installed->flow);
  return all;
}

std::size_t ForwardingTable::remove_using(EndpointKey local) {
  std::size_t removed = 0;
  for (auto it = flows_.begin(); it != flows_.end();) {
    const Flow& flow = it->second->flow;
    const auto next = std::next(it);
    if (key_of(flow.caller_local) == local || key_of(flow.callee_local) == local) {
      erase(it);
      ++removed;
    }
    it = next;
  }
  return removed;
}

}  // namespace mpx::datapath::socket_detail
