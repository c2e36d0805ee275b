// mpx-relay relays a call: RTP and RTCP both ways with the relay's addresses as sources, the
// remove statistics match what was sent, and the datapath does what it claims: with conntrack
// the flows are handed to NAT entries (both NAT status bits, counters, INPUT counters frozen),
// with userspace the relay's sockets keep forwarding and no entry exists. A re-INVITE to a new
// caller port moves the media to it. Runs once per datapath.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "userspace/conntrack/flow_text.hpp"
#include "tests/integration/relay_lab/nft_counters.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

class RelayCallTest : public RelayLabTest {};

// Waits (bounded) until the relay holds `count` NAT entries with its mark; returns them.
std::vector<EntrySnapshot> wait_nat_entries(const NetnsLab& lab, std::size_t count,
                                            std::chrono::milliseconds timeout) {
  std::vector<EntrySnapshot> entries;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    auto read = marked_entries(lab);
    if (read.has_value()) {
      entries = read.value();
      std::size_t nat = 0;
      for (const auto& e : entries) {
        nat += is_nat(e) ? 1U : 0U;
      }
      if (nat >= count) {
        break;
      }
    }
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return entries;
}

const EntrySnapshot* entry_from(const std::vector<EntrySnapshot>& entries, const std::string& src,
                                const std::string& dst) {
  for (const auto& e : entries) {
    if (datapath::describe(e.orig_src) == src && datapath::describe(e.orig_dst) == dst) {
      return &e;
    }
  }
  return nullptr;
}

