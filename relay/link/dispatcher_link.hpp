// DispatcherLink: the relay's TLS client connection to one dispatcher (spec 3.1, 3.2, 3.6, 3.7,
// 5.12), kept up for as long as the link runs:
//  - connect with a timeout, handshake, check the peer (chain + the relay's passport), re-verify
//    it every verify_interval;
//  - read protocol B requests and answer them in order through the RequestHandler
//    ("<seq> <payload>"); a command other than update/remove/summary/sessions, or a request the
//    parser rejects with a seq, is answered "<seq> error" without the handler; a framing error
//    (line too long) drops the connection. While the handler works on a request the link reads
//    nothing more (pongs included), which keeps replies in order: handlers must be quick;
//  - `ping` every keepalive_interval; drop when max_unanswered_pings are outstanding when the next
//    one is due;
//  - reconnect per reconnect_policy.hpp;
//  - one write queue per connection, so replies, pings and expired lines never interleave.
// `expired` lines written while disconnected are queued (bounded) and flushed first on reconnect:
// the dispatcher keeps the session across a relay reconnect, so late statistics are still useful.
// Single-threaded: every member is called on the link's executor.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "relay/link/dispatcher_id.hpp"
#include "relay/link/link_options.hpp"
#include "relay/link/request_handler.hpp"

namespace mpx::relay::link {

class DispatcherLink : public std::enable_shared_from_this<DispatcherLink> {
 public:
  // `tls` (the relay context, tls::make_context(Role::relay, ...)) and `handler` must outlive the
  // link and any pending work of its io_context. `name` is for log lines (e.g. the configured
  // host when it differs from the address).
  DispatcherLink(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls,
                 DispatcherId id, std::string name, LinkOptions options, RequestHandler& handler);
  ~DispatcherLink();
  DispatcherLink(const DispatcherLink&) = delete;
  DispatcherLink& operator=(const DispatcherLink&) = delete;

  // Starts connecting (once; later calls do nothing).
  void start();
  // Closes the connection, cancels every timer and pending operation; the link never reconnects
  // afterwards. Idempotent. Queued expired lines are dropped (logged).
  void stop();

  // Writes "expired <json>" now if connected, else queues it for the next connection. False when
  // it cannot be sent at all (the link is stopped, or `json` holds CR/LF/NUL): the statistics are
  // lost, log it.
  bool send_expired(std::string_view json);

  bool connected() const { return connected_; }
  bool stopped() const { return stopped_; }
  const DispatcherId& id() const { return id_; }
  std::size_t queued_expired() const { return expired_queue_.size(); }
  // Lines queued on the live connection and not yet written (a shutdown waits for 0 before
  // stopping, so the last `expired` lines reach the dispatcher).
  std::size_t pending_writes() const;
  // Successful connections so far (handshake and peer check passed).
  std::size_t connections() const { return connections_; }

 private:
  struct Connection;
  struct Attempt;
  struct Outgoing;

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<Attempt> connect(std::shared_ptr<Connection> connection);
  void begin_session(const std::shared_ptr<Connection>& connection);
  boost::asio::awaitable<void> read_loop(std::shared_ptr<Connection> connection);
  boost::asio::awaitable<void> write_loop(std::shared_ptr<Connection> connection);
  boost::asio::awaitable<void> keepalive_loop(std::shared_ptr<Connection> connection);
  boost::asio::awaitable<std::string> answer(const protocol::RelayRequest& request);
  void send(const std::shared_ptr<Connection>& connection, std::string line, bool expired);
  void close(Connection& connection, std::string reason, bool certificate_error);
  void queue_expired(std::string line);

  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& tls_;
  DispatcherId id_;
  std::string name_;
  LinkOptions options_;
  RequestHandler& handler_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<Connection> current_;
  std::deque<std::string> expired_queue_;
  bool started_ = false;
  bool stopped_ = false;
  bool connected_ = false;
  std::size_t connections_ = 0;
};

}  // namespace mpx::relay::link
