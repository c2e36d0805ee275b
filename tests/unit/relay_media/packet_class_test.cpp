// RFC 7983 classification: every first-byte range, the RTP/RTCP split of RFC 5761, the header
// fields, and the length checks that keep short or truncated packets out.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "relay/media/packet_class.hpp"

namespace mpx::relay::media {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Version 2, no padding/extension, `csrc_count` CSRCs (zeros appended).
Bytes rtp(std::uint8_t payload_type, std::uint16_t sequence, std::uint32_t ssrc,
          std::uint8_t csrc_count = 0, bool marker = false) {
  Bytes packet{static_cast<std::uint8_t>(0x80 | csrc_count),
               static_cast<std::uint8_t>((marker ? 0x80 : 0) | payload_type),
               static_cast<std::uint8_t>(sequence >> 8),
               static_cast<std::uint8_t>(sequence & 0xff),
               0, 0, 0x12, 0x34,  // timestamp
               static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
               static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
  packet.resize(packet.size() + 4U * csrc_count, 0);
  packet.resize(packet.size() + 160, 0xd5);  // payload
  return packet;
}

Bytes rtcp(std::uint8_t packet_type, std::uint32_t ssrc) {
  return {0x80, packet_type, 0x00, 0x01,
          static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
          static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
}

Bytes stun_binding_request() {
  Bytes packet{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  packet.resize(20, 0x07);  // transaction id
  return packet;
}

TEST(MediaPacketClass, RtpHeaderFields) {
  const auto info = classify(rtp(8, 0xbeef, 0xdeadbeef));
  EXPECT_EQ(info.kind, PacketKind::rtp);
  EXPECT_EQ(info.ssrc, 0xdeadbeefU);
  EXPECT_EQ(info.sequence, 0xbeef);
  EXPECT_EQ(info.payload_type, 8);
}

TEST(MediaPacketClass, RtpMarkerBitIsNotPartOfThePayloadType) {
  const auto info = classify(rtp(0, 7, 1, 0, true));  // byte 1 = 0x80
  EXPECT_EQ(info.kind, PacketKind::rtp);
  EXPECT_EQ(info.payload_type, 0);
  // Dynamic PT 96..127 with the marker: byte 1 = 224..255, above the RTCP range.
  EXPECT_EQ(classify(rtp(101, 7, 1, 0, true)).kind, PacketKind::rtp);
  EXPECT_EQ(classify(rtp(101, 7, 1, 0, true)).payload_type, 101);
}

TEST(MediaPacketClass, RtpMinimumLengthIsTwelveBytesPlusCsrcs) {
  Bytes header = rtp(0, 1, 2);
  header.resize(12);
  EXPECT_EQ(classify(header).kind, PacketKind::rtp);
  header.resize(11);
  EXPECT_EQ(classify(header).kind, PacketKind::other);

  Bytes with_csrcs = rtp(0, 1, 2, 15);
  with_csrcs.resize(12 + 4 * 15);
  EXPECT_EQ(classify(with_csrcs).kind, PacketKind::rtp);
  with_csrcs.resize(12 + 4 * 15 - 1);
  EXPECT_EQ(classify(with_csrcs).kind, PacketKind::other);
  Bytes one_csrc_missing = rtp(0, 1, 2, 2);
  one_csrc_missing.resize(12 + 4);
  EXPECT_EQ(classify(one_csrc_missing).kind, PacketKind::other);
}

TEST(MediaPacketClass, RtcpPacketTypeRangeOfRfc5761) {
  for (const int type : {192, 200, 201, 202, 203, 204, 205, 206, 207, 223}) {
    const auto info = classify(rtcp(static_cast<std::uint8_t>(type), 0xcafef00d));
    EXPECT_EQ(info.kind, PacketKind::rtcp) << type;
    EXPECT_EQ(info.ssrc, 0xcafef00dU) << type;
    EXPECT_EQ(info.sequence, 0) << type;
  }
  // Just outside the range: RTP (marker set, PT 63 or 96).
  EXPECT_EQ(classify(rtp(63, 1, 1, 0, true)).kind, PacketKind::rtp);   // byte 1 = 191
  EXPECT_EQ(classify(rtp(96, 1, 1, 0, true)).kind, PacketKind::rtp);   // byte 1 = 224
}

TEST(MediaPacketClass, RtcpShorterThanEightBytesIsOther) {
  Bytes packet = rtcp(200, 1);
  packet.resize(7);
  EXPECT_EQ(classify(packet).kind, PacketKind::other);
  packet.resize(2);
  EXPECT_EQ(classify(packet).kind, PacketKind::other);
}

TEST(MediaPacketClass, VersionOtherThanTwoIsNotRtp) {
  Bytes version1 = rtp(0, 1, 2);
  version1[0] = 0x40;  // version 1
  EXPECT_EQ(classify(version1).kind, PacketKind::other);
  Bytes version0 = rtp(0, 1, 2);
  version0[0] = 0x00;  // version 0: the STUN range, but no cookie
  EXPECT_EQ(classify(version0).kind, PacketKind::other);
  Bytes version3 = rtp(0, 1, 2);
  version3[0] = 0xc0;
  EXPECT_EQ(classify(version3).kind, PacketKind::other);
  Bytes rtcp_version1 = rtcp(200, 1);
  rtcp_version1[0] = 0x40;
  EXPECT_EQ(classify(rtcp_version1).kind, PacketKind::other);
}

TEST(MediaPacketClass, StunNeedsTwentyBytesAndTheMagicCookie) {
  EXPECT_EQ(classify(stun_binding_request()).kind, PacketKind::stun);
  Bytes response = stun_binding_request();
  response[0] = 0x01;  // Binding success response 0x0101
  response[1] = 0x01;
  EXPECT_EQ(classify(response).kind, PacketKind::stun);

  Bytes short_packet = stun_binding_request();
  short_packet.resize(19);
  EXPECT_EQ(classify(short_packet).kind, PacketKind::other);

  Bytes no_cookie = stun_binding_request();
  no_cookie[7] = 0x43;
  EXPECT_EQ(classify(no_cookie).kind, PacketKind::other);

  Bytes first_byte_four = stun_binding_request();
  first_byte_four[0] = 4;  // outside 0..3
  EXPECT_EQ(classify(first_byte_four).kind, PacketKind::other);
}

TEST(MediaPacketClass, DtlsRange) {
  for (const int first : {20, 22, 23, 63}) {
    Bytes record{static_cast<std::uint8_t>(first), 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(classify(record).kind, PacketKind::dtls) << first;
  }
  EXPECT_EQ(classify(Bytes{19, 0xfe, 0xfd}).kind, PacketKind::other);  // ZRTP range
  EXPECT_EQ(classify(Bytes{64, 0, 0, 0}).kind, PacketKind::other);     // TURN channel
}

TEST(MediaPacketClass, EmptyAndTinyPacketsAreOther) {
  EXPECT_EQ(classify({}).kind, PacketKind::other);
  EXPECT_EQ(classify(Bytes{0x80}).kind, PacketKind::other);
  EXPECT_EQ(classify(Bytes{0x00}).kind, PacketKind::other);
  EXPECT_EQ(classify(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
                .kind,
            PacketKind::other);
  const PacketInfo other = classify(Bytes{0x80});
  EXPECT_EQ(other, PacketInfo{});
}

// Every first byte and every length up to 40: classification never reads out of bounds (ASan
// builds check it) and the RTP/RTCP results only come from the version-2 range.
TEST(MediaPacketClass, EveryFirstByteAndShortLength) {
  for (int first = 0; first < 256; ++first) {
    for (std::size_t size = 1; size <= 40; ++size) {
      Bytes packet(size, 0xc8);
      packet[0] = static_cast<std::uint8_t>(first);
      const auto kind = classify(packet).kind;
      if (kind == PacketKind::rtp || kind == PacketKind::rtcp) {
        EXPECT_GE(first, 128);
        EXPECT_LE(first, 191);
      }
      if (kind == PacketKind::stun) {
        ADD_FAILURE() << "no cookie, yet STUN: " << first << " " << size;
      }
    }
  }
}

TEST(MediaPacketClass, KindNames) {
  EXPECT_EQ(to_string(PacketKind::rtp), "rtp");
  EXPECT_EQ(to_string(PacketKind::rtcp), "rtcp");
  EXPECT_EQ(to_string(PacketKind::stun), "stun");
  EXPECT_EQ(to_string(PacketKind::dtls), "dtls");
  EXPECT_EQ(to_string(PacketKind::other), "other");
}

}  // namespace
}  // namespace mpx::relay::media
