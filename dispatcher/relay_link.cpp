// RelayLink (see relay_link.hpp).
#include "dispatcher/relay_link.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>

#include "common/protocol/relay_request.hpp"
#include "common/asio/spawn.hpp"

namespace mpx::dispatcher {

using asio_util::spawn;

namespace asio = boost::asio;

namespace {
std::atomic<std::uint64_t> next_link_id{1};
}

std::string_view to_string(RelayAnswer::Kind kind) {
  switch (kind) {
    case RelayAnswer::Kind::reply:
      return "reply";
    case RelayAnswer::Kind::timeout:
      return "timed out";
    case RelayAnswer::Kind::disconnected:
      return "disconnected";
    case RelayAnswer::Kind::not_sent:
      return "not sent";
  }
  return "?";
}

// Lives in the frame of the request() coroutine waiting for it; the link only points to it.
struct RelayLink::Pending {
  explicit Pending(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  std::optional<std::string> payload;
  bool disconnected = false;
};

RelayLink::RelayLink(TlsStream stream, std::string peer_ip, RelayLinkOptions options,
                     Events events)
    : executor_(stream.get_executor()),
      stream_(std::move(stream)),
      peer_ip_(std::move(peer_ip)),
      options_(options),
      events_(std::move(events)),
      id_(next_link_id++),
      recover_timer_(executor_),
      summary_timer_(executor_) {}

RelayLink::~RelayLink() {
  if (reverifier_) {
    reverifier_->cancel();
  }
}

void RelayLink::start() {
  auto self = shared_from_this();
  reverifier_ = std::make_unique<tls::PeerReverifier>(
      executor_, stream_.native_handle(), options_.verify_interval,
      [weak = std::weak_ptr<RelayLink>(self)](const Error& error) {
        if (auto link = weak.lock()) {
          link->close("certificate re-verification failed: " + error.message);
        }
      });
  reverifier_->start();
  spawn(executor_, read_loop(), "relay " + peer_ip_ + " reader");
  if (options_.summary_interval.count() > 0) {
    spawn(executor_, summary_loop(), "relay " + peer_ip_ + " summary");
  }
}

void RelayLink::close(const std::string& reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (reverifier_) {
    reverifier_->cancel();
  }
  recover_timer_.cancel();
  summary_timer_.cancel();
  boost::system::error_code ignored;
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
  for (auto& [seq, pending] : pending_) {
    pending->disconnected = true;
    pending->timer.cancel();
  }
  outbox_.clear();
  if (events_.on_closed) {
    asio::post(executor_, [self = shared_from_this(), reason]() {
      self->events_.on_closed(self, reason);
    });
  }
}

asio::awaitable<RelayAnswer> RelayLink::request(std::string command,
                                                std::vector<protocol::Header> headers,
                                                Clock::time_point deadline) {
  auto self = shared_from_this();
  if (closed_) {
    co_return RelayAnswer{RelayAnswer::Kind::disconnected, {}};
  }
  const protocol::RelayRequest request{std::move(command), next_seq_, std::move(headers)};
  auto text = protocol::encode_relay_request(request);
  if (!text.has_value()) {
    co_return RelayAnswer{RelayAnswer::Kind::not_sent, text.error().message};
  }
  ++next_seq_;
  Pending pending(executor_);
  pending.timer.expires_at(deadline);
  pending_.emplace(request.seq, &pending);
  send(std::move(text).value());
  boost::system::error_code ignored;
  co_await pending.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  pending_.erase(request.seq);
  if (pending.payload) {
    co_return RelayAnswer{RelayAnswer::Kind::reply, std::move(*pending.payload)};
  }
  if (pending.disconnected || closed_) {
    co_return RelayAnswer{RelayAnswer::Kind::disconnected, {}};
  }
  co_return RelayAnswer{RelayAnswer::Kind::timeout, {}};
}

void RelayLink::mark_halting() {
  if (!halting_) {
    halting_ = true;
    spdlog::info("relay {} is halting: no new sessions go there", peer_ip_);
  }
}

void RelayLink::mark_timed_out() {
  if (timed_out_ || closed_) {
    return;
  }
  timed_out_ = true;
  spdlog::warn("relay {} did not answer in time: no new sessions go there until it pings; "
               "disconnecting in {} s otherwise",
               peer_ip_, options_.recover_interval.count() / 1000);
  recover_timer_.expires_after(options_.recover_interval);
  recover_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    auto self = weak.lock();
    if (!error && self && self->timed_out_) {
      self->close("timed out and did not recover");
    }
  });
}

