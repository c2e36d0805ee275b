// DispatcherDaemon: mpx-dispatcher as main.cpp runs it, assembled from the configuration: the
// DispatcherService (core, module socket, relay listener), the accounting back-ends, the dialog
// terminator for [Dispatcher] sip_proxy, the management interface and the metrics endpoint.
//
// build() does everything that can fail, while the daemon still has its terminal, so a failure is
// one line there and exit status 1: the runtime directory, the accounting back-ends ([Database]
// dburi, the spool directories, the RADIUS client.conf), the service's sockets, the dialog
// terminator's reply socket, the management interface, the metrics endpoint. run() comes after
// daemonizing: it starts the accounting back-ends' worker threads, which would not survive fork,
// then serves until SIGTERM, SIGINT or SIGHUP (MediaProxy's dispatcher stops on all three);
// SIGUSR1 toggles DEBUG logging meanwhile.
#pragma once

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>

#include "common/config/config.hpp"
#include "common/daemon/daemonize.hpp"
#include "common/metrics/metrics_server.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/make_accounting_backends.hpp"
#include "dispatcher/dispatcher_service.hpp"
#include "dispatcher/hangup/dialog_terminator.hpp"
#include "dispatcher/management/management_server.hpp"

namespace mpx::dispatcher {

class DispatcherDaemon {
 public:
  // `config` must outlive the daemon. The error is the line for the operator.
  static Result<std::unique_ptr<DispatcherDaemon>> build(boost::asio::io_context& io,
                                                         const config::Config& config,
                                                         const std::filesystem::path& runtime_dir);
  DispatcherDaemon(const DispatcherDaemon&) = delete;
  DispatcherDaemon& operator=(const DispatcherDaemon&) = delete;

  // Starts the accounting back-ends, serves the module socket, the relays, the management
  // interface and the metrics endpoint, tells `reporter` it is ready, and runs the io_context
  // until a stop signal; then stops.
  void run(daemon::StartupReporter& reporter);
  // Stops the metrics endpoint, the management interface and the service (every connection
  // closed, the socket file removed). Idempotent.
  void stop();

 private:
  DispatcherDaemon(boost::asio::io_context& io, const config::Config& config,
                   std::filesystem::path runtime_dir);
  Result<void> open();
  Result<void> open_dialog_terminator();
  Result<void> open_management();
  Result<void> open_metrics();
  void start();

  boost::asio::io_context& io_;
  const config::Config& config_;
  std::filesystem::path runtime_dir_;
  // Declared before the service, which records into it, and destroyed after it.
  Accounting accounting_;
  PreparedAccountingBackends prepared_accounting_;  // until start()
  // Declared before the service, whose core points at it, so it outlives the core.
  std::unique_ptr<DialogTerminator> terminator_;
  DispatcherService service_;
  std::unique_ptr<ManagementServer> management_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
};

}  // namespace mpx::dispatcher
