// What the management interface (compat spec 4) asks of the dispatcher core: the JSON lines of
// `sessions` and `summary` gathered from every connected relay. The core implements it; the
// management server only frames commands and answers.
#pragma once

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it (clang).
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <string>

namespace mpx::dispatcher {

class ManagementBackend {
 public:
  virtual ~ManagementBackend() = default;
  // One line, no CRLF: a JSON array concatenating every connected relay's sessions ("[]" if none).
  virtual boost::asio::awaitable<std::string> sessions_json() = 0;
  // One line, no CRLF: a JSON array of relay summaries; a relay that failed contributes
  // {"status": "error", "ip": "<relay ip>"}.
  virtual boost::asio::awaitable<std::string> summary_json() = 0;
};

}  // namespace mpx::dispatcher
