// UserspaceDatapath: the Datapath interface over MediaSockets' forwarding table.
#include "userspace/socket/userspace_datapath.hpp"

namespace mpx::datapath {
namespace {

// Sockets see UDP payloads; the Datapath contract counts IPv4 datagrams as the kernel does.
Result<FlowCounters> as_datagrams(Result<FlowCounters> counters) {
  if (counters) {
    auto& c = counters.value();
    c.caller_bytes += c.caller_packets * kIpv4UdpHeaderBytes;
    c.callee_bytes += c.callee_packets * kIpv4UdpHeaderBytes;
  }
  return counters;
}

}  // namespace

Result<void> UserspaceDatapath::install(const Flow& flow) { return sockets_.install(flow); }

Result<FlowCounters> UserspaceDatapath::remove(const Flow& flow) { return as_datagrams(sockets_.remove(flow)); }

Result<FlowCounters> UserspaceDatapath::counters(const Flow& flow) {
  return as_datagrams(sockets_.counters(flow));
}

std::vector<Flow> UserspaceDatapath::flows() const { return sockets_.flows(); }

}  // namespace mpx::datapath
