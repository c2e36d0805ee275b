// A protocol parser's line source, its fatal errors named and kept (see protocol_lines.hpp).
#include "common/protocol/protocol_lines.hpp"

namespace mpx::protocol {

ProtocolLines::ProtocolLines(std::string_view protocol, std::size_t max_line_length)
    : protocol_(protocol), framer_(max_line_length) {}

FatalError ProtocolLines::fail(std::string_view message) {
  fatal_ = FatalError{std::string{protocol_} + ": " + std::string{message}};
  return *fatal_;
}

}  // namespace mpx::protocol
