// libFuzzer target for config.ini reading: arbitrary bytes through try_parse_config must never
// crash; an error is one non-empty line; a parsed config keeps the invariants of its typed values.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config/config.hpp"

namespace {

void check(bool invariant) {
  if (!invariant) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config =
      mpx::config::try_parse_config(text, "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  if (!config.has_value()) {
    const auto& message = config.error().message;
    check(!message.empty());
    check(message.find('\n') == std::string::npos);
    check(message.rfind("/etc/mediaproxy/config.ini", 0) == 0);
    return 0;
  }
  const auto& relay = config.value().relay;
  const auto& range = relay.port_range;
  check(range.start % 2 == 0 && range.end % 2 == 0);
  check(range.start >= 1024 && range.start < range.end && range.end <= 65536);
  check(range.pair_count() >= 1);
  for (const auto& dispatcher : relay.dispatchers) {
    check(!dispatcher.host.empty() && dispatcher.port != 0);
  }
  for (const auto& network : relay.routable_private_ranges) {
    check(network == network.canonical());
  }
  const auto& dispatcher = config.value().dispatcher;
  check(dispatcher.listen.port != 0 && dispatcher.listen_management.port != 0);
  check(relay.dns_check_interval.count() >= 1);
  return 0;
}
