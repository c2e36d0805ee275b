// BPF_PROG_TEST_RUN fixtures of the forwarder, Katran / Cilium style: an input frame, the expected
// verdict and counter, and the expected output frame built FROM SCRATCH by the packet builder
// (its checksums computed anew, not incrementally), compared byte for byte. Runs in a
// ForwardingNetns so bpf_fib_lookup has real routes and static neighbours. Needs root.
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <time.h>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "bpf/mpx_shared.h"
#include "tests/bpf/forwarding_netns.hpp"
#include "tests/bpf/mpx_programs.hpp"
#include "tests/bpf/packet_builder.hpp"
#include "tests/support/privileged.hpp"

namespace mpx::test {
namespace {

using Host = ForwardingHost;

constexpr std::uint16_t kRelayRtpPort = 50000;
constexpr std::uint16_t kRelayRtcpPort = 50001;
constexpr std::uint16_t kCallerRtpPort = 40000;
constexpr std::uint16_t kCalleeRtpPort = 7078;
constexpr std::uint16_t kRelayOutRtpPort = 50002;

__be32 be32_of(const Ipv4Address& address) {
  __be32 value = 0;
  std::memcpy(&value, address.data(), sizeof value);
  return value;
}

Bytes payload(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 13 + 5);
  }
  return bytes;
}

std::uint64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// One direction of a call: what arrives from the caller at the relay, and where it goes.
struct Leg {
  Ipv4Address remote = Host::kCaller;
  std::uint16_t remote_port = kCallerRtpPort;
  std::uint16_t relay_port = kRelayRtpPort;
  Ipv4Address new_src = Host::kRelayPublic;
  std::uint16_t new_src_port = kRelayOutRtpPort;
  Ipv4Address new_dst = Host::kCallee;
  std::uint16_t new_dst_port = kCalleeRtpPort;
  std::uint32_t egress_ifindex = 0;

  mpx_flow_key key() const {
    mpx_flow_key key{};
    key.relay_addr = be32_of(Host::kRelayPublic);
    key.remote_addr = be32_of(remote);
    key.relay_port = htons(relay_port);
    key.remote_port = htons(remote_port);
    return key;
  }
  mpx_flow_value value() const {
    mpx_flow_value value{};
    value.new_src_addr = be32_of(new_src);
    value.new_dst_addr = be32_of(new_dst);
    value.new_src_port = htons(new_src_port);
    value.new_dst_port = htons(new_dst_port);
    value.egress_ifindex = egress_ifindex;
    return value;
  }
};

// The packet of a leg as it arrives on in0, with knobs for the cases.
struct Arrival {
  Ipv4Spec ip;
  UdpSpec udp;
  EthernetSpec eth;
  Bytes data = payload(172);

  explicit Arrival(const Leg& leg) {
    eth.dst = Host::kIn0Mac;
    eth.src = Host::kCallerMac;
    ip.src = leg.remote;
    ip.dst = Host::kRelayPublic;
    ip.ttl = 64;
    ip.tos = 0xb8;  // EF, as RTP often carries: kept
    udp.src_port = leg.remote_port;
    udp.dst_port = leg.relay_port;
  }
  Bytes frame() const { return udp4_frame(eth, ip, udp, data); }

  // The same datagram after forwarding by leg to the next hop with the given MACs.
  Bytes forwarded(const Leg& leg, const MacAddress& dst_mac, const MacAddress& src_mac) const {
    return udp4_frame(forwarded_eth(dst_mac, src_mac), forwarded_ip(leg), forwarded_udp(leg),
                      data);
  }
  EthernetSpec forwarded_eth(const MacAddress& dst_mac, const MacAddress& src_mac) const {
    EthernetSpec out = eth;
    out.dst = dst_mac;
    out.src = src_mac;
    return out;
  }
  Ipv4Spec forwarded_ip(const Leg& leg) const {
    Ipv4Spec out = ip;
    out.src = leg.new_src;
    out.dst = leg.new_dst;
    out.ttl = static_cast<std::uint8_t>(ip.ttl - 1);
    return out;
  }
  UdpSpec forwarded_udp(const Leg& leg) const {
    UdpSpec out = udp;
    out.src_port = leg.new_src_port;
    out.dst_port = leg.new_dst_port;
    return out;
  }
};

