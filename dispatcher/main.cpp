// mpx-dispatcher entry point: configuration, binding (module socket, relay listener; a failure is
// one clear line and exit status 1), daemonizing, PID file, then the event loop until SIGTERM,
// SIGINT or SIGHUP (spec 6.7: all three stop it), which close every connection and remove the
// socket file. SIGUSR1 toggles DEBUG logging. The management interface and the dialog terminator
// ([Dispatcher] sip_proxy) are wired here to the core, and the accounting back-ends: the log
// always, the database when [Dispatcher] accounting lists it, through its durable spool (opened
// before daemonizing so an unusable spool directory is reported on the terminal; the worker
// thread starts after daemonizing, since a thread does not survive fork), and RADIUS the same way
// when listed (its client.conf and dictionaries are read before daemonizing; its own spool).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "common/daemon/detach.hpp"
#include "common/daemon/startup.hpp"
#include "common/log/debug_toggle_signal.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/database_backend.hpp"
#include "dispatcher/accounting/radius_backend.hpp"
#include "common/metrics/metrics_server.hpp"
#include "dispatcher/dispatcher_metrics.hpp"
#include "dispatcher/dispatcher_service.hpp"
#include "dispatcher/hangup/make_dialog_terminator.hpp"
#include "dispatcher/management/management_server.hpp"

