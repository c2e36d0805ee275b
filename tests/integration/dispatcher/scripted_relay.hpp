// ScriptedRelay: a protocol-B relay for the dispatcher's integration tests. It connects to the
// dispatcher over real TLS (its own credentials, from a chosen loopback address so each relay has
// its own peer IP), records every request, and answers each one as its script says: a payload
// after an optional delay, or silence. Tests can also push unsolicited lines (ping, expired).
// Runs on its own io_context thread.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/relay_request.hpp"
#include "common/tls/context.hpp"

namespace mpx::dispatcher::testing {

struct ScriptedAnswer {
  std::optional<std::string> payload;  // nullopt: never answer
  std::chrono::milliseconds delay{0};
};

using RelayScript = std::function<ScriptedAnswer(const protocol::RelayRequest&)>;

// A well-behaved relay at `ip`: update -> "<ip> 40002 40006 ..." (one port per media stream),
// remove -> answered statistics of the call, summary -> session_count `load`, sessions -> "[]".
RelayScript healthy_relay(const std::string& ip, std::uint64_t load = 0);

// Statistics JSON of an answered call, as a relay sends it in `remove` answers and `expired`.
std::string answered_statistics(const std::string& call_id, const std::string& stream_status);

class ScriptedRelay {
 public:
  // `credentials` default: the test PKI's relay.crt/.key.
  ScriptedRelay(std::string ip, RelayScript script,
                std::optional<tls::CredentialFiles> credentials = std::nullopt);
  ~ScriptedRelay();
  ScriptedRelay(const ScriptedRelay&) = delete;
  ScriptedRelay& operator=(const ScriptedRelay&) = delete;

  // TCP connect from ip() and TLS handshake; false if either failed. With TLS 1.3 a dispatcher
  // that refuses the certificate or passport closes right after: see wait_closed().
  bool connect(const boost::asio::ip::tcp::endpoint& dispatcher);
  // Sends `line` + "\r\n".
  void send_line(const std::string& line);
  // Drops the connection abruptly.
  void disconnect();

  const std::string& ip() const { return ip_; }
  std::vector<protocol::RelayRequest> requests() const;
  std::size_t count(const std::string& command) const;
  std::size_t pongs() const { return pongs_; }
  bool closed() const { return closed_; }
  // Waits until the dispatcher closed the connection.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
  void read_some();
  void write(std::string text);
  void write_next();
  void mark_closed();

  std::string ip_;
  RelayScript script_;
  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  std::unique_ptr<Stream> stream_;
  std::thread thread_;
  protocol::RelayRequestParser parser_;
  std::array<char, 16384> buffer_{};
  std::deque<std::string> outbox_;
  bool writing_ = false;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<protocol::RelayRequest> requests_;
  std::atomic<std::size_t> pongs_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace mpx::dispatcher::testing
