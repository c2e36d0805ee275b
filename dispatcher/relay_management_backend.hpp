// RelayManagementBackend: the management interface's answers gathered from the connected relays.
// `sessions` concatenates every relay's own sessions list; `summary` lists every relay's summary,
// with {"status": "error", "ip": ...} for a relay that did not give a usable one. It only reads
// the relay registry (which the core keeps) and asks each relay in turn, waiting at most
// relay_timeout for each. Single-threaded: run it on the core's io_context thread.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>

#include "dispatcher/management/management_backend.hpp"
#include "dispatcher/relay_registry.hpp"

namespace mpx::dispatcher {

class RelayManagementBackend final : public ManagementBackend {
 public:
  // `relays` must outlive the back-end.
  RelayManagementBackend(const RelayRegistry& relays, std::chrono::milliseconds relay_timeout);

  boost::asio::awaitable<std::string> sessions_json() override;
  boost::asio::awaitable<std::string> summary_json() override;

 private:
  const RelayRegistry& relays_;
  std::chrono::milliseconds relay_timeout_;
};

}  // namespace mpx::dispatcher
