// The command line + header lines + empty line block of protocols A and B (see header_block.hpp).
#include "common/protocol/header_block.hpp"

#include <utility>

namespace mpx::protocol {

HeaderBlockParser::HeaderBlockParser(HeaderBlockRules rules)
    : rules_(rules), lines_(rules.protocol, rules.max_line_length) {}

HeaderBlockStep HeaderBlockParser::next() {
  for (;;) {
    const auto line = lines_.next_line();
    if (!line) {
      return lines_.stalled<HeaderBlockStep>();
    }
    const std::string_view text = *line;
    if (!rules_.interjection.empty() && text == rules_.interjection) {
      return Interjection{};
    }
    if (text.empty()) {
      if (!in_block_) {
        continue;
      }
      HeaderBlockStep step{std::move(block_)};
      reset_block();
      return step;
    }
    if (!in_block_ && is_dropped(text) && !has_line_breaking_byte(text)) {
      continue;  // holding CR, LF or NUL, it would be refused below as a bad command line
    }
    block_size_ += text.size() + 2;
    if (block_size_ > rules_.max_message_size) {
      reset_block();
      return lines_.fail("request larger than " + std::to_string(rules_.max_message_size) +
                         " bytes");
    }
    if (!in_block_) {
      start_block(text);
    } else {
      add_header_line(text);
    }
  }
}

bool HeaderBlockParser::is_dropped(std::string_view line) const {
  return rules_.drop_empty_values && line.ends_with(": ");
}

void HeaderBlockParser::start_block(std::string_view command_line) {
  in_block_ = true;
  skipped_lines_.clear();
  block_.command_line = std::string{command_line};
  std::string_view problem;
  if (has_line_breaking_byte(command_line)) {
    problem = "command line holds a bare CR, LF or NUL byte";
  } else if (rules_.command_line_problem != nullptr) {
    problem = rules_.command_line_problem(command_line);
  }
  if (!problem.empty()) {
    refuse(std::string{problem} + ": " + quote_for_error(command_line));
  }
}

void HeaderBlockParser::add_header_line(std::string_view line) {
  if (block_.error) {
    return;  // the block is refused already; only its end matters now
  }
  if (has_line_breaking_byte(line)) {
    malformed_header_line("header line holds a bare CR, LF or NUL byte", line);
    return;
  }
  if (is_dropped(line)) {
    return;
  }
  auto header = split_header_line(line);
  if (!header) {
    malformed_header_line("header line without \": \"", line);
    return;
  }
  if (block_.headers.size() >= rules_.max_headers) {
    refuse("more than " + std::to_string(rules_.max_headers) + " headers");
    return;
  }
  block_.headers.push_back(std::move(*header));
}

void HeaderBlockParser::malformed_header_line(std::string_view problem, std::string_view line) {
  if (rules_.skip_malformed_headers) {
    skipped_lines_.push_back(quote_for_error(line));
  } else {
    refuse(std::string{problem} + ": " + quote_for_error(line));
  }
}

void HeaderBlockParser::refuse(std::string message) {
  block_.error = std::string{rules_.protocol} + ": " + std::move(message);
}

void HeaderBlockParser::reset_block() {
  in_block_ = false;
  block_ = HeaderBlock{};
  block_size_ = 0;
}

Result<void> write_header_lines(const HeaderBlockRules& rules, const std::vector<Header>& headers,
                                std::string& out) {
  for (const auto& header : headers) {
    const auto refused = [&](std::string_view subject, std::string_view why) {
      return Error{std::string{rules.protocol} + ": " + std::string{subject} + " " +
                   quote_for_error(header.name) + " " + std::string{why}};
    };
    if (has_line_breaking_byte(header.name) || has_line_breaking_byte(header.value)) {
      return refused("header", "holds a CR, LF or NUL byte");
    }
    if (header.name.find(": ") != std::string::npos) {
      return refused("header name", "contains \": \"");
    }
    if (rules.drop_empty_values && (header.value.empty() || header.value.ends_with(": "))) {
      return refused("header", "has a value the dispatcher would drop");
    }
    out += header.name;
    out += ": ";
    out += header.value;
    out += "\r\n";
  }
  out += "\r\n";
  return outcome::success();
}

}  // namespace mpx::protocol
