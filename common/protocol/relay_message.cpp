// Relay -> dispatcher messages of protocol B (see relay_message.hpp).
#include "common/protocol/relay_message.hpp"

#include "common/protocol/wire_text.hpp"

#include <type_traits>

namespace mpx::protocol {

Result<RelayMessage> parse_relay_line(std::string_view line) {
  if (has_line_breaking_byte(line)) {
    return Error{"protocol B: relay line holds a bare CR, LF or NUL byte: " +
                 quote_for_error(line)};
  }
  if (line == "ping") {
    return RelayMessage{Ping{}};
  }
  const auto space = line.find(' ');
  const std::string_view first = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  if (first == "expired") {
    return RelayMessage{RelayExpired{std::string{rest}}};
  }
  if (const auto seq = parse_sequence_number(first)) {
    return RelayMessage{RelayReply{*seq, std::string{rest}}};
  }
  return Error{"protocol B: unexpected line from relay: " + quote_for_error(line)};
}

Result<std::string> encode_relay_message(const RelayMessage& message) {
  return std::visit(
      [](const auto& m) -> Result<std::string> {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Ping>) {
          return std::string{kPingLine};
        } else if constexpr (std::is_same_v<M, RelayExpired>) {
          if (has_line_breaking_byte(m.json)) {
            return Error{"protocol B: expired JSON holds a CR, LF or NUL byte"};
          }
          return "expired " + m.json + "\r\n";
        } else {
          if (has_line_breaking_byte(m.payload)) {
            return Error{"protocol B: reply payload holds a CR, LF or NUL byte"};
          }
          return std::to_string(m.seq) + " " + m.payload + "\r\n";
        }
      },
      message);
}

RelayMessageParser::RelayMessageParser(std::size_t max_line_length)
    : lines_("protocol B", max_line_length) {}

void RelayMessageParser::feed(std::string_view bytes) { lines_.feed(bytes); }

RelayMessageStep RelayMessageParser::next() {
  for (;;) {
    const auto line = lines_.next_line();
    if (!line) {
      return lines_.stalled<RelayMessageStep>();
    }
    if (line->empty()) {
      continue;
    }
    auto message = parse_relay_line(*line);
    if (!message) {
      return MessageError{std::move(message.error().message)};
    }
    return std::visit([](auto&& m) -> RelayMessageStep { return std::move(m); },
                      std::move(message.value()));
  }
}

}  // namespace mpx::protocol
