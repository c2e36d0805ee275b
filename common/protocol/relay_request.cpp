// Protocol B request parser and encoder (see relay_request.hpp).
#include "common/protocol/relay_request.hpp"

#include <utility>

namespace mpx::protocol {
namespace {

// Python's str.split() separators that can occur inside a CRLF-framed line.
constexpr std::string_view kWhitespace = " \t\v\f";

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> tokens;
  std::size_t pos = 0;
  while (tokens.size() < 3) {  // three tokens are already too many; stop scanning
    pos = text.find_first_not_of(kWhitespace, pos);
    if (pos == std::string_view::npos) {
      break;
    }
    const std::size_t end = std::min(text.find_first_of(kWhitespace, pos), text.size());
    tokens.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return tokens;
}

}  // namespace

RelayRequestParser::RelayRequestParser(RelayRequestLimits limits)
    : limits_(limits), framer_(limits.max_line_length) {}

void RelayRequestParser::feed(std::string_view bytes) { framer_.feed(bytes); }

void RelayRequestParser::reset_message() {
  in_message_ = false;
  current_ = RelayRequest{};
  current_size_ = 0;
  current_rejection_.reset();
}

void RelayRequestParser::start_message(std::string_view command_line) {
  in_message_ = true;
  skipped_lines_.clear();
  const auto tokens = split_whitespace(command_line);
  std::optional<std::uint64_t> seq;
  if (tokens.size() >= 2) {
    seq = parse_sequence_number(tokens[1]);
  }
  std::string problem;
  if (has_line_breaking_byte(command_line)) {
    problem = "command line holds a bare CR, LF or NUL byte";
  } else if (tokens.size() != 2) {
    problem = "command line is not \"<command> <seq>\"";
  } else if (!seq) {
    problem = "sequence number is not a canonical decimal number";
  }
  if (!problem.empty()) {
    current_rejection_ =
        RejectedRelayRequest{seq, "protocol B: " + problem + ": " + quote_for_error(command_line)};
    return;
  }
  current_.command = std::string{tokens[0]};
  current_.seq = *seq;
}

void RelayRequestParser::accept_header_line(std::string_view line) {
  if (current_rejection_) {
    return;
  }
  std::optional<Header> header;
  if (!has_line_breaking_byte(line)) {
    header = split_header_line(line);
  }
  if (!header) {
    skipped_lines_.push_back(quote_for_error(line));
    return;
  }
  if (current_.headers.size() >= limits_.max_headers) {
    current_rejection_ = RejectedRelayRequest{
        current_.seq, "protocol B: more than " + std::to_string(limits_.max_headers) + " headers"};
    return;
  }
  current_.headers.push_back(std::move(*header));
}

RelayRequestStep RelayRequestParser::next() {
  if (fatal_) {
    return FatalError{*fatal_};
  }
  for (;;) {
    auto line = framer_.next_line();
    if (!line) {
      fatal_ = "protocol B: " + line.error().message;
      return FatalError{*fatal_};
    }
    if (!line.value()) {
      return NeedMore{};
    }
    const std::string_view text = *line.value();
    if (text == "pong") {
      return Pong{};
    }
    if (text.empty()) {
      if (!in_message_) {
        continue;
      }
      RelayRequestStep step = current_rejection_ ? RelayRequestStep{std::move(*current_rejection_)}
                                                 : RelayRequestStep{std::move(current_)};
      reset_message();
      return step;
    }
    current_size_ += text.size() + 2;
    if (current_size_ > limits_.max_message_size) {
      fatal_ = "protocol B: request larger than " + std::to_string(limits_.max_message_size) +
               " bytes";
      reset_message();
      return FatalError{*fatal_};
    }
    if (!in_message_) {
      start_message(text);
    } else {
      accept_header_line(text);
    }
  }
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
  for (const auto& header : request.headers) {
    if (has_line_breaking_byte(header.name) || has_line_breaking_byte(header.value)) {
      return Error{"protocol B: header " + quote_for_error(header.name) +
                   " holds a CR, LF or NUL byte"};
    }
    if (header.name.find(": ") != std::string::npos) {
      return Error{"protocol B: header name " + quote_for_error(header.name) + " contains \": \""};
    }
    out += header.name;
    out += ": ";
    out += header.value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace mpx::protocol
