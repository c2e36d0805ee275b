// RelayDaemon: mpx-relay assembled from its configuration, in an order where nothing needs to
// reach something built after it: the media sockets (read only once started), the datapath
// (datapath_factory.hpp), the dispatcher links (given their request handler only when started),
// the service (relay/service), the metrics endpoint. It owns the process's life around them:
//  - create() checks the configuration and builds every part, including the restart step of a
//    datapath whose flows outlive the process (the previous process's calls taken over, its
//    other flows removed); every failure is one line for the operator;
//  - start() starts reading the sockets into the engine, the service, the links, the traffic
//    sampling clock, the metrics and the signal handling:
//      SIGHUP drains: new sessions are answered `halting`; the relay stops once the last one
//        ended;
//      SIGINT and SIGTERM expire every session, report their statistics to the dispatchers that
//        created them (kFlushBudget to write them), remove every flow and stop;
//  - after the event loop returned, finish() removes the state file: a clean stop ended every
//    session, nothing is left to take over.
// Single-threaded: everything runs on the io_context given to create().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/config/config.hpp"
#include "common/metrics/metrics_server.hpp"
#include "common/result.hpp"
#include "relay/link/dispatcher_links.hpp"
#include "relay/service/relay_service.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::relay::daemon {

class RelayDaemon {
 public:
  // Time the last `expired` lines get to reach the dispatchers on SIGINT/SIGTERM.
  static constexpr std::chrono::seconds kFlushBudget{3};

  // `config` must outlive the daemon. Nothing runs until start().
  static Result<std::unique_ptr<RelayDaemon>> create(boost::asio::io_context& io,
                                                     const config::Config& config,
                                                     const std::filesystem::path& runtime_dir);
  ~RelayDaemon();
  RelayDaemon(const RelayDaemon&) = delete;
  RelayDaemon& operator=(const RelayDaemon&) = delete;

  // After daemonizing (threads and timers do not survive fork).
  void start();
  // After the io_context returned.
  void finish();

 private:
  RelayDaemon(boost::asio::io_context& io, const config::Config& config);
  Result<void> open(const std::filesystem::path& runtime_dir);
  void wait_signal();
  void drain();
  void expire_and_stop(int signal);
  // Lets the links write the last `expired` lines until they are out or `deadline`, then stops.
  void flush_then_stop(std::chrono::steady_clock::time_point deadline);
  void stop();
  void arm_sampling();

  boost::asio::io_context& io_;
  const config::Config& config_;
  boost::asio::ip::address_v4 relay_ip_;
  std::optional<boost::asio::ssl::context> tls_;
  datapath::MediaSockets sockets_;
  std::unique_ptr<datapath::Datapath> datapath_;
  std::unique_ptr<link::DispatcherLinks> links_;
  std::unique_ptr<service::RelayService> service_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer flush_timer_;
  boost::asio::steady_timer sampling_timer_;
  std::chrono::steady_clock::time_point last_sample_;
  std::unique_ptr<boost::asio::signal_set> debug_toggle_;
  bool stopping_ = false;
};

}  // namespace mpx::relay::daemon
