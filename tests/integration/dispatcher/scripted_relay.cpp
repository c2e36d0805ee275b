// ScriptedRelay (see scripted_relay.hpp).
#include "tests/integration/dispatcher/scripted_relay.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>

#include "tests/support/test_pki.hpp"

namespace mpx::dispatcher::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

RelayScript healthy_relay(const std::string& ip, std::uint64_t load) {
  return [ip, load](const protocol::RelayRequest& request) -> ScriptedAnswer {
    if (request.command == "update") {
      std::string ports = ip;
      const auto media = request.find("media");
      const auto streams = media ? std::count(media->begin(), media->end(), ',') + 1 : 1;
      for (long i = 0; i < streams; ++i) {
        ports += " " + std::to_string(40002 + 4 * i);
      }
      return {ports};
    }
    if (request.command == "remove") {
      return {answered_statistics(std::string(request.find("call_id").value_or("")), "closed")};
    }
    if (request.command == "summary") {
      return {fmt::format(R"({{"ip": "{}", "version": "test", "status": "active", "uptime": 1, )"
                          R"("session_count": {}, "stream_count": {{}}, "bps_relayed": 0.0}})",
                          ip, load)};
    }
    if (request.command == "sessions") {
      return {"[]"};
    }
    return {"error"};
  };
}

std::string answered_statistics(const std::string& call_id, const std::string& stream_status) {
  return fmt::format(
      R"({{"call_id": "{}", "from_tag": "ft", "from_uri": "a@example.com", "to_tag": "tt", )"
      R"("to_uri": "b@example.com", "start_time": 1760000000.5, "duration": 12, )"
      R"("caller_ua": "UA1", "callee_ua": "UA2", "username": null, "streams": [{{"media_type": )"
      R"("audio", "status": "{}", "timeout_wait": 0, "caller_codec": "G711u", "callee_codec": )"
      R"("G711u", "start_time": 0, "end_time": 12, "post_dial_delay": 1.5, "caller_bytes": 1000, )"
      R"("callee_bytes": 2000, "caller_packets": 10, "callee_packets": 20, "caller_local": )"
      R"("127.0.0.2:40000", "callee_local": "127.0.0.2:40002", "caller_remote": "192.0.2.1:5000", )"
      R"("callee_remote": "192.0.2.2:6000"}}]}})",
      call_id, stream_status);
}

ScriptedRelay::ScriptedRelay(std::string ip, RelayScript script,
                             std::optional<tls::CredentialFiles> credentials)
    : ip_(std::move(ip)),
      script_(std::move(script)),
      context_(credentials ? tls::make_client_context(*credentials)
                           : tls::make_context(tls::Role::relay, mpx::test::test_pki_dir())) {}

ScriptedRelay::~ScriptedRelay() {
  asio::post(io_, [this] {
    if (stream_) {
      boost::system::error_code ignored;
      stream_->lowest_layer().close(ignored);
    }
  });
  io_.stop();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool ScriptedRelay::connect(const tcp::endpoint& dispatcher) {
  stream_ = std::make_unique<Stream>(io_, context_);
  auto& socket = stream_->lowest_layer();
  boost::system::error_code error;
  socket.open(tcp::v4(), error);
  if (!error) {
    socket.bind(tcp::endpoint(asio::ip::make_address(ip_), 0), error);
  }
  if (!error) {
    socket.connect(dispatcher, error);
  }
  if (error) {
    return false;
  }
  // Bounded blocking handshake (the dispatcher always answers, but never hang a test).
  timeval limit{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  stream_->handshake(asio::ssl::stream_base::client, error);
  if (error) {
    closed_ = true;
    return false;
  }
  read_some();
  thread_ = std::thread([this] { io_.run(); });
  return true;
}

void ScriptedRelay::send_line(const std::string& line) {
  asio::post(io_, [this, text = line + "\r\n"]() mutable { write(std::move(text)); });
}

void ScriptedRelay::disconnect() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    stream_->lowest_layer().close(ignored);
  });
  wait_closed(std::chrono::seconds(5));
}

std::vector<protocol::RelayRequest> ScriptedRelay::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t ScriptedRelay::count(const std::string& command) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      requests_.begin(), requests_.end(), [&](const auto& r) { return r.command == command; }));
}

bool ScriptedRelay::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return closed_.load(); });
}

void ScriptedRelay::mark_closed() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

void ScriptedRelay::read_some() {
  stream_->async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error,
                                                          std::size_t n) {
    if (error) {
      mark_closed();
      return;
    }
    parser_.feed(std::string_view(buffer_.data(), n));
    while (true) {
      auto step = parser_.next();
      if (std::holds_alternative<protocol::NeedMore>(step)) {
        break;
      }
      if (std::holds_alternative<protocol::Pong>(step)) {
        ++pongs_;
      } else if (auto* request = std::get_if<protocol::RelayRequest>(&step)) {
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(*request);
        }
        const auto answer = script_(*request);
        if (answer.payload) {
          auto text = std::to_string(request->seq) + " " + *answer.payload + "\r\n";
          if (answer.delay.count() == 0) {
            write(std::move(text));
          } else {
            auto timer = std::make_shared<asio::steady_timer>(io_, answer.delay);
            timer->async_wait([this, timer, text](const boost::system::error_code& e) mutable {
              if (!e) {
                write(std::move(text));
              }
            });
          }
        }
      } else if (std::holds_alternative<protocol::FatalError>(step)) {
        boost::system::error_code ignored;
        stream_->lowest_layer().close(ignored);
        mark_closed();
        return;
      }
    }
    read_some();
  });
}

void ScriptedRelay::write(std::string text) {
  if (closed_) {
    return;
  }
  outbox_.push_back(std::move(text));
  if (!writing_) {
    write_next();
  }
}

void ScriptedRelay::write_next() {
  if (outbox_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto text = std::make_shared<std::string>(std::move(outbox_.front()));
  outbox_.pop_front();
  asio::async_write(*stream_, asio::buffer(*text),
                    [this, text](const boost::system::error_code& error, std::size_t) {
                      if (error) {
                        writing_ = false;
                        return;
                      }
                      write_next();
                    });
}

}  // namespace mpx::dispatcher::testing
