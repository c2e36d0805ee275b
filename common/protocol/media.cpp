// The `media` header grammar (see media.hpp).
#include "common/protocol/media.hpp"

#include "common/protocol/wire_text.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace mpx::protocol {
namespace {

bool has_control_byte(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<Direction> parse_direction(std::string_view text) {
  for (const Direction d :
       {Direction::sendrecv, Direction::sendonly, Direction::recvonly, Direction::inactive}) {
    if (text == to_string(d)) {
      return d;
    }
  }
  return std::nullopt;
}

// Strict dotted quad: inet_pton semantics (boost::asio), which refuses leading zeros.
std::optional<boost::asio::ip::address_v4> parse_ipv4(std::string_view text) {
  if (text.empty() || text.size() > 15 ||
      text.find_first_not_of("0123456789.") != std::string_view::npos) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address_v4(std::string{text}, ec);
  if (ec) {
    return std::nullopt;
  }
  return address;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  std::uint16_t port = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return port;
}

Result<MediaStream> parse_element(std::string_view element, std::size_t index) {
  const std::string where = "media element " + std::to_string(index);
  if (element.empty()) {
    return Error{where + " is empty"};
  }
  const auto fields = split(element, ':');
  if (fields.size() < 4) {
    return Error{where + " " + quote_for_error(element) +
                 " has fewer than 4 fields (type:ip:port:direction)"};
  }
  MediaStream stream;
  if (fields[0].empty()) {
    return Error{where + ": empty media type"};
  }
  stream.type = std::string{fields[0]};
  const auto ip = parse_ipv4(fields[1]);
  if (!ip) {
    return Error{where + ": IP " + quote_for_error(fields[1]) + " is not a dotted-quad IPv4 address"};
  }
  stream.ip = *ip;
  const auto port = parse_port(fields[2]);
  if (!port) {
    return Error{where + ": port " + quote_for_error(fields[2]) + " is not a number in 0..65535"};
  }
  stream.port = *port;
  const auto direction = parse_direction(fields[3]);
  if (!direction) {
    return Error{where + ": unknown direction " + quote_for_error(fields[3]) +
                 " (sendrecv, sendonly, recvonly or inactive)"};
  }
  stream.direction = *direction;
  for (std::size_t i = 4; i < fields.size(); ++i) {
    const std::string_view param = fields[i];
    const auto equals = param.find('=');
    if (equals == std::string_view::npos) {
      return Error{where + ": parameter " + quote_for_error(param) + " is not key=value"};
    }
    if (equals == 0) {
      return Error{where + ": parameter " + quote_for_error(param) + " has an empty key"};
    }
    stream.params.emplace_back(std::string{param.substr(0, equals)},
                               std::string{param.substr(equals + 1)});
  }
  return stream;
}

}  // namespace

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::sendrecv:
      return "sendrecv";
    case Direction::sendonly:
      return "sendonly";
    case Direction::recvonly:
      return "recvonly";
    case Direction::inactive:
      return "inactive";
  }
  return "sendrecv";
}

bool MediaStream::ice() const {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == "ice") {
      return it->second == "yes";
    }
  }
  return false;
}

Result<std::vector<MediaStream>> parse_media(std::string_view text) {
  if (text.empty()) {
    return Error{"media header is empty"};
  }
  if (has_control_byte(text)) {
    return Error{"media header holds a control byte: " + quote_for_error(text)};
  }
  // Count before splitting, so a huge header cannot make a huge vector.
  const auto elements = static_cast<std::size_t>(std::count(text.begin(), text.end(), ',')) + 1;
  if (elements > kMaxMediaStreams) {
    return Error{"media header has " + std::to_string(elements) + " elements, more than " +
                 std::to_string(kMaxMediaStreams) + " (the module's MAX_STREAMS)"};
  }
  std::vector<MediaStream> streams;
  std::size_t index = 0;
  for (const std::string_view element : split(text, ',')) {
    auto stream = parse_element(element, ++index);
    if (!stream) {
      return stream.error();
    }
    streams.push_back(std::move(stream.value()));
  }
  return streams;
}

Result<std::string> format_media(std::span<const MediaStream> streams) {
  if (streams.empty()) {
    return Error{"no media stream to format"};
  }
  if (streams.size() > kMaxMediaStreams) {
    return Error{std::to_string(streams.size()) + " media streams, more than " +
                 std::to_string(kMaxMediaStreams) + " (the module's MAX_STREAMS)"};
  }
  const auto bad_text = [](std::string_view text, std::string_view also_forbidden) {
    return has_control_byte(text) || text.find_first_of(also_forbidden) != std::string_view::npos;
  };
  std::string out;
  std::size_t index = 0;
  for (const auto& stream : streams) {
    const std::string where = "media stream " + std::to_string(++index);
    if (stream.type.empty() || bad_text(stream.type, ":,")) {
      return Error{where + ": type " + quote_for_error(stream.type) +
                   " is empty or holds ':', ',' or a control byte"};
    }
    if (index > 1) {
      out += ',';
    }
    out += stream.type;
    out += ':';
    out += stream.ip.to_string();
    out += ':';
    out += std::to_string(stream.port);
    out += ':';
    out += to_string(stream.direction);
    for (const auto& [key, value] : stream.params) {
      if (key.empty() || bad_text(key, ":,=") || bad_text(value, ":,")) {
        return Error{where + ": parameter " + quote_for_error(key) +
                     " has an empty key, or ':', ',', '=' (key) or a control byte"};
      }
      out += ':';
      out += key;
      out += '=';
      out += value;
    }
  }
  return out;
}

}  // namespace mpx::protocol
