// RFC 7983 classification of one datagram; see packet_class.hpp for the rules.
#include "relay/media/packet_class.hpp"

#include <cstddef>

namespace mpx::relay::media {
namespace {

constexpr std::uint32_t stun_magic_cookie = 0x2112A442;
constexpr std::size_t stun_header_size = 20;
constexpr std::size_t rtcp_min_size = 8;  // header + sender SSRC
constexpr std::size_t rtp_header_size = 12;

std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
         (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
}

std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

PacketInfo classify_rtp_or_rtcp(std::span<const std::uint8_t> packet) {
  PacketInfo info;
  if (packet.size() < 2) {
    return info;
  }
  const std::uint8_t second = packet[1];
  if (second >= 192 && second <= 223) {
    // RFC 5761: RTCP packet types 192..223 collide with RTP marker+PT 64..95, which RTP must
    // not use when multiplexed, so this range means RTCP.
    if (packet.size() >= rtcp_min_size) {
      info.kind = PacketKind::rtcp;
      info.ssrc = read_u32(packet, 4);
    }
    return info;
  }
  const std::size_t csrc_count = packet[0] & 0x0fU;
  if (packet.size() < rtp_header_size + 4 * csrc_count) {
    return info;
  }
  info.kind = PacketKind::rtp;
  info.payload_type = static_cast<std::uint8_t>(second & 0x7fU);
  info.sequence = read_u16(packet, 2);
  info.ssrc = read_u32(packet, 8);
  return info;
}

}  // namespace

std::string_view to_string(PacketKind kind) {
  switch (kind) {
    case PacketKind::rtp:
      return "rtp";
    case PacketKind::rtcp:
      return "rtcp";
    case PacketKind::stun:
      return "stun";
    case PacketKind::dtls:
      return "dtls";
    case PacketKind::other:
      return "other";
  }
  return "unknown";
}

PacketInfo classify(std::span<const std::uint8_t> packet) {
  PacketInfo info;
  if (packet.empty()) {
    return info;
  }
  const std::uint8_t first = packet[0];
  if (first <= 3) {
    if (packet.size() >= stun_header_size && read_u32(packet, 4) == stun_magic_cookie) {
      info.kind = PacketKind::stun;
    }
  } else if (first >= 20 && first <= 63) {
    info.kind = PacketKind::dtls;
  } else if (first >= 128 && first <= 191) {
    info = classify_rtp_or_rtcp(packet);
  }
  return info;
}

}  // namespace mpx::relay::media
