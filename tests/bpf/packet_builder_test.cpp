// Unit tests of the BPF fixtures' packet builder: its checksums against hand-computed packets, its
// layout of VLAN / options / fragment fields, and the checksum verifier's verdicts. No root needed.
#include "tests/bpf/packet_builder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace mpx::test {
namespace {

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The frame of the hand-computed example below:
//   02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 192.0.2.1 -> 198.51.100.1, id 0x1234, TTL 64,
//   UDP 40000 -> 50000, payload "RTP!".
// IPv4 header words: 4500 + 0020 + 1234 + 0000 + 4011 + (0000) + c000 + 0201 + c633 + 6401
//   = 0x2839a; fold: 0x839a + 0x2 = 0x839c; complement: 0x7c63.
// UDP: pseudo-header c000 + 0201 + c633 + 6401 + 0011 (protocol) + 000c (UDP length)
//   + header 9c40 + c350 + 000c + (0000) + payload 5254 + 5021 = 0x3ee63;
//   fold: 0xee63 + 0x3 = 0xee66; complement: 0x1199.
// clang-format off
const char* const kKnownFrameHex =
    "020000000002"  "020000000001"  "0800"
    "45000020" "12340000" "40117c63" "c0000201" "c6336401"
    "9c40c350" "000c1199" "52545021";
// clang-format on

Bytes known_payload() { return {'R', 'T', 'P', '!'}; }

TEST(PacketBuilder, BuildsTheHandComputedUdpFrameByteForByte) {
  const Bytes frame = udp4_frame(EthernetSpec{}, Ipv4Spec{}, UdpSpec{}, known_payload());
  EXPECT_EQ(frame, from_hex(kKnownFrameHex));
  EXPECT_TRUE(verify_udp4_checksums(frame).has_value());
}

// The IPv4 header of the worked example on Wikipedia's "Internet checksum" / IPv4 header
// checksum page: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
TEST(PacketBuilder, Ipv4HeaderChecksumMatchesThePublishedExample) {
  Ipv4Spec ip;
  ip.src = {192, 168, 0, 1};
  ip.dst = {192, 168, 0, 199};
  ip.id = 0;
  ip.dont_fragment = true;
  const Bytes packet = ipv4_packet(ip, Bytes(0x73 - kIpv4HeaderLen, 0));
  const Bytes header(packet.begin(), packet.begin() + kIpv4HeaderLen);
  EXPECT_EQ(header, from_hex("45000073000040004011b861c0a80001c0a800c7"));
  EXPECT_EQ(internet_checksum(header), 0) << "a correct header sums to zero";
}

TEST(PacketBuilder, InternetChecksumPadsAnOddByteWithZero) {
  const Bytes odd{0x12, 0x34, 0x56};
  const Bytes even{0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(internet_checksum(odd), internet_checksum(even));
  EXPECT_EQ(internet_checksum(odd), static_cast<std::uint16_t>(~(0x1234 + 0x5600) & 0xffff));
}

TEST(PacketBuilder, UdpChecksumOfZeroIsSentAsAllOnes) {
  Bytes datagram = udp_datagram(Ipv4Spec{}, UdpSpec{}, known_payload());
  ASSERT_EQ(udp4_checksum(Ipv4Spec{}.src, Ipv4Spec{}.dst, datagram), 0x1199);
  // Add 0x1199 to a payload word (0x5254 -> 0x63ed): the folded sum becomes 0xffff, its
  // complement 0, which must go on the wire as 0xffff because 0 means "no checksum".
  datagram[8] = 0x63;
  datagram[9] = 0xed;
  EXPECT_EQ(udp4_checksum(Ipv4Spec{}.src, Ipv4Spec{}.dst, datagram), 0xffff);
}

TEST(PacketBuilder, UdpWithoutChecksumCarriesZero) {
  UdpSpec udp;
  udp.with_checksum = false;
  const Bytes frame = udp4_frame(EthernetSpec{}, Ipv4Spec{}, udp, known_payload());
  EXPECT_EQ(frame[kEthernetHeaderLen + kIpv4HeaderLen + 6], 0);
  EXPECT_EQ(frame[kEthernetHeaderLen + kIpv4HeaderLen + 7], 0);
  EXPECT_TRUE(verify_udp4_checksums(frame).has_value());
}

TEST(PacketBuilder, VlanTagSitsBetweenMacsAndEthertype) {
  EthernetSpec eth;
  eth.vlan_tci = 0x2064;  // priority 1, VLAN 100
  const Bytes frame = udp4_frame(eth, Ipv4Spec{}, UdpSpec{}, known_payload());
  const Bytes untagged = from_hex(kKnownFrameHex);
  ASSERT_EQ(frame.size(), untagged.size() + kVlanTagLen);
  EXPECT_EQ(Bytes(frame.begin() + 12, frame.begin() + 18), from_hex("810020640800"));
  EXPECT_EQ(Bytes(frame.begin() + 18, frame.end()), Bytes(untagged.begin() + 14, untagged.end()));
  EXPECT_TRUE(verify_udp4_checksums(frame).has_value());
}

TEST(PacketBuilder, OptionsSetIhlAndTotalLength) {
  Ipv4Spec ip;
  ip.options = {0x94, 0x04, 0x00, 0x00};  // Router Alert
  const Bytes packet = ipv4_packet(ip, Bytes(10, 0xab));
  EXPECT_EQ(packet[0], 0x46);
  EXPECT_EQ(packet[2], 0);
  EXPECT_EQ(packet[3], 24 + 10);
  EXPECT_EQ(internet_checksum(std::span(packet).first(24)), 0);
  EXPECT_EQ(Bytes(packet.begin() + 20, packet.begin() + 24), ip.options);
}

TEST(PacketBuilder, FragmentFieldsEncodeFlagsAndOffsetInEightByteUnits) {
  Ipv4Spec ip;
  ip.more_fragments = true;
  ip.fragment_offset = 1480;
  const Bytes packet = ipv4_packet(ip, Bytes(8, 0));
  EXPECT_EQ(packet[6], 0x20 | ((1480 / 8) >> 8));
  EXPECT_EQ(packet[7], (1480 / 8) & 0xff);
  ip.more_fragments = false;
  ip.fragment_offset = 0;
  ip.dont_fragment = true;
  const Bytes df = ipv4_packet(ip, Bytes(8, 0));
  EXPECT_EQ(df[6], 0x40);
  EXPECT_EQ(df[7], 0x00);
}

TEST(PacketBuilder, RejectsMisuseInsteadOfBuildingNonsense) {
  Ipv4Spec ip;
  ip.options = {0x01, 0x01, 0x01};
  EXPECT_THROW(ipv4_packet(ip, {}), std::invalid_argument);
  ip.options.clear();
  ip.fragment_offset = 100;
  EXPECT_THROW(ipv4_packet(ip, {}), std::invalid_argument);
  ip.fragment_offset = 0;
  EXPECT_THROW(ipv4_packet(ip, Bytes(0x10000, 0)), std::invalid_argument);
}

TEST(ChecksumVerifier, ReportsACorruptIpv4HeaderChecksum) {
  Bytes frame = from_hex(kKnownFrameHex);
  frame[kEthernetHeaderLen + 11] ^= 0x01;
  const auto verdict = verify_udp4_checksums(frame);
  ASSERT_FALSE(verdict.has_value());
  EXPECT_NE(verdict.error().message.find("IPv4 header checksum"), std::string::npos)
      << verdict.error().message;
  EXPECT_NE(verdict.error().message.find("0x7c63"), std::string::npos) << verdict.error().message;
}

TEST(ChecksumVerifier, ReportsARewrittenAddressWithoutUdpChecksumUpdate) {
  // What a forwarder bug looks like: the destination address changed, the IPv4 header checksum
  // was fixed, the UDP checksum (which covers the address via the pseudo-header) was not.
  Bytes frame = from_hex(kKnownFrameHex);
  frame[kEthernetHeaderLen + 19] = 0x02;  // 198.51.100.2
  refresh_ipv4_header_checksum(std::span(frame).subspan(kEthernetHeaderLen));
  const auto verdict = verify_udp4_checksums(frame);
  ASSERT_FALSE(verdict.has_value());
  EXPECT_NE(verdict.error().message.find("UDP checksum is 0x1199"), std::string::npos)
      << verdict.error().message;
}

TEST(ChecksumVerifier, ReportsACorruptPayload) {
  Bytes frame = from_hex(kKnownFrameHex);
  frame.back() ^= 0xff;
  EXPECT_FALSE(verify_udp4_checksums(frame).has_value());
}

TEST(ChecksumVerifier, RejectsFramesItCannotCheck) {
  EXPECT_FALSE(verify_udp4_checksums(Bytes(10, 0)).has_value());
  Bytes frame = from_hex(kKnownFrameHex);
  frame.resize(kEthernetHeaderLen + 10);
  EXPECT_FALSE(verify_udp4_checksums(frame).has_value());
  const Bytes arp = ethernet_frame(EthernetSpec{}, kEthertypeArp, Bytes(28, 0));
  EXPECT_FALSE(verify_udp4_checksums(arp).has_value());
  Bytes bad_udp_len = from_hex(kKnownFrameHex);
  bad_udp_len[kEthernetHeaderLen + kIpv4HeaderLen + 5] = 0x40;
  EXPECT_FALSE(verify_udp4_checksums(bad_udp_len).has_value());
}

}  // namespace
}  // namespace mpx::test
