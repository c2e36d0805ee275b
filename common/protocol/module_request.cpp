// Protocol A request parser and encoder (see module_request.hpp).
#include "common/protocol/module_request.hpp"

#include <utility>

namespace mpx::protocol {

ModuleRequestParser::ModuleRequestParser(ModuleRequestLimits limits)
    : limits_(limits), framer_(limits.max_line_length) {}

void ModuleRequestParser::feed(std::string_view bytes) { framer_.feed(bytes); }

void ModuleRequestParser::reset_message() {
  in_message_ = false;
  current_ = ModuleRequest{};
  current_size_ = 0;
  current_error_.reset();
}

void ModuleRequestParser::accept_header_line(std::string_view line) {
  if (current_error_) {
    return;  // the request is already rejected; only its end matters now
  }
  if (has_line_breaking_byte(line)) {
    current_error_ = "header line holds a bare CR, LF or NUL byte: " + quote_for_error(line);
    return;
  }
  if (line.ends_with(": ")) {
    return;  // MediaProxy drops empty-valued headers (dialog_id, to_tag, media_relay, ...)
  }
  auto header = split_header_line(line);
  if (!header) {
    current_error_ = "header line without \": \": " + quote_for_error(line);
    return;
  }
  if (current_.headers.size() >= limits_.max_headers) {
    current_error_ = "more than " + std::to_string(limits_.max_headers) + " headers";
    return;
  }
  current_.headers.push_back(std::move(*header));
}

ModuleRequestStep ModuleRequestParser::next() {
  if (fatal_) {
    return FatalError{*fatal_};
  }
  for (;;) {
    auto line = framer_.next_line();
    if (!line) {
      fatal_ = "protocol A: " + line.error().message;
      return FatalError{*fatal_};
    }
    if (!line.value()) {
      return NeedMore{};
    }
    const std::string_view text = *line.value();
    if (text.empty()) {
      if (!in_message_) {
        continue;  // blank lines between requests are ignored
      }
      ModuleRequestStep step = current_error_
                                   ? ModuleRequestStep{MessageError{"protocol A: " + *current_error_}}
                                   : ModuleRequestStep{std::move(current_)};
      reset_message();
      return step;
    }
    if (!in_message_ && !has_line_breaking_byte(text) && text.ends_with(": ")) {
      continue;  // MediaProxy drops every line ending in ": ", even where a command is due
    }
    current_size_ += text.size() + 2;
    if (current_size_ > limits_.max_message_size) {
      fatal_ = "protocol A: request larger than " + std::to_string(limits_.max_message_size) +
               " bytes";
      reset_message();
      return FatalError{*fatal_};
    }
    if (!in_message_) {
      in_message_ = true;
      if (has_line_breaking_byte(text)) {
        current_error_ = "command line holds a bare CR, LF or NUL byte: " + quote_for_error(text);
      } else {
        current_.command = std::string{text};
      }
      continue;
    }
    accept_header_line(text);
  }
}

Result<std::string> encode_module_request(const ModuleRequest& request) {
  if (request.command.empty()) {
    return Error{"protocol A: empty command"};
  }
  if (has_line_breaking_byte(request.command)) {
    return Error{"protocol A: command holds a CR, LF or NUL byte"};
  }
  if (request.command.ends_with(": ")) {
    return Error{"protocol A: command ends in \": \" (the receiver would drop it)"};
  }
  std::string out = request.command + "\r\n";
  for (const auto& header : request.headers) {
    if (has_line_breaking_byte(header.name) || has_line_breaking_byte(header.value)) {
      return Error{"protocol A: header " + quote_for_error(header.name) +
                   " holds a CR, LF or NUL byte"};
    }
    if (header.name.find(": ") != std::string::npos) {
      return Error{"protocol A: header name " + quote_for_error(header.name) + " contains \": \""};
    }
    if (header.value.empty() || header.value.ends_with(": ")) {
      // The line would end in ": ", and the receiver drops such lines.
      return Error{"protocol A: header " + quote_for_error(header.name) +
                   " has a value the dispatcher would drop"};
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
