// DispatcherLink (see dispatcher_link.hpp). Each connection attempt gets its own Connection
// object; the coroutines of a connection hold it, so a late completion of an old connection never
// touches the next one. run() owns the connect / serve / wait-and-retry cycle.
#include "relay/link/dispatcher_link.hpp"

#include "common/asio/spawn.hpp"

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <array>
#include <exception>
#include <optional>
#include <variant>

#include "common/protocol/relay_message.hpp"
#include "common/tls/peer_check.hpp"
#include "common/tls/peer_reverifier.hpp"

namespace mpx::relay::link {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

using asio_util::spawn;

// Spec 3.3: any other command is answered "<seq> error" at once, without the session layer.
bool is_known_command(std::string_view command) {
  return command == "update" || command == "remove" || command == "summary" ||
         command == "sessions";
}

double seconds(Clock::duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace

struct DispatcherLink::Outgoing {
  std::string line;
  bool expired = false;  // re-queued for the next connection when not written
};

struct DispatcherLink::Connection {
  Connection(const asio::any_io_executor& executor, ssl::context& context)
      : stream(executor, context), ended(executor), deadline(executor), ping_timer(executor) {
    ended.expires_at(Clock::time_point::max());
  }

  ssl::stream<tcp::socket> stream;
  asio::steady_timer ended;       // never expires; cancelled when the connection ends
  asio::steady_timer deadline;    // connect + handshake timeout
  asio::steady_timer ping_timer;  // keepalive
  std::unique_ptr<tls::PeerReverifier> reverifier;
  protocol::RelayRequestParser parser;
  std::deque<Outgoing> outbox;
  bool writing = false;
  bool closed = false;
  bool timed_out = false;
  std::size_t unanswered_pings = 0;
  std::string end_reason;
  bool certificate_error = false;
  Clock::time_point established_at{};
};

struct DispatcherLink::Attempt {
  bool ok = false;
  std::string error;
  bool certificate_error = false;
};

DispatcherLink::DispatcherLink(asio::any_io_executor executor, ssl::context& tls, DispatcherId id,
                               std::string name, LinkOptions options, RequestHandler& handler)
    : executor_(std::move(executor)),
      tls_(tls),
      id_(id),
      name_(std::move(name)),
      options_(std::move(options)),
      handler_(handler),
      retry_timer_(executor_) {
  if (name_.empty() || name_ == id_.to_string()) {
    name_ = id_.to_string();
  } else {
    name_ += " (" + id_.to_string() + ")";
  }
}

DispatcherLink::~DispatcherLink() {
  if (current_ && current_->reverifier) {
    current_->reverifier->cancel();
  }
}

void DispatcherLink::start() {
  if (started_ || stopped_) {
    return;
  }
  started_ = true;
  spawn(executor_, run(), "dispatcher link " + name_);
}

void DispatcherLink::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  retry_timer_.cancel();
  if (current_) {
    close(*current_, "relay stopping the link", false);
  }
  if (!expired_queue_.empty()) {
    spdlog::warn("dispatcher {}: {} expired session statistics never delivered", name_,
                 expired_queue_.size());
    expired_queue_.clear();
  }
}

std::size_t DispatcherLink::pending_writes() const {
  if (!current_ || current_->closed) {
    return 0;
  }
  return current_->outbox.size();
}

bool DispatcherLink::send_expired(std::string_view json) {
  if (stopped_) {
    return false;
  }
  auto line = protocol::encode_relay_message(protocol::RelayExpired{std::string(json)});
  if (!line) {
    spdlog::error("dispatcher {}: expired statistics not sendable: {}", name_,
                  line.error().message);
    return false;
  }
  if (connected_ && current_ && !current_->closed) {
    send(current_, std::move(line).value(), true);
  } else {
    queue_expired(std::move(line).value());
    spdlog::info("dispatcher {} not connected: expired statistics queued ({} waiting)", name_,
                 expired_queue_.size());
  }
  return true;
}

void DispatcherLink::queue_expired(std::string line) {
  if (options_.max_queued_expired == 0) {
    spdlog::warn("dispatcher {}: expired statistics lost (queue disabled)", name_);
    return;
  }
  while (expired_queue_.size() >= options_.max_queued_expired) {
    expired_queue_.pop_front();
    spdlog::warn("dispatcher {}: expired queue full, oldest statistics dropped", name_);
  }
  expired_queue_.push_back(std::move(line));
}

asio::awaitable<void> DispatcherLink::run() {
  auto self = shared_from_this();
  while (!stopped_) {
    auto connection = std::make_shared<Connection>(executor_, tls_);
    current_ = connection;
    spdlog::debug("dispatcher {}: connecting", name_);
    const Attempt attempt = co_await connect(connection);
    if (stopped_) {
      break;
    }
    Clock::duration delay{};
    if (!attempt.ok) {
      close(*connection, attempt.error, attempt.certificate_error);
      delay = retry_delay(
          attempt.certificate_error ? LinkEnd::certificate_error : LinkEnd::connect_failed,
          Clock::duration::zero(), options_.reconnect);
      spdlog::warn("cannot connect to dispatcher {}: {}; retrying in {:.1f} s", name_,
                   attempt.error, seconds(delay));
    } else {
      connection->established_at = Clock::now();
      connected_ = true;
      ++connections_;
      spdlog::info("connected to dispatcher {}", name_);
      begin_session(connection);
      if (!connection->closed) {
        boost::system::error_code ignored;
        co_await connection->ended.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
      connected_ = false;
      if (stopped_) {
        spdlog::info("disconnected from dispatcher {}: {}", name_, connection->end_reason);
        break;
      }
      const auto lived = Clock::now() - connection->established_at;
      delay =
          retry_delay(connection->certificate_error ? LinkEnd::certificate_error : LinkEnd::lost,
                      lived, options_.reconnect);
      spdlog::warn("lost connection to dispatcher {}: {}; reconnecting in {:.1f} s", name_,
                   connection->end_reason, seconds(delay));
    }
    retry_timer_.expires_after(delay);
    boost::system::error_code ignored;
    co_await retry_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  current_.reset();
}

asio::awaitable<DispatcherLink::Attempt> DispatcherLink::connect(
    std::shared_ptr<Connection> connection) {
  connection->deadline.expires_after(options_.connect_timeout);
  connection->deadline.async_wait(
      [weak = std::weak_ptr<Connection>(connection)](const boost::system::error_code& error) {
        auto expired = weak.lock();
        if (error || !expired || expired->closed) {
          return;
        }
        expired->timed_out = true;
        boost::system::error_code ignored;
        expired->stream.lowest_layer().close(ignored);
      });

  const tcp::endpoint endpoint(id_.address, id_.port);
  boost::system::error_code error;
  co_await connection->stream.lowest_layer().async_connect(
      endpoint, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    co_return Attempt{false, connection->timed_out ? "connect timed out" : error.message(), false};
  }
  // Small records both ways: Nagle's algorithm plus the dispatcher's delayed ACK would hold
  // answers for 40 ms under concurrent requests (bench/control_plane).
  boost::system::error_code ignored_option;
  connection->stream.lowest_layer().set_option(tcp::no_delay(true), ignored_option);
  co_await connection->stream.async_handshake(ssl::stream_base::client,
                                              asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    if (connection->timed_out) {
      co_return Attempt{false, "TLS handshake timed out", false};
    }
    const long verify = SSL_get_verify_result(connection->stream.native_handle());
    if (verify != X509_V_OK) {
      co_return Attempt{
          false,
          std::string("dispatcher certificate rejected: ") + X509_verify_cert_error_string(verify),
          true};
    }
    co_return Attempt{false, "TLS handshake failed: " + error.message(), false};
  }
  connection->deadline.cancel();
  if (auto checked = tls::check_peer(connection->stream.native_handle(), options_.passport);
      !checked) {
    co_return Attempt{false, checked.error().message, true};
  }
  co_return Attempt{true, {}, false};
}

void DispatcherLink::begin_session(const std::shared_ptr<Connection>& connection) {
  connection->reverifier = std::make_unique<tls::PeerReverifier>(
      executor_, connection->stream.native_handle(), options_.verify_interval,
      [this, weak = std::weak_ptr<Connection>(connection)](const Error& error) {
        if (auto alive = weak.lock()) {
          close(*alive, "certificate re-verification failed: " + error.message, true);
        }
      });
  connection->reverifier->start();
  // Statistics kept while disconnected go first, before any reply of this connection.
  while (!expired_queue_.empty()) {
    send(connection, std::move(expired_queue_.front()), true);
    expired_queue_.pop_front();
  }
  spawn(executor_, read_loop(connection), "dispatcher " + name_ + " reader");
  if (options_.keepalive_interval > Clock::duration::zero()) {
    spawn(executor_, keepalive_loop(connection), "dispatcher " + name_ + " keepalive");
  }
}

void DispatcherLink::close(Connection& connection, std::string reason, bool certificate_error) {
  if (connection.closed) {
    return;
  }
  connection.closed = true;
  connection.end_reason = std::move(reason);
  connection.certificate_error = certificate_error;
  if (connection.reverifier) {
    connection.reverifier->cancel();
  }
  connection.deadline.cancel();
  connection.ping_timer.cancel();
  boost::system::error_code ignored;
  connection.stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  connection.stream.lowest_layer().close(ignored);
  // Expired lines not yet handed to the socket go to the next connection; the one being written
  // (if any) may have left partly, so it is not repeated.
  const std::size_t in_flight = connection.writing ? 1 : 0;
  std::size_t index = 0;
  std::deque<std::string> requeue;
  for (auto& outgoing : connection.outbox) {
    if (index++ >= in_flight && outgoing.expired) {
      requeue.push_back(std::move(outgoing.line));
    }
  }
  connection.outbox.clear();
  if (!stopped_) {
    for (auto it = requeue.rbegin(); it != requeue.rend(); ++it) {
      expired_queue_.push_front(std::move(*it));
    }
    while (expired_queue_.size() > options_.max_queued_expired) {
      expired_queue_.pop_front();
    }
  } else if (!requeue.empty()) {
    spdlog::warn("dispatcher {}: {} expired session statistics never delivered", name_,
                 requeue.size());
  }
  connection.ended.cancel();
}

void DispatcherLink::send(const std::shared_ptr<Connection>& connection, std::string line,
                          bool expired) {
  if (connection->closed) {
    if (expired && !stopped_) {
      queue_expired(std::move(line));
    }
    return;
  }
  connection->outbox.push_back(Outgoing{std::move(line), expired});
  if (!connection->writing) {
    connection->writing = true;
    spawn(executor_, write_loop(connection), "dispatcher " + name_ + " writer");
  }
}

asio::awaitable<void> DispatcherLink::write_loop(std::shared_ptr<Connection> connection) {
  auto self = shared_from_this();
  while (!connection->outbox.empty() && !connection->closed) {
    boost::system::error_code error;
    co_await asio::async_write(connection->stream, asio::buffer(connection->outbox.front().line),
                               asio::redirect_error(asio::use_awaitable, error));
    if (connection->closed) {
      break;
    }
    if (error) {
      connection->outbox.pop_front();  // partly written at most: not repeated
      connection->writing = false;
      close(*connection, "write failed: " + error.message(), false);
      co_return;
    }
    connection->outbox.pop_front();
  }
  connection->writing = false;
}

asio::awaitable<void> DispatcherLink::read_loop(std::shared_ptr<Connection> connection) {
  auto self = shared_from_this();
  std::array<char, 16384> buffer{};
  while (!connection->closed) {
    boost::system::error_code error;
    const std::size_t n = co_await connection->stream.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
    if (connection->closed) {
      co_return;
    }
    if (error) {
      close(*connection,
            error == asio::error::eof || error == ssl::error::stream_truncated
                ? std::string("connection closed by the dispatcher")
                : "read failed: " + error.message(),
            false);
      co_return;
    }
    connection->parser.feed(std::string_view(buffer.data(), n));
    while (!connection->closed) {
      auto step = connection->parser.next();
      if (std::holds_alternative<protocol::NeedMore>(step)) {
        break;
      }
      if (auto* request = std::get_if<protocol::RelayRequest>(&step)) {
        for (const auto& skipped : connection->parser.skipped_lines()) {
          spdlog::warn("dispatcher {}: {} {}: unparsable header line skipped: {}", name_,
                       request->command, request->seq, skipped);
        }
        std::string payload = "error";
        if (is_known_command(request->command)) {
          payload = co_await answer(*request);
        } else {
          spdlog::warn("dispatcher {}: unknown command {} {} answered error", name_,
                       request->command, request->seq);
        }
        auto line = protocol::encode_relay_message(protocol::RelayReply{request->seq, payload});
        if (!line) {
          spdlog::error("dispatcher {}: reply to {} {} not sendable ({}): answering error", name_,
                        request->command, request->seq, line.error().message);
          line = protocol::encode_relay_message(protocol::RelayReply{request->seq, "error"});
        }
        send(connection, std::move(line).value(), false);
      } else if (std::holds_alternative<protocol::Pong>(step)) {
        if (connection->unanswered_pings > 0) {
          --connection->unanswered_pings;
        }
      } else if (auto* rejected = std::get_if<protocol::RejectedRelayRequest>(&step)) {
        spdlog::warn("dispatcher {}: request rejected: {}", name_, rejected->message);
        if (rejected->seq) {
          auto line = protocol::encode_relay_message(protocol::RelayReply{*rejected->seq, "error"});
          send(connection, std::move(line).value(), false);
        }
      } else if (auto* fatal = std::get_if<protocol::FatalError>(&step)) {
        close(*connection, "protocol error: " + fatal->message, false);
      }
    }
  }
}

asio::awaitable<std::string> DispatcherLink::answer(const protocol::RelayRequest& request) {
  try {
    co_return co_await handler_.handle(request, id_);
  } catch (const std::exception& e) {
    spdlog::error("dispatcher {}: {} {} failed: {}", name_, request.command, request.seq, e.what());
  } catch (...) {
    spdlog::error("dispatcher {}: {} {} failed", name_, request.command, request.seq);
  }
  co_return "error";
}

asio::awaitable<void> DispatcherLink::keepalive_loop(std::shared_ptr<Connection> connection) {
  auto self = shared_from_this();
  while (!connection->closed) {
    connection->ping_timer.expires_after(options_.keepalive_interval);
    boost::system::error_code error;
    co_await connection->ping_timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (error || connection->closed) {
      co_return;
    }
    if (connection->unanswered_pings >= options_.max_unanswered_pings) {
      close(*connection, std::to_string(connection->unanswered_pings) + " pings unanswered", false);
      co_return;
    }
    ++connection->unanswered_pings;
    send(connection, std::string(protocol::kPingLine), false);
  }
}

}  // namespace mpx::relay::link
