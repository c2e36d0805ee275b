// Codec names from RTP payload types (see codec.hpp).
#include "relay/session/codec.hpp"

#include <array>
#include <string_view>

namespace mpx::relay::session {

std::string codec_name(std::uint8_t payload_type) {
  const unsigned pt = payload_type & 0x7FU;
  if (pt > 95) {
    return "Dynamic(" + std::to_string(pt) + ")";
  }
  static constexpr std::array<std::string_view, 35> kStatic = {
      "G711u", "1016", "G721", "GSM",  "G723", "DVI4", "DVI4", "LPC",  "G711a",
      "G722",  "L16",  "L16",  "",     "",     "MPA",  "G728", "",     "",
      "G729",  "",     "",     "",     "",     "",     "",     "CelB", "JPEG",
      "",      "nv",   "",     "",     "H261", "MPV",  "MP2T", "H263"};
  if (pt < kStatic.size() && !kStatic[pt].empty()) {
    return std::string{kStatic[pt]};
  }
  return "Unknown(" + std::to_string(pt) + ")";
}

}  // namespace mpx::relay::session
