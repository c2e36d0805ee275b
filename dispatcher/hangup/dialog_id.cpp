// Dialog id conversions (see dialog_id.hpp): strict decimal parsing with std::from_chars, so a
// sign, spaces, hex or an overflow are errors rather than silently accepted.
#include "dispatcher/hangup/dialog_id.hpp"

#include <charconv>
#include <fmt/format.h>
#include <limits>
#include <system_error>

namespace mpx::dispatcher {
namespace {

template <class Unsigned>
Result<Unsigned> parse_decimal(std::string_view text, std::string_view what) {
  if (text.empty()) {
    return Error{fmt::format("{} is empty", what)};
  }
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return Error{fmt::format("{} '{}' is not a decimal number", what, text)};
    }
  }
  Unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return Error{fmt::format("{} '{}' is too large (max {})", what, text,
                             std::numeric_limits<Unsigned>::max())};
  }
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return Error{fmt::format("{} '{}' is not a decimal number", what, text)};
  }
  return value;
}

}  // namespace

Result<DialogHashId> parse_opensips_dialog_id(std::string_view decimal) {
  auto value = parse_decimal<std::uint64_t>(decimal, "OpenSIPS dialog_id");
  if (!value) {
    return value.error();
  }
  return DialogHashId{static_cast<std::uint32_t>(value.value() >> 32),
                      static_cast<std::uint32_t>(value.value() & 0xffffffffU)};
}

Result<DialogHashId> parse_kamailio_dialog_id(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error{fmt::format("Kamailio dialog_id '{}' is not h_entry:h_id (no ':')", text)};
  }
  auto h_entry = parse_decimal<std::uint32_t>(text.substr(0, colon), "Kamailio dialog_id h_entry");
  if (!h_entry) {
    return h_entry.error();
  }
  auto h_id = parse_decimal<std::uint32_t>(text.substr(colon + 1), "Kamailio dialog_id h_id");
  if (!h_id) {
    return h_id.error();
  }
  return DialogHashId{h_entry.value(), h_id.value()};
}

std::string opensips_dialog_did(const DialogHashId& id) {
  return fmt::format("{:x}.{}", id.h_entry, id.h_id);
}

}  // namespace mpx::dispatcher