std::uint16_t udp_checksum_field(const Bytes& untagged_frame) {
  const std::size_t at = kEthernetHeaderLen + kIpv4HeaderLen + 6;
  return static_cast<std::uint16_t>((untagged_frame.at(at) << 8) | untagged_frame.at(at + 1));
}

class BpfForward : public ::testing::TestWithParam<Hook> {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    MPX_REQUIRE(missing_tool("ip"));
    netns_ = std::make_unique<ForwardingNetns>();
    auto loaded = loaded_object(GetParam());
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    object_ = loaded.value();
  }
  void TearDown() override {
    for (const auto& key : installed_) {
      (void)object_->erase(MPX_MAP_FLOWS, key);
    }
    netns_.reset();
  }

  void install(const Leg& leg) {
    const auto added = object_->update(MPX_MAP_FLOWS, leg.key(), leg.value());
    ASSERT_TRUE(added.has_value()) << added.error().message;
    installed_.push_back(leg.key());
  }

  mpx_flow_value flow_of(const Leg& leg) const {
    mpx_flow_value value{};
    const mpx_flow_key key = leg.key();
    const auto found = object_->lookup_elem(MPX_MAP_FLOWS, std::as_bytes(std::span(&key, 1)));
    EXPECT_TRUE(found.has_value()) << found.error().message;
    if (found && found.value().size() == sizeof value) {
      std::memcpy(&value, found.value().data(), sizeof value);
    }
    return value;
  }

  CountedRun run(const Bytes& frame) const {
    const auto outcome = run_counted(GetParam(), frame, netns_->in0());
    EXPECT_TRUE(outcome.has_value()) << outcome.error().message;
    return outcome.has_value() ? outcome.value() : CountedRun{};
  }

  std::uint32_t redirect_verdict() const {
    return GetParam() == Hook::xdp ? std::uint32_t{XDP_REDIRECT} : std::uint32_t{TC_ACT_REDIRECT};
  }

  // Forwarded out out0 to the callee: verdict, counter, bytes, checksums.
  void expect_forwarded_to_callee(const Leg& leg, const Arrival& arrival) {
    const CountedRun counted = run(arrival.frame());
    EXPECT_EQ(counted.run.verdict, redirect_verdict());
    EXPECT_EQ(counted.moved, (CounterMoves{{"FORWARDED_REDIRECT", 1}}));
    EXPECT_EQ(counted.run.output, arrival.forwarded(leg, Host::kCalleeMac, Host::kOut0Mac));
    const auto checksums = verify_udp4_checksums(counted.run.output);
    EXPECT_TRUE(checksums.has_value()) << checksums.error().message;
  }

  // Passed to the stack unchanged with exactly this reason, flow counters untouched.
  void expect_passed(const Bytes& frame, const std::string& stat, const Leg& leg) {
    const CountedRun counted = run(frame);
    EXPECT_EQ(counted.run.verdict, hook_program(GetParam()).pass_verdict);
    EXPECT_EQ(counted.moved, (CounterMoves{{stat, 1}}));
    EXPECT_EQ(counted.run.output, frame) << "a passed packet must leave unmodified";
    EXPECT_EQ(flow_of(leg).packets, 0u);
  }

  std::unique_ptr<ForwardingNetns> netns_;
  LoadedBpfObject* object_ = nullptr;
  std::vector<mpx_flow_key> installed_;
};

TEST_P(BpfForward, RewritesAndRedirectsToTheNextHopOnAnotherInterface) {
  const Leg leg;
  install(leg);
  expect_forwarded_to_callee(leg, Arrival(leg));
}

TEST_P(BpfForward, SendsBackOutTheIngressInterfaceWithXdpTx) {
  Leg leg;  // a hairpin: the caller's own media looped back to another caller port
  leg.new_dst = Host::kCaller;
  leg.new_dst_port = 40002;
  install(leg);
  const Arrival arrival(leg);
  const CountedRun counted = run(arrival.frame());
  if (GetParam() == Hook::xdp) {
    EXPECT_EQ(counted.run.verdict, std::uint32_t{XDP_TX});
    EXPECT_EQ(counted.moved, (CounterMoves{{"FORWARDED_TX", 1}}));
  } else {
    EXPECT_EQ(counted.run.verdict, std::uint32_t{TC_ACT_REDIRECT});
    EXPECT_EQ(counted.moved, (CounterMoves{{"FORWARDED_REDIRECT", 1}}));
  }
  EXPECT_EQ(counted.run.output, arrival.forwarded(leg, Host::kCallerMac, Host::kIn0Mac));
}

