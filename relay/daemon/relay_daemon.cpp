// mpx-relay assembled and run; see relay_daemon.hpp.
#include "relay/daemon/relay_daemon.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <exception>
#include <system_error>
#include <utility>

#include "common/log/debug_toggle_signal.hpp"
#include "common/tls/context.hpp"
#include "common/version.hpp"
#include "relay/daemon/datapath_factory.hpp"
#include "relay/link/link_options.hpp"
#include "relay/recovery/state_file.hpp"
#include "relay/service/relay_metrics.hpp"
#include "relay/system/file_limit.hpp"
#include "relay/system/local_address.hpp"

namespace mpx::relay::daemon {

RelayDaemon::RelayDaemon(boost::asio::io_context& io, const config::Config& config)
    : io_(io),
      config_(config),
      sockets_(io.get_executor()),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      flush_timer_(io),
      sampling_timer_(io) {}

RelayDaemon::~RelayDaemon() = default;

Result<std::unique_ptr<RelayDaemon>> RelayDaemon::create(boost::asio::io_context& io,
                                                         const config::Config& config,
                                                         const std::filesystem::path& runtime_dir) {
  std::unique_ptr<RelayDaemon> daemon(new RelayDaemon(io, config));
  if (auto opened = daemon->open(runtime_dir); !opened) {
    return opened.error();
  }
  return daemon;
}

Result<void> RelayDaemon::open(const std::filesystem::path& runtime_dir) {
  const auto& relay = config_.relay;
  if (auto checked = check_datapath(config_); !checked) {
    return checked.error();
  }
  if (relay.dispatchers.empty()) {
    return Error{"[Relay] dispatchers is empty: the relay would serve nobody"};
  }
  auto relay_ip =
      relay.relay_ip ? Result<boost::asio::ip::address_v4>(*relay.relay_ip)
                     : system::default_route_address();
  if (!relay_ip) {
    return relay_ip.error();
  }
  relay_ip_ = relay_ip.value();
  // Two sockets per port, plus headroom for the links, netlink and logs.
  if (auto limit = system::raise_file_limit(relay.port_range.end - relay.port_range.start + 1000);
      !limit) {
    return limit.error();
  }
  auto links_options = link::links_options(relay, config_.tls);
  if (!links_options) {
    return links_options.error();
  }
  try {
    tls_.emplace(tls::make_context(tls::Role::relay, config_.certs_dir()));
  } catch (const std::exception& error) {
    return Error{error.what()};
  }
  sockets_.set_transmit_every(relay.userspace_transmit_every);
  auto datapath = open_datapath(config_, sockets_);
  if (!datapath) {
    return datapath.error();
  }
  datapath_ = std::move(datapath).value();
  links_ = std::make_unique<link::DispatcherLinks>(io_.get_executor(), *tls_,
                                                   std::move(links_options).value(), nullptr);

  auto settings = service::service_settings(relay, relay_ip_);
  if (datapath_->flows_outlive_process()) {
    // Only then is there something for a restarted relay to take over.
    settings.state_file =
        relay.state_file.is_absolute() ? relay.state_file : runtime_dir / relay.state_file;
    std::error_code ignored;
    std::filesystem::create_directories(settings.state_file.parent_path(), ignored);
  }
  if (const auto limit = datapath_->max_poll_interval()) {
    // Read every flow well within what the datapath tolerates (conntrack's lease).
    settings.engine.poll_interval = std::min(settings.engine.poll_interval, *limit / 3);
  }
  service_ = std::make_unique<service::RelayService>(io_.get_executor(), std::move(settings),
                                                     sockets_, *datapath_, links_.get());
  if (datapath_->flows_outlive_process()) {
    service_->take_over_previous_relay();
  }

  if (const auto& listen = relay.listen_metrics) {
    const boost::asio::ip::tcp::endpoint endpoint{
        listen->ip.value_or(boost::asio::ip::address_v4::any()), listen->port};
    auto created = metrics::MetricsServer::create(io_.get_executor(), endpoint, [this] {
      return service::relay_metrics(*service_, sockets_.stats(), links_->connected_count());
    });
    if (!created) {
      return created.error();
    }
    metrics_ = std::move(created).value();
  }
  return outcome::success();
}

void RelayDaemon::start() {
  sockets_.start([this](const datapath::MediaSockets::Packet& packet) {
    service_->engine().on_packet(packet);
  });
  debug_toggle_ = log::watch_debug_toggle(io_.get_executor());
  wait_signal();
  service_->start();
  links_->start(*service_, [this](const link::DispatcherId& id) {
    return service_->owns_sessions(id);
  });
  if (service_->settings().traffic_sampling_period.count() > 0) {
    last_sample_ = std::chrono::steady_clock::now();
    arm_sampling();
  }
  if (metrics_) {
    metrics_->start();
    spdlog::info("metrics on http://{}:{}/metrics", metrics_->local_endpoint().address().to_string(),
                 metrics_->local_endpoint().port());
  }
  const auto& relay = config_.relay;
  spdlog::info("mpx-relay {} running: relay_ip {}, ports {}:{}, datapath {}, latching {}",
               kVersion, relay_ip_.to_string(), relay.port_range.start, relay.port_range.end,
               datapath_->name(), config::to_string(relay.latching));
}

void RelayDaemon::finish() {
  const auto& state_file = service_->settings().state_file;
  if (state_file.empty()) {
    return;
  }
  if (auto removed = recovery::remove_state_file(state_file); !removed) {
    spdlog::warn("{}", removed.error().message);
  }
}

void RelayDaemon::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error || stopping_) {
      return;
    }
    if (signal == SIGHUP) {
      drain();
      wait_signal();
      return;
    }
    expire_and_stop(signal);
  });
}

void RelayDaemon::drain() {
  spdlog::info("SIGHUP: draining");
  service_->drain([this] {
    if (stopping_) {
      return;
    }
    spdlog::info("no session left: stopping");
    stopping_ = true;
    flush_then_stop(std::chrono::steady_clock::now() + kFlushBudget);
  });
}

void RelayDaemon::expire_and_stop(int signal) {
  stopping_ = true;
  spdlog::info("signal {}: expiring {} session(s) and stopping", signal,
               service_->session_count());
  service_->expire_all();
  flush_then_stop(std::chrono::steady_clock::now() + kFlushBudget);
}

void RelayDaemon::flush_then_stop(std::chrono::steady_clock::time_point deadline) {
  if (links_->pending_writes() == 0 || std::chrono::steady_clock::now() >= deadline) {
    stop();
    return;
  }
  flush_timer_.expires_after(std::chrono::milliseconds(20));
  flush_timer_.async_wait([this, deadline](const boost::system::error_code& error) {
    if (!error) {
      flush_then_stop(deadline);
    }
  });
}

void RelayDaemon::stop() {
  if (metrics_) {
    metrics_->stop();
  }
  links_->stop();
  service_->stop();
  signals_.cancel();
  flush_timer_.cancel();
  sampling_timer_.cancel();
  if (debug_toggle_) {
    debug_toggle_->cancel();
  }
  io_.stop();
}

void RelayDaemon::arm_sampling() {
  sampling_timer_.expires_after(service_->settings().traffic_sampling_period);
  sampling_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) {
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    service_->sample_traffic(now - last_sample_);
    last_sample_ = now;
    const auto took = std::chrono::steady_clock::now() - now;
    if (took > std::chrono::milliseconds(10)) {
      spdlog::warn("traffic sampling took {} ms",
                   std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
    }
    arm_sampling();
  });
}

}  // namespace mpx::relay::daemon
