// flow_entries: a Flow's two map entries in network byte order, validation, counters and the
// pairing of a map's entries back into flows (adoption).
#include "userspace/bpf/flow_entries.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <chrono>

namespace mpx::datapath::bpf {
namespace {

Endpoint ep(const char* ip, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address(ip), port);
}

const Flow kFlow{ep("10.1.0.10", 5000), ep("203.0.113.1", 40000), ep("203.0.113.1", 40002),
                 ep("10.2.0.20", 6000)};

TEST(FlowEntries, EachDirectionIsKeyedByRelayAndRemoteAndRewritesToTheOtherSide) {
  const FlowEntries entries = entries_of(kFlow);
  EXPECT_EQ(entries.caller.key.relay_addr, htonl(0xcb007101));
  EXPECT_EQ(entries.caller.key.remote_addr, htonl(0x0a01000a));
  EXPECT_EQ(entries.caller.key.relay_port, htons(40000));
  EXPECT_EQ(entries.caller.key.remote_port, htons(5000));
  EXPECT_EQ(entries.caller.value.new_src_addr, htonl(0xcb007101));
  EXPECT_EQ(entries.caller.value.new_dst_addr, htonl(0x0a020014));
  EXPECT_EQ(entries.caller.value.new_src_port, htons(40002));
  EXPECT_EQ(entries.caller.value.new_dst_port, htons(6000));
  EXPECT_EQ(entries.caller.value.egress_ifindex, 0U);
  EXPECT_EQ(entries.caller.value.packets, 0U);

  EXPECT_EQ(entries.callee.key.relay_port, htons(40002));
  EXPECT_EQ(entries.callee.key.remote_addr, htonl(0x0a020014));
  EXPECT_EQ(entries.callee.key.remote_port, htons(6000));
  EXPECT_EQ(entries.callee.value.new_src_port, htons(40000));
  EXPECT_EQ(entries.callee.value.new_dst_addr, htonl(0x0a01000a));
  EXPECT_EQ(entries.callee.value.new_dst_port, htons(5000));
  EXPECT_EQ(describe(entries.caller.key), "10.1.0.10:5000 -> 203.0.113.1:40000");
}

TEST(FlowEntries, InvalidFlowsAreNamed) {
  EXPECT_EQ(invalid_flow(kFlow), "");
  Flow v6 = kFlow;
  v6.callee_remote = ep("2001:db8::1", 6000);
  EXPECT_NE(invalid_flow(v6).find("callee_remote"), std::string::npos);
  EXPECT_NE(invalid_flow(v6).find("IPv4"), std::string::npos);
  Flow no_port = kFlow;
  no_port.caller_local = ep("203.0.113.1", 0);
  EXPECT_NE(invalid_flow(no_port).find("port 0"), std::string::npos);
  Flow unspecified = kFlow;
  unspecified.caller_remote = ep("0.0.0.0", 5000);
  EXPECT_NE(invalid_flow(unspecified).find("no address"), std::string::npos);
  Flow mirrored = kFlow;
  mirrored.callee_local = mirrored.caller_local;
  mirrored.callee_remote = mirrored.caller_remote;
  EXPECT_NE(invalid_flow(mirrored).find("same key"), std::string::npos);
}

TEST(FlowEntries, CountersTakeTheLaterLastSeenAsSteadyClockTime) {
  mpx_flow_value caller{};
  mpx_flow_value callee{};
  EXPECT_EQ(counters_of(caller, callee).last_activity, std::chrono::steady_clock::time_point{});
  caller.packets = 3;
  caller.bytes = 384;
  caller.last_seen_ns = 5'000'000'000;
  callee.packets = 1;
  callee.bytes = 128;
  callee.last_seen_ns = 7'000'000'000;
  const FlowCounters counters = counters_of(caller, callee);
  EXPECT_EQ(counters.caller_packets, 3U);
  EXPECT_EQ(counters.caller_bytes, 384U);
  EXPECT_EQ(counters.callee_packets, 1U);
  EXPECT_EQ(counters.callee_bytes, 128U);
  EXPECT_EQ(counters.last_activity.time_since_epoch(), std::chrono::seconds(7));
}

TEST(FlowEntries, PairingRebuildsFlowsWithTheLowerRelayPortAsCallerAndReportsOrphans) {
  const FlowEntries a = entries_of(kFlow);
  // Same flow given with the callee side first: pairing orients it by relay port.
  const Flow swapped{kFlow.callee_remote, kFlow.callee_local, kFlow.caller_local,
                     kFlow.caller_remote};
  const Flow other{ep("10.1.0.11", 5002), ep("203.0.113.1", 40010), ep("203.0.113.1", 40008),
                   ep("10.2.0.21", 6002)};
  const FlowEntries b = entries_of(other);
  const FlowEntries lonely = entries_of(Flow{ep("10.1.0.12", 1), ep("203.0.113.1", 1000),
                                             ep("203.0.113.1", 1002), ep("10.2.0.22", 2)});
  const PairedEntries paired =
      pair_entries({a.callee, b.caller, lonely.callee, a.caller, b.callee});
  ASSERT_EQ(paired.flows.size(), 2U);
  EXPECT_EQ(paired.flows[0], kFlow);
  EXPECT_NE(paired.flows[0], swapped);
  const Flow other_oriented{other.callee_remote, other.callee_local, other.caller_local,
                            other.caller_remote};  // 40008 < 40010
  EXPECT_EQ(paired.flows[1], other_oriented);
  ASSERT_EQ(paired.orphans.size(), 1U);
  EXPECT_TRUE(same_key(paired.orphans[0], lonely.callee.key));
}

TEST(FlowEntries, AnEntryWhosePartnerDoesNotPointBackIsAnOrphan) {
  FlowEntries a = entries_of(kFlow);
  a.callee.value.new_dst_port = htons(5001);  // rewrites to someone else than the caller key
  const PairedEntries paired = pair_entries({a.caller, a.callee});
  EXPECT_TRUE(paired.flows.empty());
  EXPECT_EQ(paired.orphans.size(), 2U);
}

}  // namespace
}  // namespace mpx::datapath::bpf
