// The dispatcher's Prometheus metrics ([Dispatcher] listen_metrics): relays and their sessions and
// bit rate as their last `summary` said, the module socket's requests, errors and answer times,
// and each accounting back-end's records delivered, dropped and waiting.
// Built at scrape time on the dispatcher's executor from the core's own state.
#pragma once

#include <cstddef>
#include <vector>

#include "common/metrics/exposition.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/dispatcher_core.hpp"
#include "dispatcher/module_server.hpp"

namespace mpx::dispatcher {

std::vector<metrics::MetricFamily> dispatcher_metrics(const DispatcherCore& core,
                                                      const ModuleServer* module,
                                                      const AccountingStatuses& accounting = {});

}  // namespace mpx::dispatcher