TEST_P(RelayCallTest, RelaysRtpAndRtcpBothWaysAndHandsOffAsConfigured) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  const bool conntrack = GetParam() == "conntrack";
  const bool kernel = GetParam() != "userspace";  // conntrack, xdp, tc
  InputCounters input(env_->lab(), {{"caller", A::kCaller}, {"callee", A::kCallee}}, kFirstPort,
                      kLastPort);
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-call-1@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));
  EXPECT_NE(ports.caller_side, ports.callee_side);
  for (const auto port : {ports.caller_side, ports.callee_side}) {
    EXPECT_EQ(port % 2, 0) << port;
    EXPECT_GE(port, kFirstPort);
    EXPECT_LT(port, 40100);
  }
  const std::string to_caller_rtp = relay_side(ports.caller_side);
  const std::string to_caller_rtcp = relay_side(static_cast<std::uint16_t>(ports.caller_side + 1));
  const std::string to_callee_rtp = relay_side(ports.callee_side);
  const std::string to_callee_rtcp = relay_side(static_cast<std::uint16_t>(ports.callee_side + 1));

  // Burst 1: latching (a few of the first packets may be dropped), then the hand-off.
  constexpr int kRtp1 = 100, kRtcp1 = 20;
  exchange(ends, ports, {kRtp1, kRtcp1});
  EXPECT_GE(ends.callee_rtp.wait_from(to_callee_rtp, kRtp1 * 9 / 10, 3s), kRtp1 * 9U / 10);
  EXPECT_GE(ends.caller_rtp.wait_from(to_caller_rtp, kRtp1 * 9 / 10, 3s), kRtp1 * 9U / 10);
  EXPECT_GE(ends.callee_rtcp.wait_from(to_callee_rtcp, kRtcp1 * 9 / 10, 3s), kRtcp1 * 9U / 10);
  EXPECT_GE(ends.caller_rtcp.wait_from(to_caller_rtcp, kRtcp1 * 9 / 10, 3s), kRtcp1 * 9U / 10);

  std::vector<EntrySnapshot> entries;
  if (conntrack) {
    entries = wait_nat_entries(env_->lab(), 2, 3s);  // RTP and RTCP
  } else {
    std::this_thread::sleep_for(500ms);  // time enough for a wrong hand-off to show
  }
  const std::uint64_t caller_input = input.packets("caller");
  const std::uint64_t callee_input = input.packets("callee");

  // Burst 2, after the hand-off: nothing may be lost any more.
  const std::size_t callee_before = ends.callee_rtp.total();
  const std::size_t caller_before = ends.caller_rtp.total();
  constexpr int kRtp2 = 50, kRtcp2 = 10;
  exchange(ends, ports, {kRtp2, kRtcp2});
  EXPECT_EQ(ends.callee_rtp.wait_from(to_callee_rtp, callee_before + kRtp2, 3s),
            callee_before + kRtp2);
  EXPECT_EQ(ends.caller_rtp.wait_from(to_caller_rtp, caller_before + kRtp2, 3s),
            caller_before + kRtp2);
  std::this_thread::sleep_for(300ms);  // stragglers and duplicates would show now
  EXPECT_EQ(ends.callee_rtp.total(), callee_before + kRtp2);
  EXPECT_EQ(ends.caller_rtp.total(), caller_before + kRtp2);

  // Every side got only the other side's packets, from the relay's ports.
  for (const RtpPeer* peer : {&ends.callee_rtp, &ends.callee_rtcp}) {
    EXPECT_EQ(peer->count_ssrc(kCallerSsrc), peer->total());
  }
  for (const RtpPeer* peer : {&ends.caller_rtp, &ends.caller_rtcp}) {
    EXPECT_EQ(peer->count_ssrc(kCalleeSsrc), peer->total());
  }
  EXPECT_EQ(ends.callee_rtp.count_from(to_callee_rtp), ends.callee_rtp.total());
  EXPECT_EQ(ends.caller_rtp.count_from(to_caller_rtp), ends.caller_rtp.total());
  EXPECT_EQ(ends.callee_rtcp.count_from(to_callee_rtcp), ends.callee_rtcp.total());
  EXPECT_EQ(ends.caller_rtcp.count_from(to_caller_rtcp), ends.caller_rtcp.total());
  EXPECT_GE(ends.callee_rtp.total(), static_cast<std::size_t>((kRtp1 + kRtp2) * 9 / 10));
  EXPECT_LE(ends.callee_rtp.total(), static_cast<std::size_t>(kRtp1 + kRtp2));
  EXPECT_GE(ends.caller_rtp.total(), static_cast<std::size_t>((kRtp1 + kRtp2) * 9 / 10));
  EXPECT_LE(ends.caller_rtp.total(), static_cast<std::size_t>(kRtp1 + kRtp2));
  EXPECT_GE(ends.callee_rtcp.total(), static_cast<std::size_t>((kRtcp1 + kRtcp2) * 8 / 10));
  EXPECT_GE(ends.caller_rtcp.total(), static_cast<std::size_t>((kRtcp1 + kRtcp2) * 8 / 10));

  if (conntrack) {
    // The NAT entries of the running call: RTP and RTCP, caller -> relay as original tuple,
    // callee -> relay as reply tuple, both NAT bits, counters moving.
    auto now = marked_entries(env_->lab());
    ASSERT_TRUE(now.has_value()) << now.error().message;
    const std::string rtp_text = describe(now.value());
    const auto* rtp = entry_from(now.value(), endpoint(A::kCaller, kCallerPort), to_caller_rtp);
    const auto* rtcp = entry_from(now.value(), endpoint(A::kCaller, kCallerPort + 1),
                                  to_caller_rtcp);
    ASSERT_NE(rtp, nullptr) << rtp_text;
    ASSERT_NE(rtcp, nullptr) << rtp_text;
    for (const auto* e : {rtp, rtcp}) {
      EXPECT_TRUE(is_nat(*e)) << rtp_text;
      EXPECT_GT(e->orig_packets, 0U) << rtp_text;
      EXPECT_GT(e->reply_packets, 0U) << rtp_text;
    }
    EXPECT_EQ(datapath::describe(rtp->reply_src), endpoint(A::kCallee, kCalleePort));
    EXPECT_EQ(datapath::describe(rtp->reply_dst), to_callee_rtp);
    EXPECT_GE(rtp->orig_packets, static_cast<std::uint64_t>(kRtp2));  // all of burst 2
    // Forwarded by the kernel: nothing of burst 2 reached the relay's sockets.
    EXPECT_EQ(input.packets("caller"), caller_input) << describe(entries);
    EXPECT_EQ(input.packets("callee"), callee_input) << describe(entries);
  } else if (kernel) {
    // The eBPF program forwarded burst 2 before the stack: the sockets saw none of it, and no
    // conntrack entry of ours exists.
    auto now = marked_entries(env_->lab());
    ASSERT_TRUE(now.has_value()) << now.error().message;
    EXPECT_TRUE(now.value().empty()) << describe(now.value());
    EXPECT_EQ(input.packets("caller"), caller_input);
    EXPECT_EQ(input.packets("callee"), callee_input);
  } else {
    auto now = marked_entries(env_->lab());
    ASSERT_TRUE(now.has_value()) << now.error().message;
    EXPECT_TRUE(now.value().empty()) << describe(now.value());
    // The relay's own sockets got all of burst 2.
    EXPECT_GE(input.packets("caller"), caller_input + kRtp2 + kRtcp2);
    EXPECT_GE(input.packets("callee"), callee_input + kRtp2 + kRtcp2);
  }

  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto stats = env_->wait_accounted(call->call_id(), 3s);
  ASSERT_TRUE(stats.has_value());
  EXPECT_TRUE(stats->start_time.has_value());
  EXPECT_EQ(stats->caller_ua, "Blink 5.1");
  EXPECT_EQ(stats->callee_ua, "Asterisk PBX");
  ASSERT_EQ(stats->streams.size(), 1U);
  const auto& stream = stats->streams[0];
  EXPECT_EQ(stream.media_type, "audio");
  EXPECT_EQ(stream.status, "closed");
  EXPECT_EQ(stream.caller_codec, "G711a");
  EXPECT_EQ(stream.callee_codec, "G711a");
  EXPECT_EQ(stream.caller_local, to_caller_rtp);
  EXPECT_EQ(stream.callee_local, to_callee_rtp);
  EXPECT_EQ(stream.caller_remote, endpoint(A::kCaller, kCallerPort));
  EXPECT_EQ(stream.callee_remote, endpoint(A::kCallee, kCalleePort));
  EXPECT_TRUE(stream.post_dial_delay.has_value());
  // Packets: RTP + RTCP of each side, at least 90 % of what was sent (latching losses), never
  // more. Bytes: between the UDP payloads and the IP lengths of those packets.
  constexpr std::uint64_t sent_packets = kRtp1 + kRtp2 + kRtcp1 + kRtcp2;
  constexpr std::uint64_t sent_udp =
      (kRtp1 + kRtp2) * kRtpPacket + (kRtcp1 + kRtcp2) * kRtcpPacket;
  constexpr std::uint64_t sent_ip = sent_udp + sent_packets * kIpUdpHeaders;
  for (const auto& [packets, bytes] :
       {std::pair{stream.caller_packets, stream.caller_bytes},
        std::pair{stream.callee_packets, stream.callee_bytes}}) {
    EXPECT_GE(packets, sent_packets * 9 / 10);
    EXPECT_LE(packets, sent_packets);
    EXPECT_GE(bytes, sent_udp * 9 / 10);
    EXPECT_LE(bytes, sent_ip);
  }
  ASSERT_TRUE(stats->dispatcher.has_value());
  EXPECT_FALSE(stats->dispatcher->timed_out);
}