namespace {

constexpr const char* kProgram = "mpx-dispatcher";

mpx::dispatcher::DialogTerminatorSettings terminator_settings(const mpx::config::Config& config,
                                                              const std::filesystem::path& runtime) {
  mpx::dispatcher::DialogTerminatorSettings settings;
  const bool kamailio = config.dispatcher.sip_proxy == mpx::config::SipProxy::kamailio;
  settings.proxy_socket = kamailio ? config.kamailio.socket_path : config.opensips.socket_path;
  settings.reply_socket = runtime / (kamailio ? "kamailio.sock" : "opensips.sock");
  settings.reply_timeout = config.dispatcher.dialog_end_timeout;
  return settings;
}

mpx::Result<mpx::dispatcher::ManagementServerSettings> management_settings(
    const mpx::config::Config& config) {
  mpx::dispatcher::ManagementServerSettings settings;
  const auto& listen = config.dispatcher.listen_management;
  settings.listen = {listen.ip.value_or(boost::asio::ip::address_v4::any()), listen.port};
  settings.use_tls = config.dispatcher.management_use_tls;
  settings.certs_path = config.certs_dir();
  settings.verify_interval = config.tls.verify_interval;
  if (config.dispatcher.management_passport) {
    auto passport = mpx::tls::Passport::parse(*config.dispatcher.management_passport);
    if (!passport) {
      return mpx::Error{config.describe_option("Dispatcher", "management_passport") + ": " +
                        passport.error().message};
    }
    settings.passport = passport.value();
  }
  return settings;
}

int fail(mpx::daemon::StartupReporter& reporter, const std::string& line) {
  spdlog::error("{}", line);
  std::cerr << kProgram << ": " << line << "\n";
  reporter.failed(line);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const mpx::daemon::ProgramInfo info{kProgram,
                                      "MediaProxy-compatible media dispatcher for OpenSIPS/Kamailio"};
  auto started = mpx::daemon::start(argc, argv, info, mpx::daemon::Role::kDispatcher);
  if (const auto* exit_now = std::get_if<mpx::daemon::ExitNow>(&started)) {
    return exit_now->status;
  }
  const auto& [cli, config] = std::get<mpx::daemon::Started>(started);

  boost::asio::io_context io(1);
  mpx::dispatcher::Accounting accounting;
  accounting.add(std::make_unique<mpx::dispatcher::LogAccountingBackend>());
  mpx::daemon::StartupReporter reporter;
  // The runtime directory holds the module socket and the proxy reply socket (systemd's
  // RuntimeDirectory makes it too; by hand it may not exist yet).
  std::error_code dir_error;
  std::filesystem::create_directories(cli.runtime_dir, dir_error);
  if (dir_error) {
    return fail(reporter, "cannot create the runtime directory " + cli.runtime_dir.string() +
                              ": " + dir_error.message());
  }
  // [Database] is checked before daemonizing so a bad dburi is reported on the terminal. The
  // runtime directory stands in for a state directory (the default SQLite file lives there).
  std::optional<mpx::dispatcher::DatabaseBackendSettings> database_settings;
  std::unique_ptr<mpx::dispatcher::AccountingSpool> database_spool;
  if (std::find(config.dispatcher.accounting.begin(), config.dispatcher.accounting.end(),
                mpx::config::AccountingBackend::database) != config.dispatcher.accounting.end()) {
    auto settings = mpx::dispatcher::database_backend_settings(config.database, cli.runtime_dir);
    if (!settings) {
      return fail(reporter, settings.error().message);
    }
    database_settings = std::move(settings).value();
    auto spool = mpx::dispatcher::AccountingSpool::open(
        mpx::dispatcher::accounting_spool_settings(config.dispatcher, cli.runtime_dir, "database"));
    if (!spool) {
      return fail(reporter, spool.error().message);
    }
    database_spool = std::move(spool).value();
  }
  std::optional<mpx::dispatcher::RadiusBackendSettings> radius_settings;
  std::unique_ptr<mpx::dispatcher::RadiusClient> radius_client;
  std::unique_ptr<mpx::dispatcher::AccountingSpool> radius_spool;
  if (std::find(config.dispatcher.accounting.begin(), config.dispatcher.accounting.end(),
                mpx::config::AccountingBackend::radius) != config.dispatcher.accounting.end()) {
    auto settings = mpx::dispatcher::radius_backend_settings(
        config.radius, config.config_dir, mpx::dispatcher::bundled_radius_dictionary());
    if (!settings) {
      return fail(reporter, settings.error().message);
    }
    auto client = mpx::dispatcher::RadiusClient::open(settings.value().client);
    if (!client) {
      return fail(reporter, client.error().message);
    }
    auto spool = mpx::dispatcher::AccountingSpool::open(
        mpx::dispatcher::accounting_spool_settings(config.dispatcher, cli.runtime_dir, "radius"));
    if (!spool) {
      return fail(reporter, spool.error().message);
    }
    radius_settings = std::move(settings).value();
    radius_client = std::move(client).value();
    radius_spool = std::move(spool).value();
  }
  mpx::dispatcher::DispatcherService service(
      io, config, cli.runtime_dir,
      [&accounting](const mpx::protocol::SessionStatistics& session) {
        accounting.record(session);
      },
      nullptr, mpx::dispatcher::service_options(config));

  if (auto opened = service.open(); !opened) {
    return fail(reporter, opened.error().message);
  }
  // Only once the module socket is ours: a second instance refused there must not take over the
  // running one's reply socket for the proxy.
  auto terminator = mpx::dispatcher::make_dialog_terminator(
      config.dispatcher.sip_proxy, io.get_executor(), terminator_settings(config, cli.runtime_dir));
  if (!terminator) {
    service.stop();
    return fail(reporter, terminator.error().message);
  }
  service.core().set_dialog_terminator(terminator.value().get());
  auto settings = management_settings(config);
  if (!settings) {
    service.stop();
    return fail(reporter, settings.error().message);
  }
  auto management = mpx::dispatcher::ManagementServer::create(io.get_executor(),
                                                              settings.value(), service.core());
  if (!management) {
    service.stop();
    return fail(reporter, management.error().message);
  }

  std::unique_ptr<mpx::metrics::MetricsServer> metrics;
  if (const auto& listen = config.dispatcher.listen_metrics) {
    auto created = mpx::metrics::MetricsServer::create(
        io.get_executor(), {listen->ip.value_or(boost::asio::ip::address_v4::any()), listen->port},
        [&service, &accounting] {
          return mpx::dispatcher::dispatcher_metrics(service.core(), service.module_server(),
                                                     accounting.statuses());
        });
    if (!created) {
      management.value()->stop();
      service.stop();
      return fail(reporter, created.error().message);
    }
    metrics = std::move(created).value();
  }

  auto detached = mpx::daemon::detach(cli, kProgram, io, reporter);
  if (!detached) {
    service.stop();
    return fail(reporter, detached.error().message);
  }
  auto pid_file = std::move(detached).value();
  if (database_settings) {
    spdlog::info("database accounting to {}", database_settings->target.display);
    accounting.add(std::make_unique<mpx::dispatcher::DatabaseAccountingBackend>(
        std::move(*database_settings), std::move(database_spool)));
  }
  if (radius_settings) {
    spdlog::info("radius accounting to {}", radius_client->server());
    accounting.add(std::make_unique<mpx::dispatcher::RadiusAccountingBackend>(
        std::move(radius_client), std::move(*radius_settings), std::move(radius_spool)));
  }

  boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT, SIGHUP);
  auto debug_toggle = mpx::log::watch_debug_toggle(io.get_executor());
  stop_signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) {
      return;
    }
    spdlog::info("signal {} received: stopping", signal);
    if (metrics) {
      metrics->stop();
    }
    management.value()->stop();
    service.stop();
    debug_toggle->cancel();
    io.stop();
  });

  service.start();
  management.value()->start();
  if (metrics) {
    metrics->start();
  }
  reporter.ready();
  io.run();
  service.stop();
  service.core().set_dialog_terminator(nullptr);  // the terminator goes before the service
  spdlog::info("{} stopped", kProgram);
  return 0;
}
