// Shared text rules of protocols A and B (see wire_text.hpp).
#include "common/protocol/wire_text.hpp"

#include <charconv>
#include <cstdio>

namespace mpx::protocol {

std::optional<std::string_view> find_header(const std::vector<Header>& headers,
                                            std::string_view name) {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name == name) {
      return std::string_view{it->value};
    }
  }
  return std::nullopt;
}

bool has_line_breaking_byte(std::string_view text) {
  return text.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos;
}

std::optional<Header> split_header_line(std::string_view line) {
  const auto separator = line.find(": ");
  if (separator == std::string_view::npos) {
    return std::nullopt;
  }
  return Header{std::string{line.substr(0, separator)}, std::string{line.substr(separator + 2)}};
}

std::optional<std::uint64_t> parse_sequence_number(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::string quote_for_error(std::string_view text) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  for (const char c : text.substr(0, kShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(byte));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  if (text.size() > kShown) {
    out += "...";
  }
  return out;
}

}  // namespace mpx::protocol