TEST_P(BpfForward, ForwardsTheRtcpPortAsItsOwnFlow) {
  Leg rtp;
  install(rtp);
  Leg rtcp;
  rtcp.remote_port = kCallerRtpPort + 1;
  rtcp.relay_port = kRelayRtcpPort;
  rtcp.new_src_port = kRelayOutRtpPort + 1;
  rtcp.new_dst_port = kCalleeRtpPort + 1;
  Arrival arrival(rtcp);
  arrival.data = payload(52);  // an RTCP sender report's size
  {
    // Before its own flow exists, RTCP is not forwarded by the RTP flow.
    expect_passed(arrival.frame(), "PASS_NO_FLOW", rtp);
  }
  install(rtcp);
  expect_forwarded_to_callee(rtcp, arrival);
  EXPECT_EQ(flow_of(rtcp).packets, 1u);
  EXPECT_EQ(flow_of(rtp).packets, 0u);
}

TEST_P(BpfForward, CountsPacketsBytesAndLastSeenPerFlow) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  const std::uint64_t before = monotonic_ns();
  expect_forwarded_to_callee(leg, arrival);
  const mpx_flow_value first = flow_of(leg);
  EXPECT_EQ(first.packets, 1u);
  const std::uint64_t ip_len = kIpv4HeaderLen + kUdpHeaderLen + arrival.data.size();
  EXPECT_EQ(first.bytes, ip_len) << "bytes count the IPv4 datagram";
  EXPECT_GE(first.last_seen_ns, before);
  EXPECT_LE(first.last_seen_ns, monotonic_ns());

  arrival.data = payload(20);
  expect_forwarded_to_callee(leg, arrival);
  const mpx_flow_value second = flow_of(leg);
  EXPECT_EQ(second.packets, 2u);
  EXPECT_EQ(second.bytes, ip_len + kIpv4HeaderLen + kUdpHeaderLen + 20);
  EXPECT_GE(second.last_seen_ns, first.last_seen_ns);
  // The rewrite itself is untouched by the accounting.
  EXPECT_EQ(second.new_dst_addr, leg.value().new_dst_addr);
  EXPECT_EQ(second.new_dst_port, leg.value().new_dst_port);
}

TEST_P(BpfForward, PassesPacketsFromAnyoneButTheLatchedRemote) {
  const Leg leg;
  install(leg);
  Leg other_address = leg;
  other_address.remote = {10, 1, 0, 11};
  expect_passed(Arrival(other_address).frame(), "PASS_NO_FLOW", leg);
  Leg other_port = leg;
  other_port.remote_port = kCallerRtpPort + 2;
  expect_passed(Arrival(other_port).frame(), "PASS_NO_FLOW", leg);
}

TEST_P(BpfForward, PassesAnUnknownFlow) {
  const Leg leg;  // not installed
  const Bytes frame = Arrival(leg).frame();
  const CountedRun counted = run(frame);
  EXPECT_EQ(counted.run.verdict, hook_program(GetParam()).pass_verdict);
  EXPECT_EQ(counted.moved, (CounterMoves{{"PASS_NO_FLOW", 1}}));
  EXPECT_EQ(counted.run.output, frame);
}

TEST_P(BpfForward, PassesWhatTheFastPathDoesNotTakeEvenWhenTheTupleMatches) {
  const Leg leg;
  install(leg);
  const Arrival arrival(leg);

  Ipv4Spec tcp = arrival.ip;
  tcp.protocol = kIpProtoTcp;
  expect_passed(ethernet_frame(arrival.eth, kEthertypeIpv4,
                               ipv4_packet(tcp, udp_datagram(tcp, arrival.udp, arrival.data))),
                "PASS_NOT_UDP", leg);

  Ipv4Spec options = arrival.ip;
  options.options = {0x01, 0x01, 0x01, 0x00};
  expect_passed(udp4_frame(arrival.eth, options, arrival.udp, arrival.data), "PASS_IP_OPTIONS",
                leg);

  Ipv4Spec first_fragment = arrival.ip;
  first_fragment.more_fragments = true;
  expect_passed(udp4_frame(arrival.eth, first_fragment, arrival.udp, arrival.data),
                "PASS_FRAGMENT", leg);
  Ipv4Spec last_fragment = arrival.ip;
  last_fragment.fragment_offset = 1480;
  expect_passed(udp4_frame(arrival.eth, last_fragment, arrival.udp, arrival.data),
                "PASS_FRAGMENT", leg);

  EthernetSpec tagged = arrival.eth;
  tagged.vlan_tci = 100;
  expect_passed(udp4_frame(tagged, arrival.ip, arrival.udp, arrival.data), "PASS_VLAN", leg);
}

