// ProtocolLines: the LineFramer a protocol parser reads its lines from. A fatal error, whether
// the framer's (a line too long) or one the parser declares (a message too large), is named after
// the protocol ("protocol B: line longer than ...") and kept: once the stream is broken every
// later call reports the same error, so the parsers built on it never track that state themselves.
#pragma once

#include "common/protocol/line_framer.hpp"
#include "common/protocol/parse_step.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mpx::protocol {

class ProtocolLines {
 public:
  // `protocol` prefixes every error ("protocol A"); it must outlive this object (a literal).
  ProtocolLines(std::string_view protocol, std::size_t max_line_length);

  void feed(std::string_view bytes) { framer_.feed(bytes); }

  // The next complete line without its "\r\n", valid until the next feed() or next_line().
  // nullopt when no complete line is buffered or the stream is broken: return stalled() then.
  std::optional<std::string_view> next_line() {
    if (fatal_) {
      return std::nullopt;
    }
    auto line = framer_.next_line();
    if (!line) {
      fail(line.error().message);
      return std::nullopt;
    }
    return line.value();
  }

  // What a parser answers when next_line() has nothing: the FatalError once the stream is
  // broken, NeedMore otherwise. `Step` is the parser's step variant.
  template <class Step>
  Step stalled() const {
    return fatal_ ? Step{*fatal_} : Step{NeedMore{}};
  }

  // Declares the stream broken ("<protocol>: <message>") and returns that error.
  FatalError fail(std::string_view message);

  std::string_view protocol() const { return protocol_; }
  std::size_t buffered_bytes() const { return framer_.buffered_bytes(); }

 private:
  std::string_view protocol_;
  LineFramer framer_;
  std::optional<FatalError> fatal_;
};

}  // namespace mpx::protocol
