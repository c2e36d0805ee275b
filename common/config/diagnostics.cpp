// One-line rendering of file text inside config error messages.
#include "common/config/diagnostics.hpp"

#include <fmt/format.h>

namespace mpx::config::detail {

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t shown = 0;
  for (const char c : text) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
    ++shown;
  }
  return out;
}

std::string location(std::string_view file_label, int line) {
  if (line > 0) {
    return fmt::format("{}:{}: ", printable(file_label, 4096), line);
  }
  return fmt::format("{}: ", printable(file_label, 4096));
}

}  // namespace mpx::config::detail
