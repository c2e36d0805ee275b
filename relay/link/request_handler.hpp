// RequestHandler: what the relay's session layer implements to serve protocol B requests
// (spec 3.3). The links parse the requests and write the replies; the handler only decides the
// payload. Requests of one link are handed over one at a time, in order.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <utility>

#include "common/protocol/relay_request.hpp"
#include "relay/link/dispatcher_id.hpp"

namespace mpx::relay::link {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Only update, remove, summary and sessions reach the handler (the link answers anything else
  // "<seq> error" itself, spec 3.3).
  // The reply payload for `request` (without the sequence number): "<ip> <port> ...", a JSON
  // text, "error", "halting". `from` is the link the request came on. A payload holding CR, LF or
  // NUL, or an exception escaping, is answered "<seq> error" (and logged). Runs on the links'
  // executor; the next request of the same link waits until this one is answered, so keep it
  // short. The handler must outlive the links and their io_context's pending work.
  virtual boost::asio::awaitable<std::string> handle(const protocol::RelayRequest& request,
                                                     const DispatcherId& from) = 0;
};

}  // namespace mpx::relay::link
