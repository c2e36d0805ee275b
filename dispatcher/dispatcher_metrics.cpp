// Dispatcher metric families; see dispatcher_metrics.hpp.
#include "dispatcher/dispatcher_metrics.hpp"

namespace mpx::dispatcher {

using metrics::as_value;
using metrics::family;
using metrics::MetricFamily;
using metrics::MetricType;

namespace {

void add_accounting(std::vector<MetricFamily>& out, const AccountingStatuses& statuses) {
  if (statuses.empty()) {
    return;
  }
  auto records = family("mpx_dispatcher_accounting_records_total",
                        "Accounting records by back-end and outcome (duplicate: the target "
                        "already had it).",
                        MetricType::counter);
  auto backlog = family("mpx_dispatcher_accounting_backlog",
                        "Accounting records waiting for their back-end (spooled or in memory).",
                        MetricType::gauge);
  auto up = family("mpx_dispatcher_accounting_up",
                   "1 while the back-end's target takes records, 0 while it fails.",
                   MetricType::gauge);
  for (const auto& [name, status] : statuses) {
    records.add(as_value(status.delivered), {{"backend", name}, {"outcome", "delivered"}})
        .add(as_value(status.duplicates), {{"backend", name}, {"outcome", "duplicate"}})
        .add(as_value(status.dropped), {{"backend", name}, {"outcome", "dropped"}});
    backlog.add(as_value(status.backlog), {{"backend", name}});
    up.add(status.failing ? 0.0 : 1.0, {{"backend", name}});
  }
  out.push_back(std::move(records));
  out.push_back(std::move(backlog));
  out.push_back(std::move(up));
}

}  // namespace

std::vector<MetricFamily> dispatcher_metrics(const DispatcherCore& core,
                                             const ModuleServer* module,
                                             const AccountingStatuses& accounting) {
  std::vector<MetricFamily> out;
  const auto relays = core.relays().all();
  out.push_back(family("mpx_dispatcher_relays", "Relays connected.", MetricType::gauge)
                    .add(as_value(relays.size())));
  out.push_back(family("mpx_dispatcher_sessions", "Sessions the dispatcher tracks.",
                       MetricType::gauge)
                    .add(as_value(core.sessions().size())));
  auto relay_sessions = family("mpx_dispatcher_relay_sessions",
                               "Sessions placed on each relay (dispatcher's view).",
                               MetricType::gauge);
  auto relay_reported = family("mpx_dispatcher_relay_reported_sessions",
                               "Sessions each relay reported in its last summary.",
                               MetricType::gauge);
  auto relay_bps = family("mpx_dispatcher_relay_bps_relayed",
                          "Bit rate each relay reported in its last summary.", MetricType::gauge);
  for (const auto& link : relays) {
    const metrics::Labels labels{{"relay", link->peer_ip()}};
    relay_sessions.add(as_value(core.sessions().count_on(link->peer_ip())), labels);
    if (const auto& summary = link->summary()) {
      relay_reported.add(as_value(summary->session_count), labels);
      relay_bps.add(summary->bps_relayed, labels);
    }
  }
  out.push_back(std::move(relay_sessions));
  out.push_back(std::move(relay_reported));
  out.push_back(std::move(relay_bps));
  add_accounting(out, accounting);
  if (module == nullptr) {
    return out;
  }
  const auto& stats = module->stats();
  out.push_back(family("mpx_dispatcher_module_connections", "Open proxy module connections.",
                       MetricType::gauge)
                    .add(as_value(module->connection_count())));
  out.push_back(family("mpx_dispatcher_module_requests_total",
                       "Framed module requests answered, by command.", MetricType::counter)
                    .add(as_value(stats.updates), {{"command", "update"}})
                    .add(as_value(stats.removes), {{"command", "remove"}})
                    .add(as_value(stats.other_commands), {{"command", "other"}}));
  out.push_back(family("mpx_dispatcher_module_errors_total",
                       "Module requests answered error or dropped, by kind.", MetricType::counter)
                    .add(as_value(stats.error_answers), {{"kind", "error_answer"}})
                    .add(as_value(stats.malformed), {{"kind", "malformed"}})
                    .add(as_value(stats.late_answers), {{"kind", "late"}})
                    .add(as_value(stats.closed_oversized), {{"kind", "oversized"}}));
  auto answers = family("mpx_dispatcher_module_answer_seconds",
                        "Time from a module request's arrival to its answer.",
                        MetricType::histogram);
  stats.answer_seconds.append_to(answers);
  out.push_back(std::move(answers));
  return out;
}

}  // namespace mpx::dispatcher
