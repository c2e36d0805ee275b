// Relay metric families; see relay_metrics.hpp.
#include "relay/service/relay_metrics.hpp"

#include <string>

namespace mpx::relay::service {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

double as_double(std::uint64_t value) { return static_cast<double>(value); }

}  // namespace

std::vector<MetricFamily> relay_metrics(const RelayService& service,
                                        const datapath::MediaSockets::Stats& sockets,
                                        std::size_t dispatchers_connected) {
  std::vector<MetricFamily> out;
  const auto counts = service.sessions().counts();
  out.push_back(family("mpx_relay_sessions", "Live sessions.", MetricType::gauge)
                    .add(as_double(counts.session_count)));
  auto streams = family("mpx_relay_streams", "Alive streams by media type.", MetricType::gauge);
  for (const auto& [media_type, count] : counts.stream_count) {
    streams.add(as_double(count), {{"media_type", media_type}});
  }
  out.push_back(std::move(streams));
  out.push_back(family("mpx_relay_bps_relayed",
                       "Bit rate relayed over the last traffic sampling period.",
                       MetricType::gauge)
                    .add(service.bps_relayed()));
  out.push_back(family("mpx_relay_dispatchers_connected", "Dispatcher links up.",
                       MetricType::gauge)
                    .add(as_double(dispatchers_connected)));

  const auto& engine = service.engine_stats();
  out.push_back(family("mpx_relay_datapath_flows", "Flows installed in the datapath.",
                       MetricType::gauge)
                    .add(as_double(service.installed_flows()), {{"datapath", service.datapath_name()}}));
  out.push_back(family("mpx_relay_handoffs_total", "Flows handed to the datapath, by outcome.",
                       MetricType::counter)
                    .add(as_double(engine.handoffs), {{"outcome", "installed"}})
                    .add(as_double(engine.handoff_errors), {{"outcome", "failed"}})
                    .add(as_double(engine.flows_lost), {{"outcome", "lost"}}));
  out.push_back(family("mpx_relay_latches_total", "Sources locked by latching.",
                       MetricType::counter)
                    .add(as_double(engine.relatches)));
  out.push_back(
      family("mpx_relay_socket_packets_total",
             "Packets the relay's own sockets handled (before hand-off, and strangers), by "
             "outcome.",
             MetricType::counter)
          .add(as_double(engine.relayed_packets), {{"outcome", "relayed"}})
          .add(as_double(sockets.forwarded_packets), {{"outcome", "forwarded_userspace_datapath"}})
          .add(as_double(engine.learning), {{"outcome", "dropped_learning"}})
          .add(as_double(engine.strangers), {{"outcome", "dropped_stranger"}})
          .add(as_double(engine.invalid), {{"outcome", "dropped_invalid"}})
          .add(as_double(engine.no_destination), {{"outcome", "dropped_no_destination"}})
          .add(as_double(engine.unknown_port), {{"outcome", "dropped_unknown_port"}})
          .add(as_double(sockets.truncated), {{"outcome", "dropped_oversized"}}));
  out.push_back(family("mpx_relay_socket_errors_total", "Socket errors, by kind.",
                       MetricType::counter)
                    .add(as_double(sockets.receive_errors), {{"kind", "receive"}})
                    .add(as_double(sockets.send_errors), {{"kind", "send"}}));
  out.push_back(family("mpx_relay_received_bytes_total",
                       "Bytes received by the relay's sockets (UDP payload).",
                       MetricType::counter)
                    .add(as_double(sockets.received_bytes)));
  if (const auto details = service.datapath_details()) {
    auto verdicts = family("mpx_relay_bpf_verdicts_total",
                           "Packets the eBPF program handled, by verdict (summed over CPUs).",
                           MetricType::counter);
    for (const auto& [verdict, count] : details->verdicts) {
      verdicts.add(as_double(count), {{"verdict", verdict}});
    }
    out.push_back(std::move(verdicts));
  }
  const auto& requests = service.request_stats();
  out.push_back(family("mpx_relay_requests_total", "Dispatcher requests, by command and outcome.",
                       MetricType::counter)
                    .add(as_double(requests.updates), {{"command", "update"}, {"outcome", "ok"}})
                    .add(as_double(requests.update_errors),
                         {{"command", "update"}, {"outcome", "error"}})
                    .add(as_double(requests.removes), {{"command", "remove"}, {"outcome", "ok"}})
                    .add(as_double(requests.remove_errors),
                         {{"command", "remove"}, {"outcome", "error"}}));
  out.push_back(family("mpx_relay_expired_sessions_total",
                       "Sessions that ended on their own, by whether the report reached the "
                       "dispatcher.",
                       MetricType::counter)
                    .add(as_double(requests.expired_reported), {{"report", "sent"}})
                    .add(as_double(requests.expired_lost), {{"report", "lost"}}));
  return out;
}

}  // namespace mpx::relay::service
