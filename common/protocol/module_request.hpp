// Protocol A requests (OpenSIPS/Kamailio mediaproxy module -> dispatcher): the incremental
// parser the dispatcher runs on each module connection, and the encoder a test client uses to
// play the module.
//
// A request is a header block (header_block.hpp): a command line, `name: value` header lines,
// then an empty line. Empty lines before a command are ignored. MediaProxy's quirks are kept,
// since the module was written against them: any line ending in ": " (a header with an empty
// value) is silently dropped, even where a command is expected; any other header line without
// ": " makes the whole request an error (answer `error`, keep going). The command is not
// validated here, and a missing call_id is the dispatcher's semantic check (use find()), not a
// framing error.
#pragma once

#include "common/protocol/header_block.hpp"
#include "common/protocol/parse_step.hpp"
#include "common/protocol/wire_text.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mpx::protocol {

struct ModuleRequest {
  std::string command;          // first line, verbatim ("update", "remove", ...)
  std::vector<Header> headers;  // in received order, verbatim, empty-valued lines dropped

  // Value of the last header called `name`; nullopt if absent.
  std::optional<std::string_view> find(std::string_view name) const {
    return find_header(headers, name);
  }
  bool operator==(const ModuleRequest&) const = default;
};

struct ModuleRequestLimits {
  // Longer line: FatalError (Twisted LineOnlyReceiver's limit on MediaProxy's module socket).
  std::size_t max_line_length = 16384;
  // More header lines kept in one request: MessageError for that request (the rest of it is
  // read and discarded, the connection stays up). The module sends 12 headers.
  std::size_t max_headers = 64;
  // More bytes in one request (every line of it with its "\r\n", dropped lines included):
  // FatalError. The module's own request buffer is 8192 bytes.
  std::size_t max_message_size = 32 * 1024;
};

// A complete request, a request to answer with `error`, a closed stream, or "read more".
using ModuleRequestStep = std::variant<NeedMore, ModuleRequest, MessageError, FatalError>;

class ModuleRequestParser {
 public:
  explicit ModuleRequestParser(ModuleRequestLimits limits = {});

  void feed(std::string_view bytes);

  // Parses buffered lines up to the end of the next request and stops there. Call again after
  // answering it; NeedMore means nothing complete is buffered. After a FatalError every call
  // returns it again. A line holding a bare CR, LF or NUL makes its request a MessageError.
  ModuleRequestStep next();

  const ModuleRequestLimits& limits() const { return limits_; }
  std::size_t buffered_bytes() const { return blocks_.buffered_bytes(); }

 private:
  ModuleRequestLimits limits_;
  HeaderBlockParser blocks_;
};

// The request as the module writes it: command, headers, empty line, all "\r\n"-terminated.
// Fails if the text would not parse back into the same request: empty command, a CR/LF/NUL
// anywhere, a header name containing ": ", or a line ending in ": " (an empty header value:
// the dispatcher would drop the line).
Result<std::string> encode_module_request(const ModuleRequest& request);

}  // namespace mpx::protocol