std::uint64_t RelayLink::load() const {
  return (summary_ ? summary_->session_count : 0) + placed_since_summary_;
}

void RelayLink::send(std::string text) {
  if (closed_) {
    return;
  }
  outbox_.push_back(std::move(text));
  if (!writing_) {
    writing_ = true;
    spawn(executor_, write_loop(), "relay " + peer_ip_ + " writer");
  }
}

asio::awaitable<void> RelayLink::write_loop() {
  auto self = shared_from_this();
  while (!outbox_.empty() && !closed_) {
    // Owned by this frame while in flight: close() may clear the outbox meanwhile.
    const std::string text = std::move(outbox_.front());
    outbox_.pop_front();
    boost::system::error_code error;
    co_await asio::async_write(stream_, asio::buffer(text),
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      writing_ = false;
      close("write failed: " + error.message());
      co_return;
    }
  }
  writing_ = false;
}

asio::awaitable<void> RelayLink::read_loop() {
  auto self = shared_from_this();
  std::array<char, 16384> buffer{};
  while (!closed_) {
    boost::system::error_code error;
    const std::size_t n = co_await stream_.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      close(error == asio::error::eof || error == asio::ssl::error::stream_truncated
                ? std::string("connection closed by the relay")
                : "read failed: " + error.message());
      co_return;
    }
    parser_.feed(std::string_view(buffer.data(), n));
    while (!closed_) {
      auto step = parser_.next();
      if (std::holds_alternative<protocol::NeedMore>(step)) {
        break;
      }
      handle_line_message(step);
    }
  }
}

void RelayLink::handle_line_message(protocol::RelayMessageStep& step) {
  if (auto* reply = std::get_if<protocol::RelayReply>(&step)) {
    const auto it = pending_.find(reply->seq);
    if (it == pending_.end()) {
      spdlog::debug("relay {}: late or unknown reply {} ignored", peer_ip_, reply->seq);
      return;
    }
    it->second->payload = std::move(reply->payload);
    it->second->timer.cancel();
  } else if (auto* expired = std::get_if<protocol::RelayExpired>(&step)) {
    if (events_.on_expired) {
      events_.on_expired(shared_from_this(), std::move(expired->json));
    }
  } else if (std::holds_alternative<protocol::Ping>(step)) {
    send(std::string(protocol::kPongLine));
    if (timed_out_) {
      timed_out_ = false;
      recover_timer_.cancel();
      spdlog::info("relay {} pinged again: back in service", peer_ip_);
    }
  } else if (auto* bad = std::get_if<protocol::MessageError>(&step)) {
    spdlog::warn("relay {} sent a line that is not protocol B, ignored: {}", peer_ip_,
                 bad->message);
  } else if (auto* fatal = std::get_if<protocol::FatalError>(&step)) {
    close(fatal->message);
  }
}

asio::awaitable<void> RelayLink::summary_loop() {
  auto self = shared_from_this();
  while (!closed_) {
    auto answer = co_await request("summary", {}, Clock::now() + options_.relay_timeout);
    if (answer.kind == RelayAnswer::Kind::reply) {
      auto summary = protocol::relay_summary_from_json(answer.payload);
      if (summary.has_value()) {
        summary_ = std::move(summary).value();
        placed_since_summary_ = 0;
        if (summary_->status == "halting") {
          mark_halting();
        }
      } else {
        spdlog::warn("relay {}: unusable summary: {}", peer_ip_, summary.error().message);
      }
    } else if (answer.kind == RelayAnswer::Kind::timeout) {
      mark_timed_out();
    }
    if (closed_) {
      co_return;
    }
    summary_timer_.expires_after(options_.summary_interval);
    boost::system::error_code ignored;
    co_await summary_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

}  // namespace mpx::dispatcher
