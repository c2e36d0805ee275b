// CRLF line framing (see line_framer.hpp).
#include "common/protocol/line_framer.hpp"

#include <cstring>

namespace mpx::protocol {

LineFramer::LineFramer(std::size_t max_line_length) : max_line_length_(max_line_length) {}

void LineFramer::feed(std::string_view bytes) {
  if (error_) {
    return;  // the connection is being closed; do not grow the buffer any more
  }
  compact();
  buffer_.append(bytes);
}

// Drops returned lines from the front once they are at least half of the buffer, so each byte
// is moved O(1) times on average whatever the feeding pattern.
void LineFramer::compact() {
  if (head_ == 0 || head_ < buffer_.size() / 2) {
    return;
  }
  buffer_.erase(0, head_);
  scan_ -= head_;
  head_ = 0;
}

Result<std::optional<std::string_view>> LineFramer::next_line() {
  if (error_) {
    return Error{*error_};
  }
  while (scan_ < buffer_.size()) {
    const void* found = std::memchr(buffer_.data() + scan_, '\n', buffer_.size() - scan_);
    if (found == nullptr) {
      scan_ = buffer_.size();
      break;
    }
    const auto lf = static_cast<std::size_t>(static_cast<const char*>(found) - buffer_.data());
    scan_ = lf + 1;
    if (lf > head_ && buffer_[lf - 1] == '\r') {
      const std::size_t length = lf - 1 - head_;
      if (length > max_line_length_) {
        break;  // reported below
      }
      const std::string_view line{buffer_.data() + head_, length};
      head_ = scan_;
      return std::optional<std::string_view>{line};
    }
  }
  // No terminator in the buffered data, or an over-long terminated line (then `pending` counts
  // its "\r\n" and is still > max + 1). One byte of slack for a trailing "\r" whose "\n" has
  // not arrived yet.
  const std::size_t pending = scan_ - head_;
  const bool trailing_cr = pending > 0 && buffer_[scan_ - 1] == '\r';
  const std::size_t content = trailing_cr ? pending - 1 : pending;
  if (content > max_line_length_) {
    error_ = "line longer than " + std::to_string(max_line_length_) + " bytes";
    buffer_.clear();
    buffer_.shrink_to_fit();
    head_ = scan_ = 0;
    return Error{*error_};
  }
  return std::optional<std::string_view>{};
}

}  // namespace mpx::protocol