// Every cut of a matching frame, from inside the Ethernet header to one byte short: never
// forwarded, never modified, always counted as truncated.
TEST_P(BpfForward, PassesAMatchingFrameTruncatedAtAnyLength) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  arrival.data = payload(16);
  const Bytes whole = arrival.frame();
  for (std::size_t length = kEthernetHeaderLen; length < whole.size(); ++length) {
    SCOPED_TRACE("cut to " + std::to_string(length) + " bytes");
    const Bytes cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length));
    const auto outcome = run_counted(GetParam(), cut, netns_->in0());
    if (!outcome.has_value()) {
      // TC test runs refuse an IPv4 frame shorter than an IPv4 header (see verdict_test.cpp).
      EXPECT_EQ(GetParam(), Hook::tc) << outcome.error().message;
      EXPECT_LT(length, kEthernetHeaderLen + kIpv4HeaderLen);
      continue;
    }
    EXPECT_EQ(outcome.value().run.verdict, hook_program(GetParam()).pass_verdict);
    EXPECT_EQ(outcome.value().moved, (CounterMoves{{"PASS_TRUNCATED", 1}}));
    EXPECT_EQ(outcome.value().run.output, cut);
  }
  EXPECT_EQ(flow_of(leg).packets, 0u);
}

TEST_P(BpfForward, KeepsAZeroUdpChecksumZero) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  arrival.udp.with_checksum = false;
  ASSERT_EQ(udp_checksum_field(arrival.frame()), 0);
  expect_forwarded_to_callee(leg, arrival);
}

TEST_P(BpfForward, StoresAChecksumThatComesOutZeroAs0xffff) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  // Choose the last payload word so the FORWARDED datagram sums to -0: its checksum computes to
  // 0 and must be sent as 0xffff (RFC 768). With the word 0, the checksum is ~S; adding ~S as
  // data makes the sum 0xffff.
  arrival.data.back() = 0;
  arrival.data[arrival.data.size() - 2] = 0;
  const Bytes probe = arrival.forwarded(leg, Host::kCalleeMac, Host::kOut0Mac);
  const std::uint16_t word = udp_checksum_field(probe);
  arrival.data[arrival.data.size() - 2] = static_cast<std::uint8_t>(word >> 8);
  arrival.data.back() = static_cast<std::uint8_t>(word & 0xff);
  ASSERT_EQ(udp_checksum_field(arrival.forwarded(leg, Host::kCalleeMac, Host::kOut0Mac)), 0xffff)
      << "fixture: the forwarded datagram must be the 0xffff case";
  ASSERT_NE(udp_checksum_field(arrival.frame()), 0xffff);
  expect_forwarded_to_callee(leg, arrival);
}

TEST_P(BpfForward, UpdatesAnIncomingChecksumOf0xffff) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  arrival.data.back() = 0;
  arrival.data[arrival.data.size() - 2] = 0;
  const std::uint16_t word = udp_checksum_field(arrival.frame());
  arrival.data[arrival.data.size() - 2] = static_cast<std::uint8_t>(word >> 8);
  arrival.data.back() = static_cast<std::uint8_t>(word & 0xff);
  ASSERT_EQ(udp_checksum_field(arrival.frame()), 0xffff)
      << "fixture: the arriving datagram must carry 0xffff";
  expect_forwarded_to_callee(leg, arrival);
}

