// The relay's `summary` record; see relay_summary.hpp.
#include "relay/service/relay_summary.hpp"

#include <nlohmann/json.hpp>

#include "common/protocol/python_json.hpp"
#include "common/protocol/relay_summary.hpp"
#include "common/version.hpp"
#include "relay/service/relay_service.hpp"

namespace mpx::relay::service {

std::string relay_summary_json(const RelayService& service) {
  const auto& sessions = service.sessions();
  protocol::RelaySummary base;
  base.ip = service.settings().relay_ip.to_string();
  base.version = kVersion;
  base.status = sessions.halting() ? "halting" : "active";
  base.uptime = service.uptime().count();
  base.bps_relayed = service.bps_relayed();
  auto json = protocol::to_ordered_json(sessions.summary(base));
  json["load"] = sessions.counts().load;
  const auto& engine = service.engine();
  const auto& stats = engine.stats();
  json["datapath"] = {{"name", service.datapath().name()},
                      {"flows", engine.installed_flows()},
                      {"handoffs", stats.handoffs},
                      {"handoff_errors", stats.handoff_errors},
                      {"flows_lost", stats.flows_lost},
                      {"relayed_packets", stats.relayed_packets},
                      {"dropped_learning", stats.learning},
                      {"dropped_strangers", stats.strangers},
                      {"dropped_invalid", stats.invalid},
                      {"dropped_no_destination", stats.no_destination},
                      {"dropped_unknown_port", stats.unknown_port},
                      {"latched", stats.latches},
                      {"lock_takeovers", stats.takeovers},
                      {"lock_rebindings", stats.rebindings}};
  if (const auto details = service.datapath().details()) {
    json["datapath"]["attach"] = details->attach;
    json["datapath"]["verdicts"] = details->verdicts;
  }
  return protocol::python_json_dump(json);
}

}  // namespace mpx::relay::service
