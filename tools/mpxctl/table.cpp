// Table and terminal-safe text (see table.hpp). Padding is fmt's; the width measurement below is
// derived from fmt too so that measuring and padding agree on wide characters.
#include "tools/mpxctl/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace mpx::mpxctl {
namespace {

// One step through `text` at i: a valid UTF-8 sequence (printable unless it encodes a control
// character), or a single byte that starts no valid sequence (not printable).
struct Sequence {
  std::size_t length = 1;
  bool printable = false;
};

Sequence next_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t lead = byte(i);
  if (lead < 0x80) {
    return {1, lead >= 0x20 && lead != 0x7f};
  }
  std::size_t length = 0;
  std::uint32_t code = 0;
  std::uint32_t minimum = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    code = lead & 0x1fU;
    minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    code = lead & 0x0fU;
    minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    code = lead & 0x07U;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (text.size() - i < length) {
    return {};
  }
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0U) != 0x80) {
      return {};
    }
    code = (code << 6U) | (byte(i + k) & 0x3fU);
  }
  const bool overlong = code < minimum;
  const bool surrogate = code >= 0xd800 && code <= 0xdfff;
  if (overlong || surrogate || code > 0x10ffff) {
    return {};
  }
  const bool c1_control = code >= 0x80 && code <= 0x9f;
  return {length, !c1_control};
}

}  // namespace

std::string display_text(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const Sequence sequence = next_sequence(raw, i);
    if (sequence.printable) {
      out.append(raw.substr(i, sequence.length));
    } else {
      out += '?';
    }
    i += sequence.length;
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  // fmt pads to a width by its own measure of the text; padding to text.size() (never less than
  // the display width of valid UTF-8) adds exactly size - width blanks.
  const std::size_t padded = fmt::formatted_size("{:<{}}", text, text.size());
  return 2 * text.size() - padded;
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(const std::vector<std::string>& cells) {
  std::vector<std::string> row(columns_.size());
  for (std::size_t i = 0; i < row.size() && i < cells.size(); ++i) {
    row[i] = display_text(cells[i]);
  }
  rows_.push_back(std::move(row));
}

std::string Table::render() const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    widths[i] = display_width(columns_[i].title);
    for (const auto& row : rows_) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  const auto append_line = [&](const auto& cell_of) {
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i != 0) {
        line += "  ";
      }
      if (columns_[i].align == Align::right) {
        line += fmt::format("{:>{}}", cell_of(i), widths[i]);
      } else {
        line += fmt::format("{:<{}}", cell_of(i), widths[i]);
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  append_line([&](std::size_t i) -> const std::string& { return columns_[i].title; });
  for (const auto& row : rows_) {
    append_line([&](std::size_t i) -> const std::string& { return row[i]; });
  }
  return out;
}

}  // namespace mpx::mpxctl
