// FakeDispatcher: a scripted protocol B dispatcher for the relay link tests. A TLS server on
// 127.0.0.x:<ephemeral> in the test's io_context that records every connection (accept time,
// handshake outcome, the lines the relay sent on it), answers `ping` with `pong` unless told not
// to, and lets the test write bytes to the current connection or close it. Also: run_until, the
// bounded io_context driver the tests use for every wait.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mpx::relay::link::testing {

// Runs `io` until `done()` or `timeout`; returns done().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout);
// Runs `io` for `duration`.
void run_for(boost::asio::io_context& io, std::chrono::milliseconds duration);

// The test PKI's dispatcher.crt as a TLS server (requires the relay's client certificate).
boost::asio::ssl::context dispatcher_server_context();
// A server presenting `<name>.crt` from the test PKI without checking the client (e.g. "other":
// issued by the other CA).
boost::asio::ssl::context plain_server_context(const std::string& name);
// The relay's client context (relay.crt, ca.pem, crl.pem).
boost::asio::ssl::context relay_client_context();

class FakeDispatcher {
 public:
  using Clock = std::chrono::steady_clock;

  struct Connection {
    explicit Connection(boost::asio::ssl::stream<boost::asio::ip::tcp::socket> s)
        : stream(std::move(s)) {}
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
    Clock::time_point accepted_at;
    bool handshake_ok = false;
    bool closed = false;  // by either side
    Clock::time_point closed_at;
    std::vector<std::string> lines;  // received from the relay, without "\r\n"
    std::string partial;
    std::deque<std::string> outbox;
    bool writing = false;
    std::array<char, 4096> buffer{};
  };

  FakeDispatcher(boost::asio::io_context& io, boost::asio::ssl::context& context,
                 const std::string& ip = "127.0.0.1");
  ~FakeDispatcher();

  std::uint16_t port() const { return port_; }
  // Accepted TCP connections, in order.
  const std::vector<std::shared_ptr<Connection>>& connections() const { return connections_; }
  std::size_t handshakes() const;
  std::shared_ptr<Connection> current() const;  // the last connection whose handshake passed
  // Every line received on every connection, in order.
  std::vector<std::string> all_lines() const;

  // Writes to the current connection.
  void send(const std::string& bytes);
  // Closes the current connection.
  void close_current();
  // Stops listening and closes everything.
  void stop();

  bool auto_pong = true;

 private:
  void accept();
  void handshake(const std::shared_ptr<Connection>& connection);
  void read(const std::shared_ptr<Connection>& connection);
  void write(const std::shared_ptr<Connection>& connection);
  void mark_closed(Connection& connection);

  boost::asio::io_context& io_;
  boost::asio::ssl::context& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mpx::relay::link::testing
