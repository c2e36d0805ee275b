// Codec names and post-dial delay (compat spec 5.11): the name the statistics show for the RTP
// payload type of a party's first non-STUN packet.
#pragma once

#include <cstdint>
#include <string>

namespace mpx::relay::session {

// Static RFC 3551 names as MediaProxy spells them; "Dynamic(<pt>)" above 95; "Unknown(<pt>)" for
// unassigned static numbers. `payload_type` is byte[1] & 0x7F of the packet (higher bits ignored).
std::string codec_name(std::uint8_t payload_type);

}  // namespace mpx::relay::session
