// RelayServer (see relay_server.hpp).
#include "dispatcher/relay_server.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "common/tls/peer_check.hpp"
#include "common/asio/spawn.hpp"

namespace mpx::dispatcher {

using asio_util::spawn;

namespace asio = boost::asio;
using asio::ip::tcp;

RelayServer::RelayServer(asio::any_io_executor executor, asio::ssl::context& context,
                         config::ListenAddress listen, std::optional<tls::Passport> passport,
                         RelayLinkOptions link_options, DispatcherCore& core,
                         std::chrono::milliseconds handshake_timeout)
    : executor_(std::move(executor)),
      context_(context),
      listen_(listen),
      passport_(std::move(passport)),
      link_options_(link_options),
      core_(core),
      handshake_timeout_(handshake_timeout),
      acceptor_(executor_) {}

RelayServer::~RelayServer() {
  *alive_ = false;
  stop();
}

Result<void> RelayServer::open() {
  const tcp::endpoint endpoint(listen_.ip ? asio::ip::address(*listen_.ip)
                                          : asio::ip::address(asio::ip::address_v4::any()),
                               listen_.port);
  boost::system::error_code error;
  acceptor_.open(endpoint.protocol(), error);
  if (!error) {
    acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
  }
  if (!error) {
    acceptor_.bind(endpoint, error);
  }
  if (!error) {
    acceptor_.listen(asio::socket_base::max_listen_connections, error);
  }
  if (error) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Error{fmt::format("cannot listen for relays on {}:{}: {}",
                             endpoint.address().to_string(), endpoint.port(), error.message())};
  }
  return outcome::success();
}

void RelayServer::start() { spawn(executor_, accept_loop(), "relay acceptor"); }

void RelayServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

tcp::endpoint RelayServer::local_endpoint() const {
  boost::system::error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

asio::awaitable<void> RelayServer::accept_loop() {
  auto alive = alive_;
  while (*alive && !stopped_) {
    tcp::socket socket(executor_);
    boost::system::error_code error;
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, error));
    if (!*alive || stopped_ || error == asio::error::operation_aborted) {
      co_return;
    }
    if (error) {
      spdlog::error("relay listener: accept failed: {}", error.message());
      continue;
    }
    // Requests and answers are small TLS records: without TCP_NODELAY, Nagle's algorithm meets
    // the peer's delayed ACK and concurrent requests wait 40 ms (seen in bench/control_plane).
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    spawn(executor_, admit(std::move(socket)), "relay admission");
  }
}

asio::awaitable<void> RelayServer::admit(tcp::socket socket) {
  auto alive = alive_;
  boost::system::error_code error;
  const auto remote = socket.remote_endpoint(error);
  if (error) {
    co_return;
  }
  const std::string ip = remote.address().to_string();
  auto stream = std::make_shared<TlsStream>(std::move(socket), context_);
  // A peer that connects and never finishes the handshake must not hold the socket forever.
  asio::steady_timer guard(executor_, handshake_timeout_);
  guard.async_wait([weak = std::weak_ptr<TlsStream>(stream)](const boost::system::error_code& e) {
    if (auto s = weak.lock(); !e && s) {
      boost::system::error_code ignored;
      s->lowest_layer().close(ignored);
    }
  });
  co_await stream->async_handshake(asio::ssl::stream_base::server,
                                   asio::redirect_error(asio::use_awaitable, error));
  guard.cancel();
  if (!*alive || stopped_) {
    co_return;
  }
  if (error) {
    std::string reason = error.message();
    const long verify = SSL_get_verify_result(stream->native_handle());
    if (verify != X509_V_OK) {
      reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    spdlog::warn("relay {} refused: TLS handshake failed: {}", ip, reason);
    co_return;
  }
  if (auto checked = tls::check_peer(stream->native_handle(), passport_); !checked) {
    spdlog::warn("relay {} refused: {}", ip, checked.error().message);
    boost::system::error_code ignored;
    stream->lowest_layer().close(ignored);
    co_return;
  }
  auto link = std::make_shared<RelayLink>(std::move(*stream), ip, link_options_,
                                          core_.link_events());
  core_.relay_connected(link);
}

}  // namespace mpx::dispatcher