// A re-INVITE with a new caller port: afterwards the callee gets the RTP of the new port and
// the caller's new port gets the callee's RTP (the old one gets nothing more).
TEST_P(RelayCallTest, ReInviteMovesTheCallerToANewPort) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-reinvite@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));
  exchange(ends, ports, {60, 10});
  ASSERT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 54, 3s), 54U);
  ASSERT_GE(ends.caller_rtp.wait_from(relay_side(ports.caller_side), 54, 3s), 54U);
  std::this_thread::sleep_for(300ms);  // let a kernel hand-off of the old flow happen

  constexpr std::uint16_t kNewCallerPort = 5010;
  RtpPeer new_rtp(env_->lab(), "caller", A::kCaller, kNewCallerPort);
  RtpPeer new_rtcp(env_->lab(), "caller", A::kCaller, kNewCallerPort + 1);
  const auto callee_side = call->offer(2, {A::kCaller, kNewCallerPort});
  ASSERT_TRUE(callee_side.has_value()) << call->last_reply();
  const auto caller_side = call->answer(2, {A::kCallee, kCalleePort});
  ASSERT_TRUE(caller_side.has_value()) << call->last_reply();
  const RelayPorts moved{*caller_side, *callee_side};
  ends.callee_rtp.clear();
  ends.caller_rtp.clear();

  const std::uint32_t new_ssrc = 0x5e55107e;
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) {
    new_rtp.send_rtp(A::kRelayPublic, moved.caller_side, 1, {new_ssrc, 0x5e, 0us});
    ends.callee_rtp.send_rtp(A::kRelayPublic, moved.callee_side, 1,
                             {kCalleeSsrc, kCalleeFill, 0us});
    std::this_thread::sleep_for(3ms);
  }
  EXPECT_GE(ends.callee_rtp.wait_from(relay_side(moved.callee_side), kCount * 9 / 10, 3s),
            kCount * 9U / 10);
  EXPECT_GE(new_rtp.wait_from(relay_side(moved.caller_side), kCount * 9 / 10, 3s),
            kCount * 9U / 10);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(ends.callee_rtp.count_ssrc(new_ssrc), ends.callee_rtp.total());
  EXPECT_EQ(new_rtp.count_ssrc(kCalleeSsrc), new_rtp.total());
  EXPECT_EQ(ends.caller_rtp.total(), 0U) << "the old caller port still gets the callee's RTP";
  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto stats = env_->wait_accounted(call->call_id(), 3s);
  ASSERT_TRUE(stats.has_value());
  const auto moved_stream = std::find_if(
      stats->streams.begin(), stats->streams.end(), [&](const protocol::StreamStatistics& s) {
        return s.caller_remote == endpoint(A::kCaller, kNewCallerPort);
      });
  EXPECT_NE(moved_stream, stats->streams.end()) << protocol::to_json(*stats);
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayCallTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
