// BPF_PROG_TEST_RUN table of the XDP and TC programs' verdicts with no flow installed: each frame
// (well-formed, not ours, fragmented, with options, truncated at every layer, malformed) must pass
// unmodified and move exactly the one counter that names why. Flows: forward_test.cpp. Needs root.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "bpf/mpx_shared.h"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

struct VerdictCase {
  std::string name;
  Bytes frame;
  mpx_stat expected;
  // Hooks whose BPF_PROG_TEST_RUN may refuse this input with EINVAL before the program sees it
  // (the kernel checks some headers itself when it builds the test skb). If it accepts it after
  // all, the program must still give the expected verdict and counter.
  std::vector<Hook> kernel_may_refuse = {};
};

void PrintTo(const VerdictCase& verdict_case, std::ostream* out) { *out << verdict_case.name; }

Bytes payload(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  }
  return bytes;
}

Bytes udp_frame(const EthernetSpec& eth = {}, const Ipv4Spec& ip = {}, std::size_t size = 160) {
  return udp4_frame(eth, ip, UdpSpec{}, payload(size));
}

EthernetSpec vlan(std::uint16_t tci) {
  EthernetSpec eth;
  eth.vlan_tci = tci;
  return eth;
}

constexpr std::uint8_t kIpProtoIcmp = 1;

Ipv4Spec carrying(std::uint8_t protocol) {
  Ipv4Spec ip;
  ip.protocol = protocol;
  return ip;
}

Ipv4Spec fragment(std::uint8_t protocol, bool more_fragments, std::uint16_t offset) {
  Ipv4Spec ip = carrying(protocol);
  ip.more_fragments = more_fragments;
  ip.fragment_offset = offset;
  return ip;
}

Ipv4Spec dont_fragment() {
  Ipv4Spec ip;
  ip.dont_fragment = true;
  return ip;
}

Bytes cut(Bytes frame, std::size_t length) {
  frame.resize(length);
  return frame;
}

Bytes padded(Bytes frame, std::size_t length) {
  if (frame.size() < length) {
    frame.resize(length, 0);
  }
  return frame;
}

// Sets an IPv4 header byte of an untagged frame and keeps the header checksum right, so the only
// oddity of the frame is the one under test.
Bytes with_ip_byte(Bytes frame, std::size_t offset, std::uint8_t value) {
  frame[kEthernetHeaderLen + offset] = value;
  const std::size_t ihl = std::size_t{frame[kEthernetHeaderLen] & 0x0fu} * 4;
  if (ihl >= kIpv4HeaderLen && kEthernetHeaderLen + ihl <= frame.size()) {
    refresh_ipv4_header_checksum(std::span(frame).subspan(kEthernetHeaderLen));
  }
  return frame;
}

Bytes with_udp_length(Bytes frame, std::uint16_t udp_length) {
  const std::size_t at = kEthernetHeaderLen + kIpv4HeaderLen + 4;
  frame[at] = static_cast<std::uint8_t>(udp_length >> 8);
  frame[at + 1] = static_cast<std::uint8_t>(udp_length & 0xff);
  return frame;
}

Bytes tcp_segment() {
  Bytes tcp(20, 0);
  tcp[0] = 0x13;  // source port 5060
  tcp[1] = 0xc4;
  tcp[2] = 0xc3;  // destination port 50000
  tcp[3] = 0x50;
  tcp[12] = 0x50;  // data offset 5 words
  tcp[13] = 0x02;  // SYN
  return tcp;
}

Bytes arp_request() {
  return {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,  // Ethernet/IPv4, request
          0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 192,  0,    2,   1,
          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 198,  51,   100, 1};
}

Bytes ipv6_udp() {
  Bytes packet = {0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 17, 64};  // payload 12, UDP, hop limit 64
  const Bytes src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Bytes dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  packet.insert(packet.end(), src.begin(), src.end());
  packet.insert(packet.end(), dst.begin(), dst.end());
  const Bytes udp = {0x9c, 0x40, 0xc3, 0x50, 0x00, 0x0c, 0x00, 0x00, 'R', 'T', 'P', '!'};
  packet.insert(packet.end(), udp.begin(), udp.end());
  return packet;
}

