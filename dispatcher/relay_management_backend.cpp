// RelayManagementBackend (see relay_management_backend.hpp).
#include "dispatcher/relay_management_backend.hpp"

#include <boost/algorithm/string/trim.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>
#include <vector>

#include "common/protocol/python_json.hpp"
#include "common/protocol/relay_summary.hpp"

namespace mpx::dispatcher {

namespace asio = boost::asio;

namespace {

// The inside of a JSON array's text ("" for "[]"); nullopt if the text is not a JSON array.
std::optional<std::string> array_items(std::string_view payload) {
  std::string text(payload);
  boost::algorithm::trim(text);
  if (text.size() < 2 || text.front() != '[' || text.back() != ']' ||
      !nlohmann::json::accept(text)) {
    return std::nullopt;
  }
  std::string inner = text.substr(1, text.size() - 2);
  boost::algorithm::trim(inner);
  return inner;
}

}  // namespace

RelayManagementBackend::RelayManagementBackend(const RelayRegistry& relays,
                                               std::chrono::milliseconds relay_timeout)
    : relays_(relays), relay_timeout_(relay_timeout) {}

asio::awaitable<std::string> RelayManagementBackend::sessions_json() {
  std::vector<std::string> parts;
  for (const auto& link : relays_.all()) {
    auto answer = co_await link->request("sessions", {}, Clock::now() + relay_timeout_);
    if (answer.kind != RelayAnswer::Kind::reply) {
      spdlog::warn("management: relay {} sessions failed ({})", link->peer_ip(),
                   to_string(answer.kind));
      continue;
    }
    auto items = array_items(answer.payload);
    if (!items) {
      spdlog::warn("management: relay {} sent a sessions answer that is not a JSON array",
                   link->peer_ip());
      continue;
    }
    if (!items->empty()) {
      parts.push_back(std::move(*items));
    }
  }
  co_return fmt::format("[{}]", fmt::join(parts, ", "));
}

asio::awaitable<std::string> RelayManagementBackend::summary_json() {
  std::vector<std::string> parts;
  for (const auto& link : relays_.all()) {
    auto answer = co_await link->request("summary", {}, Clock::now() + relay_timeout_);
    if (answer.kind == RelayAnswer::Kind::reply &&
        protocol::relay_summary_from_json(answer.payload).has_value()) {
      std::string text = answer.payload;
      boost::algorithm::trim(text);
      parts.push_back(std::move(text));
    } else {
      parts.push_back(
          protocol::python_json_dump(nlohmann::ordered_json{{"status", "error"},
                                                            {"ip", link->peer_ip()}}));
    }
  }
  co_return fmt::format("[{}]", fmt::join(parts, ", "));
}

}  // namespace mpx::dispatcher
