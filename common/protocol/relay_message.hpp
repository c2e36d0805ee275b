// Protocol B messages from the relay to the dispatcher (compat spec 3.2, 3.6, 3.7): replies
// "<seq> <payload>", the unsolicited "expired <json>" and "ping". The parser is the one the
// dispatcher runs on each relay link (lines up to 4 MiB: the `sessions` reply is one line); the
// encoders are the relay's.
#pragma once

#include "common/protocol/protocol_lines.hpp"
#include "common/protocol/parse_step.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace mpx::protocol {

// "<seq> <payload>": payload is everything after the first space, verbatim ("error", "halting",
// "<ip> <port> ...", JSON). A line that is only "<seq>" has an empty payload, as in MediaProxy.
struct RelayReply {
  std::uint64_t seq = 0;
  std::string payload;
  bool operator==(const RelayReply&) const = default;
};

// "expired <json>": session statistics of a session the relay ended on its own. The JSON text
// is not decoded here (session_statistics_from_json() does that).
struct RelayExpired {
  std::string json;
  bool operator==(const RelayExpired&) const = default;
};

// "ping": keepalive; the dispatcher answers kPongLine (relay_request.hpp).
struct Ping {
  bool operator==(const Ping&) const = default;
};
inline constexpr std::string_view kPingLine = "ping\r\n";

using RelayMessage = std::variant<RelayReply, RelayExpired, Ping>;

// Decodes one line (without "\r\n"). Exactly "ping" is a Ping; "expired" then a space (or the
// end) is a RelayExpired; a canonical decimal sequence number then a space (or the end) is a
// RelayReply; anything else, or a line holding a bare CR/LF/NUL, is an error naming the line.
Result<RelayMessage> parse_relay_line(std::string_view line);

// The line for `message`, with "\r\n". Fails if the payload or JSON holds a CR, LF or NUL.
Result<std::string> encode_relay_message(const RelayMessage& message);

inline constexpr std::size_t kRelayMessageMaxLine = 4 * 1024 * 1024;

using RelayMessageStep =
    std::variant<NeedMore, RelayReply, RelayExpired, Ping, MessageError, FatalError>;

class RelayMessageParser {
 public:
  explicit RelayMessageParser(std::size_t max_line_length = kRelayMessageMaxLine);

  void feed(std::string_view bytes);

  // The next line's message. A line that does not decode is a MessageError (log it, carry on);
  // a line longer than the limit is a FatalError (close the link). Blank lines are ignored.
  RelayMessageStep next();

  std::size_t buffered_bytes() const { return lines_.buffered_bytes(); }

 private:
  ProtocolLines lines_;
};

}  // namespace mpx::protocol