std::vector<VerdictCase> verdict_cases() {
  std::vector<VerdictCase> cases;
  const auto add = [&cases](std::string name, Bytes frame, mpx_stat expected,
                            std::vector<Hook> kernel_may_refuse = {}) {
    cases.push_back({std::move(name), std::move(frame), expected, std::move(kernel_may_refuse)});
  };

  // Well-formed UDP/IPv4: no flow is installed, so these are the "not forwarded" baseline.
  add("udp", udp_frame(), MPX_STAT_PASS_NO_FLOW);
  add("udp_vlan", udp_frame(vlan(100)), MPX_STAT_PASS_NO_FLOW);
  add("udp_empty_payload", udp_frame({}, {}, 0), MPX_STAT_PASS_NO_FLOW);
  add("udp_padded_to_60_bytes", padded(udp_frame({}, {}, 4), 60), MPX_STAT_PASS_NO_FLOW);
  add("udp_dont_fragment_is_not_a_fragment", udp_frame({}, dont_fragment()), MPX_STAT_PASS_NO_FLOW);
  {
    UdpSpec no_checksum;
    no_checksum.with_checksum = false;
    add("udp_without_checksum", udp4_frame({}, {}, no_checksum, payload(20)),
        MPX_STAT_PASS_NO_FLOW);
  }
  // UDP length shorter than the IPv4 payload: the stack trims the tail, so the parser accepts it.
  add("udp_length_shorter_than_ip_payload", with_udp_length(udp_frame(), 8 + 100),
      MPX_STAT_PASS_NO_FLOW);

  // Not IPv4.
  add("arp", ethernet_frame({}, kEthertypeArp, arp_request()), MPX_STAT_PASS_NOT_IPV4);
  add("arp_vlan", ethernet_frame(vlan(100), kEthertypeArp, arp_request()), MPX_STAT_PASS_NOT_IPV4);
  add("ipv6_udp", ethernet_frame({}, kEthertypeIpv6, ipv6_udp()), MPX_STAT_PASS_NOT_IPV4);
  {
    // Only one 802.1Q tag is looked through: a second one is "not IPv4".
    Bytes inner = {0x00, 0xc8, 0x08, 0x00};
    const Bytes ip = ipv4_packet({}, udp_datagram({}, {}, payload(20)));
    inner.insert(inner.end(), ip.begin(), ip.end());
    add("double_8021q_tag", ethernet_frame(vlan(100), kEthertypeVlan, inner),
        MPX_STAT_PASS_NOT_IPV4);
    Bytes service = {0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00};
    service.insert(service.end(), ip.begin(), ip.end());
    add("qinq_8021ad_tag", ethernet_frame({}, kEthertypeQinQ, service), MPX_STAT_PASS_NOT_IPV4);
  }

  // IPv4, not UDP (protocol is decided before fragmentation).
  add("tcp", ethernet_frame({}, kEthertypeIpv4, ipv4_packet(carrying(kIpProtoTcp), tcp_segment())),
      MPX_STAT_PASS_NOT_UDP);
  add("tcp_fragment",
      ethernet_frame({}, kEthertypeIpv4,
                     ipv4_packet(fragment(kIpProtoTcp, true, 0), tcp_segment())),
      MPX_STAT_PASS_NOT_UDP);
  add("icmp", ethernet_frame({}, kEthertypeIpv4, ipv4_packet(carrying(kIpProtoIcmp), Bytes(8, 0))),
      MPX_STAT_PASS_NOT_UDP);

  // Fragments: first (MF, offset 0), middle (MF, offset), last (offset only).
  const Bytes datagram = udp_datagram({}, {}, payload(160));
  add("first_fragment",
      ethernet_frame({}, kEthertypeIpv4, ipv4_packet(fragment(kIpProtoUdp, true, 0), datagram)),
      MPX_STAT_PASS_FRAGMENT);
  add("middle_fragment",
      ethernet_frame({}, kEthertypeIpv4,
                     ipv4_packet(fragment(kIpProtoUdp, true, 1480), payload(80))),
      MPX_STAT_PASS_FRAGMENT);
  add("last_fragment",
      ethernet_frame({}, kEthertypeIpv4,
                     ipv4_packet(fragment(kIpProtoUdp, false, 2960), payload(80))),
      MPX_STAT_PASS_FRAGMENT);
  add("last_fragment_vlan",
      ethernet_frame(vlan(7), kEthertypeIpv4,
                     ipv4_packet(fragment(kIpProtoUdp, false, 8), payload(80))),
      MPX_STAT_PASS_FRAGMENT);
  add("fragment_with_options",
      ethernet_frame({}, kEthertypeIpv4,
                     ipv4_packet({.more_fragments = true, .options = {1, 1, 1, 0}}, datagram)),
      MPX_STAT_PASS_FRAGMENT);

  // Options (IHL > 5).
  add("ip_options_nop", udp_frame({}, Ipv4Spec{.options = {0x01, 0x01, 0x01, 0x00}}),
      MPX_STAT_PASS_IP_OPTIONS);
  add("ip_options_router_alert_vlan", udp_frame(vlan(100), Ipv4Spec{.options = {0x94, 4, 0, 0}}),
      MPX_STAT_PASS_IP_OPTIONS);
  add("ip_options_40_bytes", udp_frame({}, Ipv4Spec{.options = Bytes(40, 0x01)}),
      MPX_STAT_PASS_IP_OPTIONS);

  // Truncated at every layer. BPF_PROG_TEST_RUN refuses a frame shorter than an Ethernet header
  // for both hooks, and for TC an IPv4-ethertype frame shorter than an IPv4 header (kernel 6.18);
  // the VLAN-tagged variants reach the TC program's IPv4 bounds check all the same.
  const Bytes tagged = udp_frame(vlan(100));
  const Bytes plain = udp_frame();
  add("truncated_in_ethernet_header", cut(plain, kEthernetHeaderLen - 1), MPX_STAT_PASS_TRUNCATED,
      {Hook::xdp, Hook::tc});
  add("truncated_vlan_tag_missing", cut(tagged, kEthernetHeaderLen), MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_vlan_tag", cut(tagged, kEthernetHeaderLen + 2), MPX_STAT_PASS_TRUNCATED);
  add("truncated_ipv4_header_missing", cut(plain, kEthernetHeaderLen), MPX_STAT_PASS_TRUNCATED,
      {Hook::tc});
  add("truncated_in_ipv4_header", cut(plain, kEthernetHeaderLen + 19), MPX_STAT_PASS_TRUNCATED,
      {Hook::tc});
  add("truncated_ipv4_header_missing_vlan", cut(tagged, kEthernetHeaderLen + kVlanTagLen),
      MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_ipv4_header_vlan", cut(tagged, kEthernetHeaderLen + kVlanTagLen + 10),
      MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_ip_options",
      cut(udp_frame({}, Ipv4Spec{.options = Bytes(8, 0x01)}), kEthernetHeaderLen + 24),
      MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_udp_header", cut(plain, kEthernetHeaderLen + kIpv4HeaderLen + 5),
      MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_udp_header_vlan",
      cut(tagged, kEthernetHeaderLen + kVlanTagLen + kIpv4HeaderLen + 7), MPX_STAT_PASS_TRUNCATED);
  add("truncated_in_udp_payload", cut(plain, plain.size() - 1), MPX_STAT_PASS_TRUNCATED);
  // The IPv4 datagram itself is too short for a UDP header, even if Ethernet padding follows.
  add("ip_datagram_shorter_than_udp_header",
      ethernet_frame({}, kEthertypeIpv4, ipv4_packet({}, Bytes{0x9c, 0x40, 0xc3, 0x50})),
      MPX_STAT_PASS_TRUNCATED);
  add("ip_datagram_shorter_than_udp_header_padded",
      padded(ethernet_frame({}, kEthertypeIpv4, ipv4_packet({}, Bytes{0x9c, 0x40, 0xc3, 0x50})),
             60),
      MPX_STAT_PASS_TRUNCATED);

  // Header fields that contradict each other.
  add("ipv4_ethertype_with_version_6", with_ip_byte(plain, 0, 0x65), MPX_STAT_PASS_MALFORMED);
  add("ipv4_ihl_below_5", with_ip_byte(plain, 0, 0x44), MPX_STAT_PASS_MALFORMED);
  add("ipv4_total_length_below_header", with_ip_byte(with_ip_byte(plain, 2, 0), 3, 19),
      MPX_STAT_PASS_MALFORMED);
  add("udp_length_below_8", with_udp_length(plain, 7), MPX_STAT_PASS_MALFORMED);
  add("udp_length_beyond_ip_payload",
      with_udp_length(plain, static_cast<std::uint16_t>(plain.size() - kEthernetHeaderLen -
                                                        kIpv4HeaderLen + 1)),
      MPX_STAT_PASS_MALFORMED);
  return cases;
}

class BpfVerdict : public ::testing::TestWithParam<std::tuple<Hook, VerdictCase>> {
 protected:
  void SetUp() override { MPX_REQUIRE(missing_root()); }
};

TEST_P(BpfVerdict, PassesUnmodifiedAndCountsTheReason) {
  const auto& [hook, verdict_case] = GetParam();
  const auto outcome = run_counted(hook, verdict_case.frame);
  if (!outcome.has_value() && std::ranges::count(verdict_case.kernel_may_refuse, hook) != 0) {
    EXPECT_NE(outcome.error().message.find(std::strerror(EINVAL)), std::string::npos)
        << outcome.error().message;
    return;
  }
  ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
  const CountedRun& counted = outcome.value();
  EXPECT_EQ(counted.run.verdict, hook_program(hook).pass_verdict);
  EXPECT_EQ(counted.moved, (CounterMoves{{stat_name(verdict_case.expected), 1}}));
  EXPECT_EQ(counted.run.output, verdict_case.frame) << "the packet must leave unmodified";
}

INSTANTIATE_TEST_SUITE_P(Cases, BpfVerdict,
                         ::testing::Combine(::testing::Values(Hook::xdp, Hook::tc),
                                            ::testing::ValuesIn(verdict_cases())),
                         [](const ::testing::TestParamInfo<BpfVerdict::ParamType>& param_info) {
                           return std::string(hook_name(std::get<0>(param_info.param))) + "_" +
                                  std::get<1>(param_info.param).name;
                         });

class BpfHook : public ::testing::TestWithParam<Hook> {
 protected:
  void SetUp() override { MPX_REQUIRE(missing_root()); }
};

TEST_P(BpfHook, CounterMapHasOneSlotPerStat) {
  const auto object = loaded_object(GetParam());
  ASSERT_TRUE(object.has_value()) << object.error().message;
  const auto sums = object.value()->percpu_u64_sums(MPX_MAP_STATS);
  ASSERT_TRUE(sums.has_value()) << sums.error().message;
  EXPECT_EQ(sums.value().size(), std::size_t{MPX_STAT_MAX});
}

TEST_P(BpfHook, CountsEveryRunOfARepeatedTestRun) {
  const auto object = loaded_object(GetParam());
  ASSERT_TRUE(object.has_value()) << object.error().message;
  LoadedBpfObject& loaded = *object.value();
  const auto before = loaded.percpu_u64_sums(MPX_MAP_STATS);
  ASSERT_TRUE(before.has_value()) << before.error().message;
  const auto run = loaded.run(hook_program(GetParam()).program, udp_frame(), {.repeat = 1000});
  ASSERT_TRUE(run.has_value()) << run.error().message;
  const auto after = loaded.percpu_u64_sums(MPX_MAP_STATS);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(counter_moves(before.value(), after.value()), (CounterMoves{{"PASS_NO_FLOW", 1000}}));
  EXPECT_GT(run.value().duration_ns, 0u);
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfHook, ::testing::Values(Hook::xdp, Hook::tc),
                         [](const ::testing::TestParamInfo<Hook>& param_info) {
                           return std::string(hook_name(param_info.param));
                         });

}  // namespace
}  // namespace mpx::test
