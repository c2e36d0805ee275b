// ManagementServer: the dispatcher's management listener (compat spec 4). TLS with the
// dispatcher's credentials and a client certificate from the same CA (plus management_passport,
// checked right after the handshake, and the periodic re-verification of [TLS] verify_interval),
// or plain TCP when management_use_tls = no. Line protocol: commands end with "\r\n" (a bare "\n"
// is not a terminator), at most max_line_length bytes (longer: the connection is closed);
// `sessions` and `summary` answer one line from the ManagementBackend, `version` mpx's version,
// `quit`/`exit` close, anything else `error`. Several commands per connection, many connections.
//
// Runs on an internal strand of the given executor. stop() closes the listener and the idle
// connections; a connection waiting for the backend is closed after its answer is written.
// The backend must outlive the server's coroutines (i.e. until the executor stops running them).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "common/tls/passport.hpp"
#include "dispatcher/management/management_backend.hpp"

namespace mpx::dispatcher {

struct ManagementServerSettings {
  // [Dispatcher] listen_management: default any (0.0.0.0) port 25061.
  boost::asio::ip::tcp::endpoint listen{boost::asio::ip::address_v4::any(), 25061};
  bool use_tls = true;                      // [Dispatcher] management_use_tls
  std::filesystem::path certs_path;         // [TLS] certs_path (dispatcher.crt/.key, ca.pem, crl.pem)
  std::optional<tls::Passport> passport;    // [Dispatcher] management_passport; unused without TLS
  std::chrono::seconds verify_interval{300};  // [TLS] verify_interval; 0 disables re-checks
  std::chrono::milliseconds handshake_timeout{10000};
  std::size_t max_line_length = 16384;
};

// From [Dispatcher] listen_management (any address when it names none), management_use_tls and
// management_passport, and [TLS] certs_path and verify_interval. The error is an unusable
// management_passport: the option's place in the configuration and the problem.
Result<ManagementServerSettings> management_server_settings(const config::Config& config);

class ManagementServer {
 public:
  // Loads the TLS context (when use_tls), binds and listens. Errors are one line: the TLS set-up
  // error naming the file, or "management interface: cannot listen on 0.0.0.0:25061: ...".
  static Result<std::unique_ptr<ManagementServer>> create(boost::asio::any_io_executor executor,
                                                          ManagementServerSettings settings,
                                                          ManagementBackend& backend);
  ~ManagementServer();
  ManagementServer(const ManagementServer&) = delete;
  ManagementServer& operator=(const ManagementServer&) = delete;

  void start();  // starts accepting (on the executor)
  void stop();   // graceful stop, see above; idempotent; callable from any thread

  // The bound address (useful with port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  struct State;
  explicit ManagementServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace mpx::dispatcher
