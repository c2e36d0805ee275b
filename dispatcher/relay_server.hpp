// RelayServer: the TLS listener relays connect to (compat spec 3.1; default 0.0.0.0:25060).
// Mutual verification and the CRL come from the context (common/tls); after the handshake the
// peer must pass check_peer() with [Dispatcher] passport, else it is refused with the reason
// logged. Accepted relays become RelayLinks handed to the DispatcherCore.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "common/tls/passport.hpp"
#include "dispatcher/dispatcher_core.hpp"

namespace mpx::dispatcher {

class RelayServer {
 public:
  RelayServer(boost::asio::any_io_executor executor, boost::asio::ssl::context& context,
              config::ListenAddress listen, std::optional<tls::Passport> passport,
              RelayLinkOptions link_options, DispatcherCore& core,
              std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10));
  ~RelayServer();
  RelayServer(const RelayServer&) = delete;
  RelayServer& operator=(const RelayServer&) = delete;

  // Binds and listens; the error is one line naming the address.
  Result<void> open();
  void start();
  void stop();

  // The bound endpoint (the real port when configured with port 0, as tests do).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> admit(boost::asio::ip::tcp::socket socket);

  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& context_;
  config::ListenAddress listen_;
  std::optional<tls::Passport> passport_;
  RelayLinkOptions link_options_;
  DispatcherCore& core_;
  std::chrono::milliseconds handshake_timeout_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mpx::dispatcher
