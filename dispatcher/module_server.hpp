// ModuleServer: the UNIX stream socket the OpenSIPS/Kamailio mediaproxy module talks to (compat
// spec 2, protocol A). Many concurrent connections (one per proxy worker), each strictly
// request/answer in order; every answer is produced within the answer budget (the core enforces
// it with per-relay deadlines). A malformed request is answered `error` and the connection goes
// on; a line or request too long to frame closes that connection only.
#pragma once

#include "common/metrics/exposition.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>

#include "common/protocol/module_request.hpp"
#include "common/result.hpp"
#include "dispatcher/dispatcher_core.hpp"
#include "dispatcher/socket_permissions.hpp"

namespace mpx::dispatcher {

// What the module socket saw, for the metrics endpoint.
struct ModuleStats {
  std::uint64_t updates = 0;
  std::uint64_t removes = 0;
  std::uint64_t other_commands = 0;  // answered error by the core
  std::uint64_t error_answers = 0;  // `error` answered to a well-formed request
  std::uint64_t malformed = 0;      // answered `error` without reaching the core
  std::uint64_t late_answers = 0;   // written after the answer budget
  std::uint64_t closed_oversized = 0;
  // Answer time of well-formed requests, seconds, from the request's arrival to its answer.
  metrics::Histogram answer_seconds{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5}};
};

class ModuleServer {
 public:
  ModuleServer(boost::asio::any_io_executor executor, std::filesystem::path path,
               SocketPermissions permissions, std::chrono::milliseconds answer_budget,
               DispatcherCore& core, protocol::ModuleRequestLimits limits = {});
  ~ModuleServer();
  ModuleServer(const ModuleServer&) = delete;
  ModuleServer& operator=(const ModuleServer&) = delete;

  // Creates the directory if missing, removes a stale socket file (refusing a path that is not
  // a socket or that another process still serves), binds, sets owner/mode, listens.
  Result<void> open();
  // Accepts connections until stop().
  void start();
  // Stops accepting, closes every connection, removes the socket file. Idempotent.
  void stop();

  const std::filesystem::path& path() const { return path_; }
  std::size_t connection_count() const { return connections_.size(); }
  const ModuleStats& stats() const { return stats_; }

 private:
  using Socket = boost::asio::local::stream_protocol::socket;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(std::shared_ptr<Socket> socket, std::uint64_t id);

  boost::asio::any_io_executor executor_;
  std::filesystem::path path_;
  SocketPermissions permissions_;
  std::chrono::milliseconds answer_budget_;
  DispatcherCore& core_;
  protocol::ModuleRequestLimits limits_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::map<std::uint64_t, std::shared_ptr<Socket>> connections_;
  std::uint64_t next_id_ = 0;
  ModuleStats stats_;
  bool bound_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mpx::dispatcher
