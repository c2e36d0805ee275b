// Protocol B requests (dispatcher -> relay): the encoder the dispatcher uses and the incremental
// parser the relay runs on each dispatcher link. The same stream also carries the dispatcher's
// unsolicited `pong` line, which the parser reports as Pong.
//
// Wire form, a header block (header_block.hpp): "<command> <seq>\r\n", zero or more
// "<name>: <value>\r\n", then "\r\n". Differences from MediaProxy's relay, on purpose: a
// malformed command line rejects the whole request (its header lines are skipped, not misread
// as commands), and the rejection carries the sequence number when one could be read so the
// relay can answer "<seq> error".
#pragma once

#include "common/protocol/header_block.hpp"
#include "common/protocol/parse_step.hpp"
#include "common/protocol/wire_text.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mpx::protocol {

struct RelayRequest {
  std::string command;          // "update", "remove", "summary", "sessions" (not validated here)
  std::uint64_t seq = 0;        // per-connection counter, echoed in the reply
  std::vector<Header> headers;  // verbatim, in order (for update/remove: the module's lines)

  std::optional<std::string_view> find(std::string_view name) const {
    return find_header(headers, name);
  }
  bool operator==(const RelayRequest&) const = default;
};

// The dispatcher's answer to the relay's `ping`.
struct Pong {
  bool operator==(const Pong&) const = default;
};
inline constexpr std::string_view kPongLine = "pong\r\n";

// A request that cannot be served. `seq` is set when the command line still yielded a sequence
// number: answer "<seq> error"; otherwise there is nobody to answer (log it).
struct RejectedRelayRequest {
  std::optional<std::uint64_t> seq;
  std::string message;
  bool operator==(const RejectedRelayRequest&) const = default;
};

struct RelayRequestLimits {
  std::size_t max_line_length = 16384;          // longer: FatalError (MediaProxy's relay limit)
  std::size_t max_headers = 64;                 // more: the request is rejected
  std::size_t max_message_size = 64 * 1024;     // more bytes in one request: FatalError
};

using RelayRequestStep =
    std::variant<NeedMore, RelayRequest, Pong, RejectedRelayRequest, FatalError>;

class RelayRequestParser {
 public:
  explicit RelayRequestParser(RelayRequestLimits limits = {});

  void feed(std::string_view bytes);

  // Parses buffered lines up to the end of the next request (or a `pong`) and stops there.
  // The command line must be exactly two whitespace-separated tokens, the second a decimal
  // sequence number. Header lines are split at the first ": "; a header line without ": " or
  // holding a bare CR/LF/NUL is skipped, as MediaProxy's relay logs and skips it, and listed in
  // skipped_lines(). Blank lines between requests are ignored. "pong" is recognised on any line,
  // as MediaProxy's relay does. After a FatalError every call returns it again.
  RelayRequestStep next();

  // Header lines skipped in the request most recently returned by next() (already quoted for a
  // log line). Cleared when the next request starts.
  const std::vector<std::string>& skipped_lines() const { return blocks_.skipped_lines(); }
  std::size_t buffered_bytes() const { return blocks_.buffered_bytes(); }

 private:
  HeaderBlockParser blocks_;
};

// "<command> <seq>\r\n<name>: <value>\r\n...\r\n". Fails if the text would not parse back into
// the same request: a command that is empty or contains whitespace; a CR/LF/NUL anywhere; a
// header name containing ": ". Such a failure means the module sent a command or
// header the relay cannot take: answer the module `error`.
Result<std::string> encode_relay_request(const RelayRequest& request);

}  // namespace mpx::protocol
