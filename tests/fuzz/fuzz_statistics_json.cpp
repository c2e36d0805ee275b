// libFuzzer target: the statistics / summary JSON model and the Python-style writer.
// Invariants: no crash; whatever decodes re-encodes to text that decodes to the same value and
// re-encodes to the same text; python_json_dump output of any (shallow) JSON value parses back
// to that value.
#include "common/protocol/python_json.hpp"
#include "common/protocol/relay_summary.hpp"
#include "common/protocol/session_statistics.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace mpx::protocol;

template <class T, class Decode>
void check_round_trip(const T& value, Decode decode) {
  const std::string text = to_json(value);
  auto again = decode(text);
  if (!again || !(again.value() == value) || to_json(again.value()) != text) {
    __builtin_trap();
  }
}

void check_writer(std::string_view text) {
  int max_depth = 0;
  const nlohmann::ordered_json::parser_callback_t depth_probe =
      [&max_depth](int depth, nlohmann::ordered_json::parse_event_t, nlohmann::ordered_json&) {
        max_depth = std::max(max_depth, depth);
        return true;
      };
  auto value = nlohmann::ordered_json::parse(text, depth_probe, false);
  if (value.is_discarded() || max_depth > 64) {
    return;  // the writer is recursive by design: it only writes values mpx built
  }
  const std::string written = python_json_dump(value);
  auto back = nlohmann::ordered_json::parse(written, nullptr, false);
  if (back.is_discarded() || python_json_dump(back) != written) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto session = session_statistics_from_json(text)) {
    check_round_trip(session.value(), [](std::string_view t) {
      return session_statistics_from_json(t);
    });
  }
  if (auto summary = relay_summary_from_json(text)) {
    check_round_trip(summary.value(), [](std::string_view t) { return relay_summary_from_json(t); });
  }
  if (auto list = session_list_from_json(text)) {
    const std::string encoded = to_json(std::span<const SessionStatistics>(list.value()));
    auto again = session_list_from_json(encoded);
    if (!again || again.value() != list.value()) {
      __builtin_trap();
    }
  }
  check_writer(text);
  return 0;
}
