// The INI syntax of config.ini, read the way MediaProxy reads it: Python's configparser
// (ConfigParser, strict=True, BasicInterpolation) through python-application, whose option-name
// transform maps '-' to '_'. mpx also lowercases option names.
//
// Why not a library: Debian's libinih (r55) strips inline ';' comments (configparser keeps them as
// part of the value), silently truncates lines past 200 bytes, reports continuation lines as
// repeated options (so duplicates cannot be detected) and gives no line numbers to the handler;
// Boost.PropertyTree's ini_parser has no '#' comments, no ':' delimiter and no continuation lines.
// Either would change what existing MediaProxy files mean, so this is a small line reader.
//
// Semantics kept from configparser:
// - "[Name]" opens a section (name case-sensitive, taken verbatim up to the last ']'); text
//   after it may only be a comment. A section or option repeated in the file is an error.
// - "option = value" or "option: value", split at the first '=' or ':'; name and value trimmed.
// - A line whose first non-blank character is ';' or '#' is a comment. No inline comments.
// - A line indented deeper than its option's line continues the value (joined with '\n', the
//   continuation trimmed). Blank lines inside a value are kept if more continuation follows;
//   trailing blank lines are dropped. Comment lines inside a value are skipped.
// - Values are interpolated: "%%" is '%', "%(name)s" is the value of option `name` of the same
//   section (nested up to 10 levels); any other '%' is an error. (MediaProxy fails on these too.)
// - Line ends: \n, \r\n or \r. A UTF-8 byte-order mark at the start is skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace mpx::config::detail {

struct IniOption {
  std::string name;   // lowercased, '-' -> '_'
  std::string value;  // trimmed, continuation lines joined with '\n', interpolated
  int line = 0;       // line of "name = ..."
};

struct IniSection {
  std::string name;
  int line = 0;
  std::vector<IniOption> options;  // in file order
};

struct IniDocument {
  std::vector<IniSection> sections;  // in file order
};

// Larger input is refused: a config.ini is a few KiB, and this bounds work on garbage.
inline constexpr std::size_t max_ini_bytes = 1024 * 1024;

// Errors are complete one-line messages starting with "file_label:line: ".
mpx::Result<IniDocument> read_ini(std::string_view text, std::string_view file_label);

}  // namespace mpx::config::detail
