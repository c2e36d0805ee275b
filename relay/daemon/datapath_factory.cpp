// One case per datapath; see datapath_factory.hpp.
#include "relay/daemon/datapath_factory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "userspace/bpf/bpf_datapath.hpp"
#include "userspace/conntrack/conntrack_datapath.hpp"
#include "userspace/conntrack/sysctl.hpp"
#include "userspace/socket/userspace_datapath.hpp"

namespace mpx::relay::daemon {
namespace {

using DatapathResult = Result<std::unique_ptr<datapath::Datapath>>;

// "<prefix>: <why>", unless the back-end already named itself.
Error named(std::string_view prefix, const Error& error) {
  if (error.message.rfind(prefix, 0) == 0) {
    return error;
  }
  return Error{std::string(prefix) + ": " + error.message};
}

DatapathResult open_conntrack(const config::RelayConfig& relay) {
  datapath::ConntrackDatapath::Options options;
  options.adopt_leftovers = true;  // the restart step decides what stays
  datapath::NamespacePreparer::Options preparation;
  // The last pair of START:END is (END - 2, END - 1).
  preparation.own_ports = std::pair{static_cast<std::uint16_t>(relay.port_range.start),
                                    static_cast<std::uint16_t>(relay.port_range.end - 1)};
  options.prepare_namespace = preparation;
  auto opened = datapath::ConntrackDatapath::open(options);
  if (!opened) {
    return named("conntrack datapath", opened.error());
  }
  return std::unique_ptr<datapath::Datapath>(std::move(opened).value());
}

DatapathResult open_ebpf(const config::Config& config) {
  const auto& relay = config.relay;
  if (auto checked = check_datapath(config); !checked) {
    return checked.error();
  }
  if (auto forwarding = datapath::write_sysctl("net.ipv4.ip_forward", "1"); !forwarding) {
    return Error{"eBPF datapath: cannot enable IPv4 forwarding: " + forwarding.error().message};
  }
  datapath::BpfDatapath::Options options;
  options.program = relay.datapath == config::Datapath::xdp ? datapath::BpfDatapath::Program::xdp
                                                            : datapath::BpfDatapath::Program::tc;
  options.xdp_mode = relay.xdp_mode == config::XdpMode::generic
                         ? datapath::BpfDatapath::XdpMode::generic
                         : datapath::BpfDatapath::XdpMode::native;
  options.interfaces = relay.bpf_interfaces;
  options.pin_dir = relay.bpf_pin_path;
  // Two flows (RTP, RTCP) of two directions per stream, a stream per two port pairs.
  options.max_flows = std::max<std::uint32_t>(1024, relay.port_range.pair_count() * 2);
  auto opened = datapath::BpfDatapath::open(options);
  if (!opened) {
    return named("eBPF datapath", opened.error());
  }
  spdlog::info("eBPF datapath: {}", opened.value()->attach_mode());
  return std::unique_ptr<datapath::Datapath>(std::move(opened).value());
}

}  // namespace

Result<void> check_datapath(const config::Config& config) {
  const auto& relay = config.relay;
  const bool ebpf = relay.datapath == config::Datapath::xdp || relay.datapath == config::Datapath::tc;
  if (ebpf && relay.bpf_interfaces.empty()) {
    return Error{config.describe_option("Relay", "datapath") + " = " +
                 std::string(config::to_string(relay.datapath)) +
                 " needs [Relay] bpf_interfaces: the interfaces media arrives on"};
  }
  return outcome::success();
}

DatapathResult open_datapath(const config::Config& config, datapath::MediaSockets& sockets) {
  switch (config.relay.datapath) {
    case config::Datapath::conntrack:
      return open_conntrack(config.relay);
    case config::Datapath::xdp:
    case config::Datapath::tc:
      return open_ebpf(config);
    case config::Datapath::userspace:
      return std::unique_ptr<datapath::Datapath>(
          std::make_unique<datapath::UserspaceDatapath>(sockets));
  }
  return Error{"unknown datapath"};
}

}  // namespace mpx::relay::daemon
