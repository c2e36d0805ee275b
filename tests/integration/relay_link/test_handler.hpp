// ScriptedHandler: the RequestHandler of the link tests. Answers each command with a fixed
// payload, optionally after a delay, throws for "remove" when told to, and records what it saw.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "relay/link/request_handler.hpp"

namespace mpx::relay::link::testing {

class ScriptedHandler final : public RequestHandler {
 public:
  boost::asio::awaitable<std::string> handle(const protocol::RelayRequest& request,
                                             const DispatcherId& from) override {
    seen.push_back(request);
    senders.push_back(from);
    if (auto delay = delays.find(request.command); delay != delays.end()) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay->second);
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    if (throw_on == request.command) {
      throw std::runtime_error("session layer exploded");
    }
    if (auto payload = payloads.find(request.command); payload != payloads.end()) {
      co_return payload->second;
    }
    co_return "error";
  }

  std::map<std::string, std::string> payloads{
      {"summary", R"({"ip": "203.0.113.1", "status": "active"})"},
      {"sessions", "[]"},
      {"update", "203.0.113.1 40002"},
      {"remove", R"({"call_id": "c1"})"}};
  std::map<std::string, std::chrono::milliseconds> delays;
  std::string throw_on;
  std::vector<protocol::RelayRequest> seen;
  std::vector<DispatcherId> senders;
};

}  // namespace mpx::relay::link::testing
