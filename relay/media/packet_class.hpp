// What kind of packet arrived on a media socket (RFC 7983 demultiplexing by the first byte), and
// the RTP/RTCP header fields latching needs (SSRC, sequence number). Looks only at headers; never
// reads past the end of the packet.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace mpx::relay::media {

enum class PacketKind { rtp, rtcp, stun, dtls, other };

std::string_view to_string(PacketKind kind);

struct PacketInfo {
  PacketKind kind = PacketKind::other;
  std::uint32_t ssrc = 0;         // RTP SSRC, or RTCP sender SSRC (bytes 4..7)
  std::uint16_t sequence = 0;     // RTP only
  std::uint8_t payload_type = 0;  // RTP only (byte1 & 0x7f)
  bool operator==(const PacketInfo&) const = default;
};

// First byte (RFC 7983 section 7):
//   0..3     STUN, when >= 20 bytes with the magic cookie 0x2112A442 at offset 4; else other
//   20..63   DTLS
//   128..191 version 2: RTCP when byte 1 is 192..223 (RFC 5761) and >= 8 bytes; RTP when
//            >= 12 bytes plus 4 per CSRC (byte 0 & 0x0f); else other
//   anything else (including ZRTP 16..19 and TURN channels 64..79) other.
PacketInfo classify(std::span<const std::uint8_t> packet);

}  // namespace mpx::relay::media
