// Protocol B request parser and encoder (see relay_request.hpp).
#include "common/protocol/relay_request.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mpx::protocol {
namespace {

// Python's str.split() separators that can occur inside a CRLF-framed line.
constexpr std::string_view kWhitespace = " \t\v\f";

// The command line's first whitespace-separated tokens; three are already too many, so the scan
// stops there.
struct CommandTokens {
  std::array<std::string_view, 3> token;
  std::size_t count = 0;

  // The sequence number, if there is a second token and it is one.
  std::optional<std::uint64_t> seq() const {
    return count >= 2 ? parse_sequence_number(token[1]) : std::nullopt;
  }
};

CommandTokens split_command_line(std::string_view line) {
  CommandTokens tokens;
  std::size_t pos = 0;
  while (tokens.count < tokens.token.size()) {
    pos = line.find_first_not_of(kWhitespace, pos);
    if (pos == std::string_view::npos) {
      break;
    }
    const std::size_t end = std::min(line.find_first_of(kWhitespace, pos), line.size());
    tokens.token[tokens.count++] = line.substr(pos, end - pos);
    pos = end;
  }
  return tokens;
}

std::string_view command_line_problem(std::string_view line) {
  const auto tokens = split_command_line(line);
  if (tokens.count != 2) {
    return "command line is not \"<command> <seq>\"";
  }
  if (!tokens.seq()) {
    return "sequence number is not a canonical decimal number";
  }
  return {};
}

HeaderBlockRules relay_request_rules(const RelayRequestLimits& limits) {
  return HeaderBlockRules{.protocol = "protocol B",
                          .max_line_length = limits.max_line_length,
                          .max_headers = limits.max_headers,
                          .max_message_size = limits.max_message_size,
                          .drop_empty_values = false,
                          .skip_malformed_headers = true,
                          .interjection = "pong",
                          .command_line_problem = command_line_problem};
}

// A refused block still answers "<seq> error" when its command line held a sequence number. A
// block without error passed command_line_problem(): its command line is "<command> <seq>".
RelayRequestStep to_request(HeaderBlock&& block) {
  const auto tokens = split_command_line(block.command_line);
  if (block.error) {
    return RejectedRelayRequest{tokens.seq(), std::move(*block.error)};
  }
  return RelayRequest{std::string{tokens.token[0]}, *tokens.seq(), std::move(block.headers)};
}

}  // namespace

RelayRequestParser::RelayRequestParser(RelayRequestLimits limits)
    : blocks_(relay_request_rules(limits)) {}

void RelayRequestParser::feed(std::string_view bytes) { blocks_.feed(bytes); }

RelayRequestStep RelayRequestParser::next() {
  auto step = blocks_.next();
  if (auto* block = std::get_if<HeaderBlock>(&step)) {
    return to_request(std::move(*block));
  }
  if (std::holds_alternative<Interjection>(step)) {
    return Pong{};
  }
  if (auto* fatal = std::get_if<FatalError>(&step)) {
    return std::move(*fatal);
  }
  return NeedMore{};
}

Result<std::string> encode_relay_request(const RelayRequest& request) {
  if (request.command.empty() || request.command.find_first_of(kWhitespace) != std::string::npos ||
      has_line_breaking_byte(request.command)) {
    return Error{"protocol B: cannot send command " + quote_for_error(request.command) +
                 " (empty, or holds whitespace, CR, LF or NUL)"};
  }
  std::string out = request.command;
  out += ' ';
  out += std::to_string(request.seq);
  out += "\r\n";
  if (auto written = write_header_lines(relay_request_rules({}), request.headers, out); !written) {
    return written.error();
  }
  return out;
}

}  // namespace mpx::protocol
