// Protocol A request parser and encoder (see module_request.hpp).
#include "common/protocol/module_request.hpp"

#include <utility>

namespace mpx::protocol {

namespace {

HeaderBlockRules module_request_rules(const ModuleRequestLimits& limits) {
  return HeaderBlockRules{.protocol = "protocol A",
                          .max_line_length = limits.max_line_length,
                          .max_headers = limits.max_headers,
                          .max_message_size = limits.max_message_size,
                          .drop_empty_values = true,
                          .skip_malformed_headers = false,
                          .interjection = {},
                          .command_line_problem = nullptr};
}

}  // namespace

ModuleRequestParser::ModuleRequestParser(ModuleRequestLimits limits)
    : limits_(limits), blocks_(module_request_rules(limits)) {}

void ModuleRequestParser::feed(std::string_view bytes) { blocks_.feed(bytes); }

ModuleRequestStep ModuleRequestParser::next() {
  auto step = blocks_.next();
  if (auto* block = std::get_if<HeaderBlock>(&step)) {
    if (block->error) {
      return MessageError{std::move(*block->error)};
    }
    return ModuleRequest{std::move(block->command_line), std::move(block->headers)};
  }
  if (auto* fatal = std::get_if<FatalError>(&step)) {
    return std::move(*fatal);
  }
  return NeedMore{};  // protocol A has no interjection line
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
  if (auto written = write_header_lines(module_request_rules({}), request.headers, out); !written) {
    return written.error();
  }
  return out;
}

}  // namespace mpx::protocol
