// DispatcherService: the dispatcher's parts assembled from the configuration: the core, the
// module socket and the relay listener (with its TLS context and passport), and the back-end the
// management interface reads. DispatcherDaemon (dispatcher_daemon.hpp) runs it as the daemon,
// with accounting, hang-ups, the management server and metrics; integration tests run it
// in-process.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <optional>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "dispatcher/dispatcher_core.hpp"
#include "dispatcher/module_server.hpp"
#include "dispatcher/relay_management_backend.hpp"
#include "dispatcher/relay_server.hpp"

namespace mpx::dispatcher {

// What the service derives from the configuration, overridable by tests.
struct ServiceOptions {
  CoreOptions core;
  RelayLinkOptions link;
  SocketPermissions socket_permissions;
  std::chrono::milliseconds answer_budget{300};
};

ServiceOptions service_options(const config::Config& config);

class DispatcherService {
 public:
  // `config` and `terminator` (may be null) must outlive the service.
  DispatcherService(boost::asio::io_context& io, const config::Config& config,
                    std::filesystem::path runtime_dir, AccountingSink accounting,
                    DialogTerminator* terminator, ServiceOptions options);
  ~DispatcherService();
  DispatcherService(const DispatcherService&) = delete;
  DispatcherService& operator=(const DispatcherService&) = delete;

  // Loads the TLS credentials, checks the passport, binds the module socket and the relay
  // listener. The error is one line for the operator (file, option or address and the problem).
  Result<void> open();
  void start();
  // Stops listening, closes every connection, removes the socket file. Idempotent.
  void stop();

  DispatcherCore& core() { return *core_; }
  // The management interface's answers, from the core's relays.
  ManagementBackend& management_backend() { return management_backend_; }
  // nullptr before open().
  const ModuleServer* module_server() const { return module_server_.get(); }
  const std::filesystem::path& socket_path() const { return socket_path_; }
  boost::asio::ip::tcp::endpoint relay_endpoint() const;

 private:
  boost::asio::io_context& io_;
  const config::Config& config_;
  std::filesystem::path socket_path_;
  ServiceOptions options_;
  std::unique_ptr<DispatcherCore> core_;
  RelayManagementBackend management_backend_;
  std::optional<boost::asio::ssl::context> tls_context_;
  std::unique_ptr<ModuleServer> module_server_;
  std::unique_ptr<RelayServer> relay_server_;
};

}  // namespace mpx::dispatcher
