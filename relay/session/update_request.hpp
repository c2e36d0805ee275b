// Decoding of the `update` and `remove` headers of protocol B (compat spec 3.3) into typed
// requests. Required for update: call_id, from_tag, from_uri, to_uri, cseq, user_agent, type and
// signaling_ip (MediaProxy fails without it too). Unlike MediaProxy, a `media` header that does
// not parse fails the request instead of being dropped (dropping it would turn a broken offer
// into "no media" and silently change what the session does).
#pragma once

#include "common/protocol/media.hpp"
#include "common/protocol/relay_request.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mpx::relay::session {

enum class MessageType { request, reply };

struct UpdateRequest {
  std::string call_id;
  std::string from_tag;
  std::optional<std::string> to_tag;  // absent or empty: none
  std::string from_uri;
  std::string to_uri;
  std::uint64_t cseq = 0;
  std::string user_agent;
  MessageType type = MessageType::request;
  std::string signaling_ip;  // raw; decoded by parse_signaling_ip when a session is created
  std::vector<protocol::MediaStream> media;  // empty: the message had no SDP
};

struct RemoveRequest {
  std::string call_id;
  std::string from_tag;
  std::optional<std::string> to_tag;
};

// Errors name the header: `update: missing header "cseq"`, `update: header "cseq" is not a
// number: "1x"`, `update: header "media": element 1: ...`.
Result<UpdateRequest> decode_update(const protocol::RelayRequest& request);
Result<RemoveRequest> decode_remove(const protocol::RelayRequest& request);

}  // namespace mpx::relay::session
