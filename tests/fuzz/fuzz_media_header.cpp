// libFuzzer target: the `media` header grammar. Invariants: no crash; a parsed value formats
// (format_media must accept it) and parses back to the same streams; formatting is stable.
#include "common/protocol/media.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mpx::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto streams = parse_media(text);
  if (!streams) {
    if (streams.error().message.empty()) {
      __builtin_trap();
    }
    return 0;
  }
  if (streams.value().empty() || streams.value().size() > kMaxMediaStreams) {
    __builtin_trap();
  }
  auto formatted = format_media(streams.value());
  if (!formatted) {
    __builtin_trap();
  }
  auto again = parse_media(formatted.value());
  if (!again || again.value() != streams.value()) {
    __builtin_trap();
  }
  auto formatted_again = format_media(again.value());
  if (!formatted_again || formatted_again.value() != formatted.value()) {
    __builtin_trap();
  }
  return 0;
}
