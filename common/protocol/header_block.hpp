// HeaderBlockParser: the message shape that protocol A requests (module -> dispatcher) and
// protocol B requests (dispatcher -> relay) share: a command line, "name: value" header lines,
// then an empty line, every line ending in "\r\n". It frames the blocks, splits the header lines
// at the first ": ", enforces the size limits and keeps the first problem of each block; the
// protocol's own parser then reads the command line and builds its message from the block.
// write_header_lines() is the other direction, for the encoders.
//
// Where the two protocols differ (MediaProxy's dispatcher and relay read them differently, and
// the peers were written against that), HeaderBlockRules says which way to go.
#pragma once

#include "common/protocol/parse_step.hpp"
#include "common/protocol/protocol_lines.hpp"
#include "common/protocol/wire_text.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mpx::protocol {

struct HeaderBlockRules {
  std::string_view protocol;          // prefixes every error: "protocol A"; a literal
  std::size_t max_line_length = 0;    // a longer line: FatalError
  std::size_t max_headers = 0;        // more header lines kept: the block gets an error
  // More bytes in one block (each line with its "\r\n", dropped lines included): FatalError.
  std::size_t max_message_size = 0;
  // A line ending in ": " (a header with an empty value: the module sends dialog_id, to_tag,
  // media_relay, ... so) is dropped wherever it stands, even where a command line is due (then it
  // does not count towards the block's size either).
  bool drop_empty_values = false;
  // A header line without ": " or holding a bare CR, LF or NUL is skipped and listed in
  // skipped_lines(); otherwise it gives the block an error.
  bool skip_malformed_headers = false;
  // A line that is a message of its own wherever it stands, even inside a block; empty: none.
  std::string_view interjection;
  // What is wrong with a command line that holds no CR, LF or NUL (those are always refused), as
  // a literal; empty if nothing. nullptr: any such command line is fine.
  std::string_view (*command_line_problem)(std::string_view line) = nullptr;
};

struct HeaderBlock {
  std::string command_line;          // verbatim
  std::vector<Header> headers;       // verbatim, in received order, dropped lines left out
  // The block's first problem, "<protocol>: ...". The header lines after it were not read: the
  // block is to be refused as a whole.
  std::optional<std::string> error;
};

// The HeaderBlockRules::interjection line.
struct Interjection {
  bool operator==(const Interjection&) const = default;
};

using HeaderBlockStep = std::variant<NeedMore, HeaderBlock, Interjection, FatalError>;

class HeaderBlockParser {
 public:
  explicit HeaderBlockParser(HeaderBlockRules rules);

  void feed(std::string_view bytes) { lines_.feed(bytes); }

  // Parses buffered lines up to the end of the next block (or an interjection) and stops there.
  // Empty lines between blocks are ignored. After a FatalError every call returns it again.
  HeaderBlockStep next();

  // The header lines skipped in the current block or, between blocks, in the last one, each
  // quoted for a log line. Cleared when the next block starts.
  const std::vector<std::string>& skipped_lines() const { return skipped_lines_; }
  std::size_t buffered_bytes() const { return lines_.buffered_bytes(); }

 private:
  // Whether drop_empty_values applies to `line` (which must hold no CR, LF or NUL).
  bool is_dropped(std::string_view line) const;
  void start_block(std::string_view command_line);
  void add_header_line(std::string_view line);
  void malformed_header_line(std::string_view problem, std::string_view line);
  void refuse(std::string message);
  void reset_block();

  HeaderBlockRules rules_;
  ProtocolLines lines_;
  bool in_block_ = false;
  HeaderBlock block_;
  std::size_t block_size_ = 0;
  std::vector<std::string> skipped_lines_;
};

// Appends each header as "name: value\r\n", then the empty line that ends the block. Fails,
// naming the header, if the receiver would not read it back as it is: a CR, LF or NUL anywhere,
// a name containing ": ", or (with drop_empty_values) a line ending in ": ", which it would drop.
Result<void> write_header_lines(const HeaderBlockRules& rules, const std::vector<Header>& headers,
                                std::string& out);

}  // namespace mpx::protocol
