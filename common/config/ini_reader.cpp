// configparser-compatible INI reading (see ini_reader.hpp for the rules and why it is
// hand-written).
#include "common/config/ini_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "common/config/diagnostics.hpp"

namespace mpx::config::detail {
namespace {

constexpr std::string_view blanks = " \t\n\r\f\v";
constexpr int max_interpolation_depth = 10;  // configparser's MAX_INTERPOLATION_DEPTH

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

bool is_comment(std::string_view stripped) {
  return !stripped.empty() && (stripped.front() == ';' || stripped.front() == '#');
}

// python-application's optionxform ('-' -> '_') plus lowercasing.
std::string option_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c == '-') {
      c = '_';
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return key;
}

// Splits at \n, \r\n and \r (Python's universal newlines).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      lines.push_back(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      start = i + 1;
    }
  }
  if (start < text.size()) {
    lines.push_back(text.substr(start));
  }
  return lines;
}

struct RawOption {
  std::string name;
  std::vector<std::string> pieces;  // first line's value, then continuation lines
  int line = 0;
  std::string joined;  // pieces joined by '\n', right-trimmed
};

struct RawSection {
  std::string name;
  int line = 0;
  std::vector<RawOption> options;
  std::map<std::string, std::size_t, std::less<>> index;  // option name -> position in options
};

// BasicInterpolation over the raw values of one section.
class Interpolator {
 public:
  explicit Interpolator(const RawSection& section) : section_(section) {}

  // Appends the expansion of raw to out; the error is the reason only.
  mpx::Result<void> expand(std::string_view raw, int depth, std::string& out) const {
    if (depth > max_interpolation_depth) {
      return mpx::Error{fmt::format("%(...)s references nested more than {} levels deep",
                                    max_interpolation_depth)};
    }
    std::size_t i = 0;
    while (i < raw.size()) {
      const auto percent = raw.find('%', i);
      if (percent == std::string_view::npos) {
        out.append(raw.substr(i));
        break;
      }
      out.append(raw.substr(i, percent - i));
      const char next = percent + 1 < raw.size() ? raw[percent + 1] : '\0';
      if (next == '%') {
        out += '%';
        i = percent + 2;
      } else if (next == '(') {
        const auto close = raw.find(')', percent + 2);
        if (close == std::string_view::npos || close == percent + 2 || close + 1 >= raw.size() ||
            raw[close + 1] != 's') {
          return mpx::Error{
              "bad '%(' reference; write %(option)s to use another option of the section, %% for a "
              "literal %"};
        }
        const auto name = option_key(raw.substr(percent + 2, close - percent - 2));
        const auto found = section_.index.find(name);
        if (found == section_.index.end()) {
          return mpx::Error{fmt::format("%({})s refers to an option [{}] does not set",
                                        printable(name, 60), printable(section_.name, 60))};
        }
        const std::string& value = section_.options[found->second].joined;
        if (value.find('%') != std::string::npos) {
          auto nested = expand(value, depth + 1, out);
          if (!nested) {
            return nested;
          }
        } else {
          out += value;
        }
        i = close + 2;
      } else {
        return mpx::Error{"'%' must be followed by '%' or '(' (write %% for a literal %)"};
      }
      if (out.size() > max_ini_bytes) {
        return mpx::Error{"value grows beyond 1 MiB through %(...)s references"};
      }
    }
    return mpx::outcome::success();
  }

 private:
  const RawSection& section_;
};

class Reader {
 public:
  explicit Reader(std::string_view file_label) : file_(file_label) {}

  mpx::Result<void> read_line(std::string_view line, int lineno) {
    const auto stripped = trim(line);
    if (is_comment(stripped)) {
      return mpx::outcome::success();
    }
    RawOption* current = current_option();
    if (stripped.empty()) {
      // Kept in case a continuation line follows; trailing ones are trimmed at the end.
      if (current != nullptr) {
        current->pieces.emplace_back();
      }
      return mpx::outcome::success();
    }
    const auto indent = line.find_first_not_of(blanks);
    if (current != nullptr && indent > indent_level_) {
      current->pieces.emplace_back(stripped);
      return mpx::outcome::success();
    }
    indent_level_ = indent;
    if (stripped.front() == '[') {
      return read_section_header(stripped, lineno);
    }
    if (sections_.empty()) {
      return fail(lineno, fmt::format("syntax error: '{}' appears before any [Section] header",
                                      printable(stripped)));
    }
    return read_option(stripped, lineno);
  }

