// DispatcherDaemon (see dispatcher_daemon.hpp).
#include "dispatcher/dispatcher_daemon.hpp"

#include <boost/asio/signal_set.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <system_error>
#include <utility>

#include "common/log/debug_toggle_signal.hpp"
#include "dispatcher/dispatcher_metrics.hpp"
#include "dispatcher/hangup/make_dialog_terminator.hpp"

namespace mpx::dispatcher {

namespace {

// The runtime directory holds the module socket and the proxy reply socket (systemd's
// RuntimeDirectory makes it too; by hand it may not exist yet).
Result<void> create_runtime_directory(const std::filesystem::path& runtime_dir) {
  std::error_code error;
  std::filesystem::create_directories(runtime_dir, error);
  if (error) {
    return Error{"cannot create the runtime directory " + runtime_dir.string() + ": " +
                 error.message()};
  }
  return outcome::success();
}

boost::asio::ip::tcp::endpoint endpoint(const config::ListenAddress& listen) {
  return {listen.ip.value_or(boost::asio::ip::address_v4::any()), listen.port};
}

}  // namespace

Result<std::unique_ptr<DispatcherDaemon>> DispatcherDaemon::build(
    boost::asio::io_context& io, const config::Config& config,
    const std::filesystem::path& runtime_dir) {
  std::unique_ptr<DispatcherDaemon> dispatcher(new DispatcherDaemon(io, config, runtime_dir));
  if (auto opened = dispatcher->open(); !opened) {
    return opened.error();
  }
  return dispatcher;
}

DispatcherDaemon::DispatcherDaemon(boost::asio::io_context& io, const config::Config& config,
                                   std::filesystem::path runtime_dir)
    : io_(io),
      config_(config),
      runtime_dir_(std::move(runtime_dir)),
      service_(
          io, config, runtime_dir_,
          [this](const protocol::SessionStatistics& session) { accounting_.record(session); },
          nullptr, service_options(config)) {}

// In the order an operator meets the errors; the first one stops start-up.
Result<void> DispatcherDaemon::open() {
  if (auto created = create_runtime_directory(runtime_dir_); !created) {
    return created.error();
  }
  auto accounting = make_accounting_backends(config_, runtime_dir_);
  if (!accounting) {
    return accounting.error();
  }
  prepared_accounting_ = std::move(accounting).value();
  if (auto opened = service_.open(); !opened) {
    return opened.error();
  }
  if (auto opened = open_dialog_terminator(); !opened) {
    return opened.error();
  }
  if (auto opened = open_management(); !opened) {
    return opened.error();
  }
  return open_metrics();
}

// Only once the module socket is ours: a second instance refused there must not take over the
// running one's reply socket for the proxy.
Result<void> DispatcherDaemon::open_dialog_terminator() {
  auto terminator = make_dialog_terminator(config_.dispatcher.sip_proxy, io_.get_executor(),
                                           dialog_terminator_settings(config_, runtime_dir_));
  if (!terminator) {
    return terminator.error();
  }
  terminator_ = std::move(terminator).value();
  service_.core().set_dialog_terminator(terminator_.get());
  return outcome::success();
}

Result<void> DispatcherDaemon::open_management() {
  auto settings = management_server_settings(config_);
  if (!settings) {
    return settings.error();
  }
  auto server = ManagementServer::create(io_.get_executor(), std::move(settings).value(),
                                         service_.management_backend());
  if (!server) {
    return server.error();
  }
  management_ = std::move(server).value();
  return outcome::success();
}

Result<void> DispatcherDaemon::open_metrics() {
  const auto& listen = config_.dispatcher.listen_metrics;
  if (!listen) {
    return outcome::success();
  }
  auto server = metrics::MetricsServer::create(io_.get_executor(), endpoint(*listen), [this] {
    return dispatcher_metrics(service_.core(), service_.module_server(), accounting_.statuses());
  });
  if (!server) {
    return server.error();
  }
  metrics_ = std::move(server).value();
  return outcome::success();
}

void DispatcherDaemon::start() {
  for (auto& prepared : prepared_accounting_) {
    accounting_.add(prepared->start());
  }
  prepared_accounting_.clear();
  service_.start();
  management_->start();
  if (metrics_) {
    metrics_->start();
  }
}

void DispatcherDaemon::run(daemon::StartupReporter& reporter) {
  start();
  boost::asio::signal_set stop_signals(io_, SIGTERM, SIGINT, SIGHUP);
  auto debug_toggle = log::watch_debug_toggle(io_.get_executor());
  stop_signals.async_wait([&](const boost::system::error_code& error, int signal) {
    if (error) {
      return;
    }
    spdlog::info("signal {} received: stopping", signal);
    stop();
    debug_toggle->cancel();
    io_.stop();
  });
  reporter.ready();
  io_.run();
  stop();
}

void DispatcherDaemon::stop() {
  if (metrics_) {
    metrics_->stop();
  }
  if (management_) {
    management_->stop();
  }
  service_.stop();
}

}  // namespace mpx::dispatcher
