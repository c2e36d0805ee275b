// Pieces of config error messages: every message is ONE line, so text echoed from the file is made
// printable (control bytes escaped) and bounded before it is quoted.
#pragma once

#include <string>
#include <string_view>

namespace mpx::config::detail {

// `text` with newlines, tabs and other control bytes escaped (\n, \t, \xNN) and cut after
// max_chars characters with "...".
std::string printable(std::string_view text, std::size_t max_chars = 120);

// "file:line: " (line > 0) or "file: ".
std::string location(std::string_view file_label, int line);

}  // namespace mpx::config::detail
