// Relay metric families; see relay_metrics.hpp.
#include "relay/service/relay_metrics.hpp"

namespace mpx::relay::service {

using metrics::as_value;
using metrics::family;
using metrics::MetricFamily;
using metrics::MetricType;

std::vector<MetricFamily> relay_metrics(const RelayService& service,
                                        const datapath::MediaSockets::Stats& sockets,
                                        std::size_t dispatchers_connected) {
  std::vector<MetricFamily> out;
  const auto counts = service.sessions().counts();
  out.push_back(family("mpx_relay_sessions", "Live sessions.", MetricType::gauge)
                    .add(as_value(counts.session_count)));
  auto streams = family("mpx_relay_streams", "Alive streams by media type.", MetricType::gauge);
  for (const auto& [media_type, count] : counts.stream_count) {
    streams.add(as_value(count), {{"media_type", media_type}});
  }
  out.push_back(std::move(streams));
  out.push_back(family("mpx_relay_bps_relayed",
                       "Bit rate relayed over the last traffic sampling period.",
                       MetricType::gauge)
                    .add(service.bps_relayed()));
  out.push_back(family("mpx_relay_dispatchers_connected", "Dispatcher links up.",
                       MetricType::gauge)
                    .add(as_value(dispatchers_connected)));

  const auto& engine = service.engine().stats();
  out.push_back(family("mpx_relay_datapath_flows", "Flows installed in the datapath.",
                       MetricType::gauge)
                    .add(as_value(service.engine().installed_flows()),
                         {{"datapath", service.datapath().name()}}));
  out.push_back(family("mpx_relay_handoffs_total", "Flows handed to the datapath, by outcome.",
                       MetricType::counter)
                    .add(as_value(engine.handoffs), {{"outcome", "installed"}})
                    .add(as_value(engine.handoff_errors), {{"outcome", "failed"}})
                    .add(as_value(engine.flows_lost), {{"outcome", "lost"}}));
  out.push_back(family("mpx_relay_latches_total", "Sources locked by latching.",
                       MetricType::counter)
                    .add(as_value(engine.latches)));
  out.push_back(family("mpx_relay_lock_moves_total",
                       "Locks that moved to another source, by reason: a better (signalled) "
                       "candidate took a provisional lock over, or a NAT rebinding.",
                       MetricType::counter)
                    .add(as_value(engine.takeovers), {{"reason", "takeover"}})
                    .add(as_value(engine.rebindings), {{"reason", "rebinding"}}));
  out.push_back(
      family("mpx_relay_socket_packets_total",
             "Packets the relay's own sockets handled (before hand-off, and strangers), by "
             "outcome.",
             MetricType::counter)
          .add(as_value(engine.relayed_packets), {{"outcome", "relayed"}})
          .add(as_value(sockets.forwarded_packets), {{"outcome", "forwarded_userspace_datapath"}})
          .add(as_value(engine.learning), {{"outcome", "dropped_learning"}})
          .add(as_value(engine.strangers), {{"outcome", "dropped_stranger"}})
          .add(as_value(engine.invalid), {{"outcome", "dropped_invalid"}})
          .add(as_value(engine.no_destination), {{"outcome", "dropped_no_destination"}})
          .add(as_value(engine.unknown_port), {{"outcome", "dropped_unknown_port"}})
          .add(as_value(sockets.truncated), {{"outcome", "dropped_oversized"}}));
  out.push_back(family("mpx_relay_socket_errors_total", "Socket errors, by kind.",
                       MetricType::counter)
                    .add(as_value(sockets.receive_errors), {{"kind", "receive"}})
                    .add(as_value(sockets.send_errors), {{"kind", "send"}}));
  out.push_back(family("mpx_relay_received_bytes_total",
                       "Bytes received by the relay's sockets (UDP payload).",
                       MetricType::counter)
                    .add(as_value(sockets.received_bytes)));
  if (const auto details = service.datapath().details()) {
    auto verdicts = family("mpx_relay_bpf_verdicts_total",
                           "Packets the eBPF program handled, by verdict (summed over CPUs).",
                           MetricType::counter);
    for (const auto& [verdict, count] : details->verdicts) {
      verdicts.add(as_value(count), {{"verdict", verdict}});
    }
    out.push_back(std::move(verdicts));
  }
  const auto& requests = service.request_stats();
  out.push_back(family("mpx_relay_requests_total", "Dispatcher requests, by command and outcome.",
                       MetricType::counter)
                    .add(as_value(requests.updates), {{"command", "update"}, {"outcome", "ok"}})
                    .add(as_value(requests.update_errors),
                         {{"command", "update"}, {"outcome", "error"}})
                    .add(as_value(requests.removes), {{"command", "remove"}, {"outcome", "ok"}})
                    .add(as_value(requests.remove_errors),
                         {{"command", "remove"}, {"outcome", "error"}}));
  out.push_back(family("mpx_relay_expired_sessions_total",
                       "Sessions that ended on their own, by whether the report reached the "
                       "dispatcher.",
                       MetricType::counter)
                    .add(as_value(requests.expired_reported), {{"report", "sent"}})
                    .add(as_value(requests.expired_lost), {{"report", "lost"}}));
  return out;
}

}  // namespace mpx::relay::service
