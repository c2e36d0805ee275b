// RelayLink: one relay's TLS connection as the dispatcher sees it (compat spec 3.2-3.7). Sends
// `<cmd> <seq>` requests (seq per link from 0) and matches `<seq> <payload>` replies, each with a
// deadline; answers `ping` with `pong`; hands `expired` notices to its owner; keeps the relay's
// last `summary` (refreshed periodically) for load-aware selection; tracks `halting` and the
// timed-out state (excluded from new sessions, dropped after relay_recover_interval unless a
// ping arrives); re-verifies the peer certificate every verify_interval.
// Single-threaded: use it only from its io_context's thread.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/relay_message.hpp"
#include "common/protocol/relay_summary.hpp"
#include "common/protocol/wire_text.hpp"
#include "common/tls/peer_reverifier.hpp"

namespace mpx::dispatcher {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
using Clock = std::chrono::steady_clock;

struct RelayLinkOptions {
  std::chrono::milliseconds relay_timeout{5000};
  std::chrono::milliseconds recover_interval{60000};  // timed out: dropped after this without a ping
  std::chrono::milliseconds verify_interval{300000};  // 0: no re-verification
  std::chrono::milliseconds summary_interval{5000};   // 0: no periodic summary
};

struct RelayAnswer {
  enum class Kind {
    reply,         // payload holds the relay's answer
    timeout,       // no answer before the deadline
    disconnected,  // the link closed before the answer
    not_sent,      // the request could not be encoded (payload says why)
  };
  Kind kind = Kind::disconnected;
  std::string payload;
};

std::string_view to_string(RelayAnswer::Kind kind);

class RelayLink : public std::enable_shared_from_this<RelayLink> {
 public:
  struct Events {
    std::function<void(const std::shared_ptr<RelayLink>&, std::string json)> on_expired;
    // Called once, after the link closed (posted, never from inside close()).
    std::function<void(const std::shared_ptr<RelayLink>&, const std::string& reason)> on_closed;
  };

  RelayLink(TlsStream stream, std::string peer_ip, RelayLinkOptions options, Events events);
  ~RelayLink();
  RelayLink(const RelayLink&) = delete;
  RelayLink& operator=(const RelayLink&) = delete;

  // Starts reading, the re-verification and the summary refresh.
  void start();
  // Closes the connection; pending requests end as disconnected. Idempotent.
  void close(const std::string& reason);

  // Sends `<command> <seq>` with `headers` and waits for the reply until `deadline`.
  boost::asio::awaitable<RelayAnswer> request(std::string command,
                                              std::vector<protocol::Header> headers,
                                              Clock::time_point deadline);

  const std::string& peer_ip() const { return peer_ip_; }
  std::uint64_t id() const { return id_; }
  bool closed() const { return closed_; }
  bool halting() const { return halting_; }
  bool timed_out() const { return timed_out_; }
  // Connected, not halting, not timed out: may take new sessions.
  bool usable() const { return !closed_ && !halting_ && !timed_out_; }
  void mark_halting();
  // A request got no answer in time: excluded from new sessions; dropped after recover_interval
  // unless a ping shows the relay alive again.
  void mark_timed_out();

  // The last summary, if any; load() = its session_count plus the sessions placed here since.
  const std::optional<protocol::RelaySummary>& summary() const { return summary_; }
  std::uint64_t load() const;
  void note_session_placed() { ++placed_since_summary_; }

 private:
  struct Pending;
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> summary_loop();
  void send(std::string text);
  void handle_line_message(protocol::RelayMessageStep& step);

  boost::asio::any_io_executor executor_;
  TlsStream stream_;
  std::string peer_ip_;
  RelayLinkOptions options_;
  Events events_;
  std::uint64_t id_;

  protocol::RelayMessageParser parser_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  std::uint64_t next_seq_ = 0;
  std::map<std::uint64_t, Pending*> pending_;

  bool closed_ = false;
  bool halting_ = false;
  bool timed_out_ = false;
  boost::asio::steady_timer recover_timer_;
  boost::asio::steady_timer summary_timer_;
  std::unique_ptr<tls::PeerReverifier> reverifier_;

  std::optional<protocol::RelaySummary> summary_;
  std::uint64_t placed_since_summary_ = 0;
};

}  // namespace mpx::dispatcher
