// Packet builder and checksum verifier for the BPF fixtures (see packet_builder.hpp).
#include "tests/bpf/packet_builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mpx::test {
namespace {

constexpr std::size_t kMaxIpv4OptionsLen = 40;
constexpr std::uint16_t kIpFlagDontFragment = 0x4000;
constexpr std::uint16_t kIpFlagMoreFragments = 0x2000;
constexpr std::uint16_t kIpFragmentOffsetMask = 0x1fff;

void put_u16(Bytes& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

void store_u16(std::span<std::uint8_t> at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 8);
  at[1] = static_cast<std::uint8_t>(value & 0xff);
}

std::uint16_t load_u16(std::span<const std::uint8_t> at) {
  return static_cast<std::uint16_t>((at[0] << 8) | at[1]);
}

void append(Bytes& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Ones'-complement sum of 16-bit big-endian words, not yet folded.
std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  }
  if (i < bytes.size()) {
    sum += static_cast<std::uint32_t>(bytes[i] << 8);
  }
  return sum;
}

std::uint32_t pseudo_header_sum(const Ipv4Address& src, const Ipv4Address& dst,
                                std::size_t udp_length) {
  std::uint32_t sum = sum_words(src, 0);
  sum = sum_words(dst, sum);
  sum += kIpProtoUdp;
  sum += static_cast<std::uint32_t>(udp_length);
  return sum;
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial_sum) {
  std::uint32_t sum = sum_words(bytes, initial_sum);
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint16_t udp4_checksum(const Ipv4Address& src, const Ipv4Address& dst,
                            std::span<const std::uint8_t> udp_datagram_bytes) {
  if (udp_datagram_bytes.size() < kUdpHeaderLen) {
    throw std::invalid_argument("udp4_checksum: shorter than a UDP header");
  }
  Bytes copy(udp_datagram_bytes.begin(), udp_datagram_bytes.end());
  copy[6] = 0;
  copy[7] = 0;
  const std::uint16_t checksum =
      internet_checksum(copy, pseudo_header_sum(src, dst, udp_datagram_bytes.size()));
  return checksum == 0 ? 0xffff : checksum;
}

Bytes ethernet_frame(const EthernetSpec& eth, std::uint16_t ethertype,
                     std::span<const std::uint8_t> payload) {
  Bytes frame;
  frame.reserve(kEthernetHeaderLen + kVlanTagLen + payload.size());
  append(frame, eth.dst);
  append(frame, eth.src);
  if (eth.vlan_tci) {
    put_u16(frame, kEthertypeVlan);
    put_u16(frame, *eth.vlan_tci);
  }
  put_u16(frame, ethertype);
  append(frame, payload);
  return frame;
}

Bytes ipv4_packet(const Ipv4Spec& ip, std::span<const std::uint8_t> payload) {
  if (ip.options.size() % 4 != 0 || ip.options.size() > kMaxIpv4OptionsLen) {
    throw std::invalid_argument("ipv4_packet: options must be a multiple of 4, at most 40 bytes");
  }
  if (ip.fragment_offset % 8 != 0 || ip.fragment_offset / 8 > kIpFragmentOffsetMask) {
    throw std::invalid_argument("ipv4_packet: fragment offset must be a multiple of 8 below 65536");
  }
  const std::size_t header_len = kIpv4HeaderLen + ip.options.size();
  const std::size_t total_len = header_len + payload.size();
  if (total_len > 0xffff) {
    throw std::invalid_argument("ipv4_packet: datagram longer than 65535 bytes");
  }
  std::uint16_t flags_and_offset = static_cast<std::uint16_t>(ip.fragment_offset / 8);
  if (ip.dont_fragment) {
    flags_and_offset |= kIpFlagDontFragment;
  }
  if (ip.more_fragments) {
    flags_and_offset |= kIpFlagMoreFragments;
  }

  Bytes packet;
  packet.reserve(total_len);
  packet.push_back(static_cast<std::uint8_t>(0x40 | (header_len / 4)));
  packet.push_back(ip.tos);
  put_u16(packet, static_cast<std::uint16_t>(total_len));
  put_u16(packet, ip.id);
  put_u16(packet, flags_and_offset);
  packet.push_back(ip.ttl);
  packet.push_back(ip.protocol);
  put_u16(packet, 0);  // header checksum, filled below
  append(packet, ip.src);
  append(packet, ip.dst);
  append(packet, ip.options);
  refresh_ipv4_header_checksum(packet);
  append(packet, payload);
  return packet;
}

Bytes udp_datagram(const Ipv4Spec& ip, const UdpSpec& udp, std::span<const std::uint8_t> payload) {
  const std::size_t udp_len = kUdpHeaderLen + payload.size();
  if (udp_len > 0xffff) {
    throw std::invalid_argument("udp_datagram: longer than 65535 bytes");
  }
  Bytes datagram;
  datagram.reserve(udp_len);
  put_u16(datagram, udp.src_port);
  put_u16(datagram, udp.dst_port);
  put_u16(datagram, static_cast<std::uint16_t>(udp_len));
  put_u16(datagram, 0);
  append(datagram, payload);
  if (udp.with_checksum) {
    store_u16(std::span(datagram).subspan(6, 2), udp4_checksum(ip.src, ip.dst, datagram));
  }
  return datagram;
}

Bytes udp4_frame(const EthernetSpec& eth, const Ipv4Spec& ip, const UdpSpec& udp,
                 std::span<const std::uint8_t> payload) {
  return ethernet_frame(eth, kEthertypeIpv4, ipv4_packet(ip, udp_datagram(ip, udp, payload)));
}

void refresh_ipv4_header_checksum(std::span<std::uint8_t> ip_header) {
  if (ip_header.size() < kIpv4HeaderLen) {
    throw std::invalid_argument("refresh_ipv4_header_checksum: shorter than an IPv4 header");
  }
  const std::size_t header_len = std::size_t{ip_header[0] & 0x0fu} * 4;
  if (header_len < kIpv4HeaderLen || header_len > ip_header.size()) {
    throw std::invalid_argument("refresh_ipv4_header_checksum: IHL out of range");
  }
  store_u16(ip_header.subspan(10, 2), 0);
  store_u16(ip_header.subspan(10, 2), internet_checksum(ip_header.first(header_len)));
}

mpx::Result<void> verify_udp4_checksums(std::span<const std::uint8_t> frame) {
  if (frame.size() < kEthernetHeaderLen) {
    return mpx::Error{"frame shorter than an Ethernet header"};
  }
  std::size_t l3 = kEthernetHeaderLen;
  std::uint16_t ethertype = load_u16(frame.subspan(12, 2));
  if (ethertype == kEthertypeVlan) {
    if (frame.size() < kEthernetHeaderLen + kVlanTagLen) {
      return mpx::Error{"frame ends inside the 802.1Q tag"};
    }
    ethertype = load_u16(frame.subspan(16, 2));
    l3 += kVlanTagLen;
  }
  if (ethertype != kEthertypeIpv4) {
    return mpx::Error{fmt::format("ethertype {:#06x} is not IPv4", ethertype)};
  }
  const auto ip = frame.subspan(l3);
  if (ip.size() < kIpv4HeaderLen) {
    return mpx::Error{"frame ends inside the IPv4 header"};
  }
  const std::size_t header_len = std::size_t{ip[0] & 0x0fu} * 4;
  const std::size_t total_len = load_u16(ip.subspan(2, 2));
  if (header_len < kIpv4HeaderLen || total_len < header_len || total_len > ip.size()) {
    return mpx::Error{fmt::format("IPv4 IHL {} / total length {} do not fit a {}-byte packet",
                                  header_len / 4, total_len, ip.size())};
  }
  if (internet_checksum(ip.first(header_len)) != 0) {
    Bytes copy(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(header_len));
    refresh_ipv4_header_checksum(copy);
    return mpx::Error{fmt::format("IPv4 header checksum is {:#06x}, expected {:#06x}",
                                  load_u16(ip.subspan(10, 2)),
                                  load_u16(std::span(copy).subspan(10, 2)))};
  }
  const bool fragment =
      (load_u16(ip.subspan(6, 2)) & (kIpFlagMoreFragments | kIpFragmentOffsetMask)) != 0;
  if (ip[9] != kIpProtoUdp || fragment) {
    return mpx::outcome::success();
  }
  const auto udp = ip.subspan(header_len, total_len - header_len);
  if (udp.size() < kUdpHeaderLen) {
    return mpx::Error{"IPv4 payload shorter than a UDP header"};
  }
  const std::size_t udp_len = load_u16(udp.subspan(4, 2));
  if (udp_len < kUdpHeaderLen || udp_len > udp.size()) {
    return mpx::Error{
        fmt::format("UDP length {} does not fit a {}-byte IPv4 payload", udp_len, udp.size())};
  }
  const std::uint16_t stored = load_u16(udp.subspan(6, 2));
  if (stored == 0) {
    return mpx::outcome::success();  // sender chose no checksum
  }
  Ipv4Address src{};
  Ipv4Address dst{};
  std::copy_n(ip.begin() + 12, 4, src.begin());
  std::copy_n(ip.begin() + 16, 4, dst.begin());
  const std::uint16_t expected = udp4_checksum(src, dst, udp.first(udp_len));
  if (stored != expected) {
    return mpx::Error{fmt::format("UDP checksum is {:#06x}, expected {:#06x}", stored, expected)};
  }
  return mpx::outcome::success();
}

}  // namespace mpx::test
