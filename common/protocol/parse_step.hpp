// The outcomes an incremental protocol parser reports besides a message: "feed me more bytes",
// "this one message is bad, answer it with an error and carry on", "the stream is broken, close it".
#pragma once

#include <string>

namespace mpx::protocol {

// No complete message is buffered: read more bytes from the connection and feed() them.
struct NeedMore {
  bool operator==(const NeedMore&) const = default;
};

// One message was malformed. The parser has already skipped to the next message; the connection
// stays usable. The daemon answers the peer with its protocol's error reply.
struct MessageError {
  std::string message;
  bool operator==(const MessageError&) const = default;
};

// The byte stream cannot be framed any more (line or message too long). The parser stays in this
// state: close the connection.
struct FatalError {
  std::string message;
  bool operator==(const FatalError&) const = default;
};

}  // namespace mpx::protocol
