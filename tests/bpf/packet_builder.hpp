// Test packet builder for the BPF fixtures: Ethernet (+ optional 802.1Q tag), IPv4 (options and
// fragment flags on request), UDP with correct checksums, and a verifier of IPv4/UDP checksums.
// Builds the frames that tests feed to BPF_PROG_TEST_RUN (the PKTGEN step of a Cilium-style
// fixture). Misuse (options not a multiple of 4, a datagram over 65535 bytes) throws
// std::invalid_argument: that is a bug in the test, not input under test.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"

namespace mpx::test {

using Bytes = std::vector<std::uint8_t>;
using MacAddress = std::array<std::uint8_t, 6>;
using Ipv4Address = std::array<std::uint8_t, 4>;  // in wire order: {192, 0, 2, 1}

inline constexpr std::uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEthertypeArp = 0x0806;
inline constexpr std::uint16_t kEthertypeVlan = 0x8100;  // 802.1Q
inline constexpr std::uint16_t kEthertypeQinQ = 0x88a8;  // 802.1ad service tag
inline constexpr std::uint16_t kEthertypeIpv6 = 0x86dd;
inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::size_t kEthernetHeaderLen = 14;
inline constexpr std::size_t kVlanTagLen = 4;
inline constexpr std::size_t kIpv4HeaderLen = 20;  // without options
inline constexpr std::size_t kUdpHeaderLen = 8;

struct EthernetSpec {
  MacAddress dst{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
  MacAddress src{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  std::optional<std::uint16_t> vlan_tci;  // when set, one 802.1Q tag before the ethertype
};

struct Ipv4Spec {
  Ipv4Address src{192, 0, 2, 1};
  Ipv4Address dst{198, 51, 100, 1};
  std::uint8_t protocol = kIpProtoUdp;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t id = 0x1234;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in bytes; must be a multiple of 8
  Bytes options;                      // a multiple of 4 bytes, at most 40
};

struct UdpSpec {
  std::uint16_t src_port = 40000;
  std::uint16_t dst_port = 50000;
  bool with_checksum = true;  // false sends 0: "no checksum", allowed over IPv4
};

// Ethernet header (+ tag) followed by payload; no padding to the 60-byte minimum.
Bytes ethernet_frame(const EthernetSpec& eth, std::uint16_t ethertype,
                     std::span<const std::uint8_t> payload);

// IPv4 header with IHL, total length and header checksum computed, followed by payload.
Bytes ipv4_packet(const Ipv4Spec& ip, std::span<const std::uint8_t> payload);

// UDP header + payload; the checksum covers the pseudo-header built from ip.src and ip.dst.
Bytes udp_datagram(const Ipv4Spec& ip, const UdpSpec& udp, std::span<const std::uint8_t> payload);

// The three layers together: the usual "UDP/IPv4 over Ethernet" test frame.
Bytes udp4_frame(const EthernetSpec& eth, const Ipv4Spec& ip, const UdpSpec& udp,
                 std::span<const std::uint8_t> payload);

// RFC 1071 ones'-complement checksum of bytes (odd length padded with a zero byte), starting from
// a partial sum (e.g. of a pseudo-header). Returns the value to store in the header.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial_sum = 0);

// The value for the checksum field of a UDP datagram (header + payload) between src and dst,
// computed as if the field were zero (its current value is ignored). A sum of 0 is sent as
// 0xffff (RFC 768), because 0 means "no checksum".
std::uint16_t udp4_checksum(const Ipv4Address& src, const Ipv4Address& dst,
                            std::span<const std::uint8_t> udp_datagram_bytes);

// Recomputes the header checksum of the IPv4 header at the start of ip_header (after a test
// patched a field).
void refresh_ipv4_header_checksum(std::span<std::uint8_t> ip_header);

// Checks an Ethernet frame (optionally one 802.1Q tag) carrying IPv4: the header checksum, and
// for an unfragmented UDP datagram the UDP checksum (0 = none, accepted). Errors say which and
// what was expected.
mpx::Result<void> verify_udp4_checksums(std::span<const std::uint8_t> frame);

}  // namespace mpx::test