  mpx::Result<IniDocument> finish() {
    IniDocument document;
    for (auto& section : sections_) {
      for (auto& option : section.options) {
        option.joined = join(option.pieces);
      }
    }
    for (const auto& section : sections_) {
      const Interpolator interpolator(section);
      IniSection out{section.name, section.line, {}};
      out.options.reserve(section.options.size());
      for (const auto& option : section.options) {
        std::string value;
        auto expanded = interpolator.expand(option.joined, 1, value);
        if (!expanded) {
          return fail(option.line, fmt::format("[{}] {} = {}: {}", printable(section.name, 60),
                                               printable(option.name, 60), printable(option.joined),
                                               expanded.error().message));
        }
        out.options.push_back(IniOption{option.name, std::move(value), option.line});
      }
      document.sections.push_back(std::move(out));
    }
    return document;
  }

 private:
  RawOption* current_option() {
    if (sections_.empty() || !in_option_) {
      return nullptr;
    }
    return &sections_.back().options.back();
  }

  mpx::Error fail(int lineno, std::string_view what) const {
    return mpx::Error{location(file_, lineno) + std::string(what)};
  }

  mpx::Result<void> read_section_header(std::string_view stripped, int lineno) {
    // configparser takes everything up to the last ']' as the name.
    const auto close = stripped.rfind(']');
    if (close == std::string_view::npos || close < 2) {
      return fail(lineno, fmt::format("syntax error: '{}' is not a valid [Section] header",
                                      printable(stripped)));
    }
    const auto trailing = trim(stripped.substr(close + 1));
    if (!trailing.empty() && !is_comment(trailing)) {
      return fail(lineno, fmt::format("syntax error: unexpected '{}' after the [Section] header",
                                      printable(trailing)));
    }
    std::string name(stripped.substr(1, close - 1));
    const auto [seen, inserted] = section_lines_.try_emplace(name, lineno);
    if (!inserted) {
      return fail(lineno, fmt::format("[{}]: duplicate section (first at line {})",
                                      printable(name, 60), seen->second));
    }
    sections_.push_back(RawSection{std::move(name), lineno, {}, {}});
    in_option_ = false;
    return mpx::outcome::success();
  }

  mpx::Result<void> read_option(std::string_view stripped, int lineno) {
    const auto delimiter = stripped.find_first_of("=:");
    if (delimiter == std::string_view::npos) {
      return fail(lineno, fmt::format("syntax error: '{}' is not a [Section] header, an "
                                      "'option = value' line or a comment",
                                      printable(stripped)));
    }
    const auto raw_name = trim(stripped.substr(0, delimiter));
    if (raw_name.empty()) {
      return fail(lineno, fmt::format("syntax error: '{}' has no option name before '{}'",
                                      printable(stripped), stripped[delimiter]));
    }
    RawSection& section = sections_.back();
    auto name = option_key(raw_name);
    const auto seen = section.index.find(name);
    if (seen != section.index.end()) {
      return fail(lineno, fmt::format("[{}] {}: duplicate option (first at line {})",
                                      printable(section.name, 60), printable(name, 60),
                                      section.options[seen->second].line));
    }
    section.index.emplace(name, section.options.size());
    RawOption option{std::move(name), {}, lineno, {}};
    option.pieces.emplace_back(trim(stripped.substr(delimiter + 1)));
    section.options.push_back(std::move(option));
    in_option_ = true;
    return mpx::outcome::success();
  }

  static std::string join(const std::vector<std::string>& pieces) {
    std::string joined;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (i > 0) {
        joined += '\n';
      }
      joined += pieces[i];
    }
    const auto last = joined.find_last_not_of(blanks);
    joined.resize(last == std::string::npos ? 0 : last + 1);
    return joined;
  }

  std::string_view file_;
  std::vector<RawSection> sections_;
  std::map<std::string, int, std::less<>> section_lines_;
  bool in_option_ = false;
  std::size_t indent_level_ = 0;
};

}  // namespace

mpx::Result<IniDocument> read_ini(std::string_view text, std::string_view file_label) {
  if (text.size() > max_ini_bytes) {
    return mpx::Error{
        location(file_label, 0) +
        fmt::format("file is larger than {} bytes; a config.ini is a few KiB", max_ini_bytes)};
  }
  constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";
  if (text.substr(0, utf8_bom.size()) == utf8_bom) {
    text.remove_prefix(utf8_bom.size());
  }
  Reader reader(file_label);
  int lineno = 0;
  for (const auto line : split_lines(text)) {
    ++lineno;
    auto step = reader.read_line(line, lineno);
    if (!step) {
      return step.error();
    }
  }
  return reader.finish();
}

}  // namespace mpx::config::detail
