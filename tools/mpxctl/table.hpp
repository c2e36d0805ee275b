// Column formatting for mpxctl's views: a plain-text table whose columns are as wide as their
// widest cell, and the sanitising of text that came from the network before it reaches a terminal
// (a call id holding an escape sequence must not repaint the operator's screen).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::mpxctl {

// `raw` made safe to print: valid UTF-8 is kept; control characters (C0, DEL, C1) and bytes that
// are not part of a valid UTF-8 sequence become '?'.
std::string display_text(std::string_view raw);

// Terminal columns `text` (already display_text) occupies, as fmt measures them when padding.
std::size_t display_width(std::string_view text);

enum class Align { left, right };

struct Column {
  std::string title;
  Align align = Align::left;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns);

  // Missing cells are empty, extra cells are ignored; cells go through display_text.
  void add_row(const std::vector<std::string>& cells);
  std::size_t row_count() const { return rows_.size(); }

  // The title line, then one line per row; two spaces between columns, no trailing blanks.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace mpx::mpxctl
