// The `media` header of protocol A/B (compat spec 2.2): one element per supported SDP stream,
//   element = type ":" ip ":" port ":" direction *( ":" key "=" value )
// elements joined by ",". The module always emits exactly one parameter, "ice=yes" or "ice=no".
// IPv4 only (the grammar splits on ':'), "0.0.0.0" allowed (hold), port 0 allowed (closed).
#pragma once

#include "common/result.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpx::protocol {

// The OpenSIPS module's MAX_STREAMS: it never sends more elements.
inline constexpr std::size_t kMaxMediaStreams = 32;

enum class Direction { sendrecv, sendonly, recvonly, inactive };

std::string_view to_string(Direction direction);

struct MediaStream {
  std::string type;  // "audio", "video", "image", ... (never empty)
  boost::asio::ip::address_v4 ip;
  std::uint16_t port = 0;
  Direction direction = Direction::sendrecv;
  std::vector<std::pair<std::string, std::string>> params;  // key=value, in order

  // The last "ice" parameter says "yes" (the stream offers ICE candidates).
  bool ice() const;
  bool operator==(const MediaStream&) const = default;
};

// Decodes a `media` header value. Errors name the element (1-based) and what is wrong: an
// empty element or type, fewer than four fields, an IP that is not dotted-quad IPv4 (leading
// zeros are refused: inet_aton would read them as octal), a port outside 0..65535, an unknown
// direction, a parameter without "=" or with an empty key, more than kMaxMediaStreams elements,
// or a control byte anywhere.
Result<std::vector<MediaStream>> parse_media(std::string_view text);

// The header value for `streams` (inverse of parse_media). Fails, naming the stream, for what
// parse_media would refuse (empty type; ':', ',' or a control byte in a type, key or value;
// '=' in a key; no stream; too many streams).
Result<std::string> format_media(std::span<const MediaStream> streams);

}  // namespace mpx::protocol