TEST_P(BpfForward, ChecksumsStayRightOverManyRewrites) {
  const Leg base;
  for (std::uint16_t i = 0; i < 40; ++i) {
    Leg leg = base;
    leg.remote_port = static_cast<std::uint16_t>(1024 + i * 1597);
    leg.new_src_port = static_cast<std::uint16_t>(0xffff - i * 211);
    leg.new_dst_port = static_cast<std::uint16_t>(i * 4099 + 1);
    install(leg);
    Arrival arrival(leg);
    arrival.ip.id = static_cast<std::uint16_t>(i * 7919);
    arrival.ip.ttl = static_cast<std::uint8_t>(2 + i * 6);
    arrival.data = payload(i * 3u);
    SCOPED_TRACE("case " + std::to_string(i));
    expect_forwarded_to_callee(leg, arrival);
  }
}

TEST_P(BpfForward, DropsATtlThatWouldExpireAndForwardsTtl2) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  arrival.ip.ttl = 1;
  const CountedRun counted = run(arrival.frame());
  EXPECT_EQ(counted.run.verdict, hook_program(GetParam()).drop_verdict);
  EXPECT_EQ(counted.moved, (CounterMoves{{"DROP_TTL_EXCEEDED", 1}}));
  EXPECT_EQ(flow_of(leg).packets, 0u);
  arrival.ip.ttl = 0;
  EXPECT_EQ(run(arrival.frame()).moved, (CounterMoves{{"DROP_TTL_EXCEEDED", 1}}));
  arrival.ip.ttl = 2;
  expect_forwarded_to_callee(leg, arrival);
}

TEST_P(BpfForward, UnknownNeighbourPassesUnmodifiedInXdpAndRedirectsViaNeighInTc) {
  Leg leg;
  leg.new_dst = Host::kCalleeNoNeighbour;
  install(leg);
  const Arrival arrival(leg);
  if (GetParam() == Hook::xdp) {
    expect_passed(arrival.frame(), "PASS_NO_NEIGH", leg);
    return;
  }
  const CountedRun counted = run(arrival.frame());
  EXPECT_EQ(counted.run.verdict, std::uint32_t{TC_ACT_REDIRECT});
  EXPECT_EQ(counted.moved, (CounterMoves{{"FORWARDED_REDIRECT_NEIGH", 1}}));
  // bpf_redirect_neigh fills in the MACs on the way out: the program leaves them.
  EXPECT_EQ(counted.run.output, arrival.forwarded(leg, arrival.eth.dst, arrival.eth.src));
  EXPECT_EQ(flow_of(leg).packets, 1u);
}

TEST_P(BpfForward, PassesUnmodifiedWhenThereIsNoRoute) {
  Leg unreachable;
  unreachable.new_dst = Host::kUnreachable;
  install(unreachable);
  expect_passed(Arrival(unreachable).frame(), "PASS_FIB_NO_ROUTE", unreachable);

  Leg unrouted;
  unrouted.remote_port = kCallerRtpPort + 10;
  unrouted.new_dst = Host::kUnrouted;
  install(unrouted);
  expect_passed(Arrival(unrouted).frame(), "PASS_FIB_NO_ROUTE", unrouted);
}

TEST_P(BpfForward, PassesUnmodifiedWhenTheDatagramExceedsTheEgressMtu) {
  const Leg leg;
  install(leg);
  Arrival arrival(leg);
  arrival.data = payload(Host::kOut0Mtu - kIpv4HeaderLen - kUdpHeaderLen + 1);
  expect_passed(arrival.frame(), "PASS_FIB_FRAG_NEEDED", leg);
  arrival.data.pop_back();  // exactly the MTU: fits
  expect_forwarded_to_callee(leg, arrival);
}

TEST_P(BpfForward, HonoursAPinnedEgressInterface) {
  Leg pinned_elsewhere;
  pinned_elsewhere.egress_ifindex = netns_->in0();  // the route leaves by out0
  install(pinned_elsewhere);
  expect_passed(Arrival(pinned_elsewhere).frame(), "PASS_EGRESS_MISMATCH", pinned_elsewhere);

  Leg pinned_right;
  pinned_right.remote_port = kCallerRtpPort + 20;
  pinned_right.egress_ifindex = netns_->out0();
  install(pinned_right);
  expect_forwarded_to_callee(pinned_right, Arrival(pinned_right));
}

INSTANTIATE_TEST_SUITE_P(Hooks, BpfForward, ::testing::Values(Hook::xdp, Hook::tc),
                         [](const ::testing::TestParamInfo<Hook>& param_info) {
                           return std::string(hook_name(param_info.param));
                         });

}  // namespace
}  // namespace mpx::test
