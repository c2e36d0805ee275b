// LineFramer: cuts a byte stream into lines terminated by exactly "\r\n", for every line-based
// socket of mpx (protocol A, protocol B, management). Incremental and O(n) overall: each byte is
// scanned once, however the stream is chunked; the caller pulls one line at a time, so it can
// stop after a message and answer it before parsing the next.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mpx::protocol {

class LineFramer {
 public:
  // A line longer than `max_line_length` bytes (not counting the "\r\n") is a fatal framing
  // error, detected as soon as the buffered unterminated data proves it (memory stays bounded
  // by max_line_length + the size of one fed chunk).
  explicit LineFramer(std::size_t max_line_length);

  // Appends bytes received from the peer. Never fails; errors surface in next_line().
  void feed(std::string_view bytes);

  // The next complete line without its "\r\n"; nullopt if no complete line is buffered (feed
  // more). The view stays valid until the next call to feed() or next_line().
  // A bare "\r" or "\n" is not a terminator: it stays in the line (protocol parsers reject it).
  // An error is fatal: the framer keeps returning it; close the connection.
  Result<std::optional<std::string_view>> next_line();

  std::size_t max_line_length() const { return max_line_length_; }
  // Bytes received and not yet returned as lines.
  std::size_t buffered_bytes() const { return buffer_.size() - head_; }
  bool failed() const { return error_.has_value(); }

 private:
  void compact();

  std::size_t max_line_length_;
  std::string buffer_;
  std::size_t head_ = 0;  // start of the first line not yet returned
  std::size_t scan_ = 0;  // bytes before this offset contain no "\n" terminating the head line
  std::optional<std::string> error_;
};

}  // namespace mpx::protocol
