// libFuzzer target: both directions of protocol B on the same bytes: RelayRequestParser (relay
// side) and RelayMessageParser (dispatcher side), with their encoders.
// Input: byte 0 = chunking control (low 6 bits: max chunk size - 1; bit 7: tiny limits),
// byte 1 = chunking seed, then the stream bytes.
// Invariants: no crash/hang; chunked and one-piece feeding give the same steps; a parsed
// request/message re-encodes (the encoder must accept it) and parses back to the same value.
#include "common/protocol/relay_message.hpp"
#include "common/protocol/relay_request.hpp"
#include "tests/fuzz/chunked_feed.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

using namespace mpx::protocol;

void check_request(const RelayRequest& request, const RelayRequestLimits& limits) {
  if (request.headers.size() > limits.max_headers) {
    __builtin_trap();
  }
  auto encoded = encode_relay_request(request);
  if (!encoded) {
    __builtin_trap();
  }
  const auto again = mpx::fuzz::run<RelayRequestStep>(RelayRequestParser(limits),
                                                                {encoded.value()});
  if (again.size() != 1 || !std::holds_alternative<RelayRequest>(again[0]) ||
      std::get<RelayRequest>(again[0]) != request) {
    __builtin_trap();
  }
}

template <class M>
void check_message(const M& message) {
  auto encoded = encode_relay_message(RelayMessage{message});
  if (!encoded || !encoded.value().ends_with("\r\n")) {
    __builtin_trap();
  }
  const std::string_view line(encoded.value().data(), encoded.value().size() - 2);
  auto again = parse_relay_line(line);
  if (!again || again.value() != RelayMessage{message}) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const bool tiny = (data[0] & 0x80U) != 0;
  RelayRequestLimits request_limits;
  std::size_t message_max_line = kRelayMessageMaxLine;
  if (tiny) {
    request_limits.max_line_length = 40;
    request_limits.max_headers = 3;
    request_limits.max_message_size = 120;
    message_max_line = 40;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto pieces = mpx::fuzz::chunk(bytes, data[0], data[1]);

  const auto requests = mpx::fuzz::run<RelayRequestStep>(
      RelayRequestParser(request_limits), {bytes});
  if (requests != mpx::fuzz::run<RelayRequestStep>(RelayRequestParser(request_limits),
                                                             pieces)) {
    __builtin_trap();
  }
  for (const auto& step : requests) {
    if (const auto* request = std::get_if<RelayRequest>(&step)) {
      check_request(*request, request_limits);
    }
  }

  const auto messages = mpx::fuzz::run<RelayMessageStep>(
      RelayMessageParser(message_max_line), {bytes});
  if (messages != mpx::fuzz::run<RelayMessageStep>(RelayMessageParser(message_max_line),
                                                             pieces)) {
    __builtin_trap();
  }
  for (const auto& step : messages) {
    if (const auto* reply = std::get_if<RelayReply>(&step)) {
      check_message(*reply);
    } else if (const auto* expired = std::get_if<RelayExpired>(&step)) {
      check_message(*expired);
    } else if (std::holds_alternative<Ping>(step)) {
      check_message(Ping{});
    }
  }
  return 0;
}
