// libFuzzer target: protocol A request parser (ModuleRequestParser) and encoder.
// Input: byte 0 = chunking control (low 6 bits: max chunk size - 1; bit 7: tiny limits),
// byte 1 = chunking seed, then the stream bytes.
// Invariants: no crash/hang; chunked and one-piece feeding give the same steps; every request
// respects the limits and framing rules; encode(request) parses back to exactly that request.
#include "common/protocol/module_request.hpp"
#include "tests/fuzz/chunked_feed.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

using namespace mpx::protocol;

std::vector<ModuleRequestStep> run(const std::vector<std::string_view>& chunks,
                                   const ModuleRequestLimits& limits) {
  return mpx::fuzz::run<ModuleRequestStep>(ModuleRequestParser(limits), chunks);
}

void check_request(const ModuleRequest& request, const ModuleRequestLimits& limits) {
  if (request.command.empty() || has_line_breaking_byte(request.command) ||
      request.headers.size() > limits.max_headers) {
    __builtin_trap();
  }
  for (const auto& header : request.headers) {
    if (has_line_breaking_byte(header.name) || has_line_breaking_byte(header.value) ||
        header.name.find(": ") != std::string::npos || header.value.empty() ||
        header.value.ends_with(": ")) {
      __builtin_trap();
    }
  }
  auto encoded = encode_module_request(request);
  if (!encoded) {
    __builtin_trap();
  }
  const auto again = run({encoded.value()}, limits);
  if (again.size() != 1 || !std::holds_alternative<ModuleRequest>(again[0]) ||
      std::get<ModuleRequest>(again[0]) != request) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  ModuleRequestLimits limits;
  if ((data[0] & 0x80U) != 0) {
    limits.max_line_length = 40;
    limits.max_headers = 3;
    limits.max_message_size = 120;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto whole = run({bytes}, limits);
  const auto pieces = run(mpx::fuzz::chunk(bytes, data[0], data[1]), limits);
  if (whole != pieces) {
    __builtin_trap();
  }
  for (const auto& step : whole) {
    if (const auto* request = std::get_if<ModuleRequest>(&step)) {
      check_request(*request, limits);
    }
  }
  return 0;
}
