// RTP bleed: an attacker who can reach only the relay's public address sprays every port of the
// relay's range before the call's endpoints send, while they latch, and after. It must receive
// none of the call's media, and none of its packets may reach the callee or the caller, while
// the caller's media reaches the callee. Runs per datapath.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

constexpr std::uint8_t kAttackerFill = 0xaa;
constexpr std::uint16_t kAttackerPort = 7000;

class RelayBleedTest : public RelayLabTest {};

// A few packets to every port of the range, RTP on even and RTCP on odd ports, random SSRCs
// (recorded so the receivers can be checked for them).
void spray(RtpPeer& attacker, std::mt19937& random, std::vector<std::uint32_t>& ssrcs,
           int per_port) {
  for (std::uint16_t port = kFirstPort; port <= kLastPort; ++port) {
    const auto ssrc = static_cast<std::uint32_t>(random());
    ssrcs.push_back(ssrc);
    const SendPlan plan{ssrc, kAttackerFill, 0us};
    if (port % 2 == 0) {
      attacker.send_rtp(A::kRelayPublic, port, per_port, plan);
    } else {
      attacker.send_rtcp(A::kRelayPublic, port, per_port, plan);
    }
  }
  std::this_thread::sleep_for(1ms);
}

std::size_t attacker_packets(const RtpPeer& peer, const std::vector<std::uint32_t>& ssrcs) {
  return peer.count_if([&](const ReceivedPacket& p) {
    return (!p.rtcp && p.fill == kAttackerFill) ||
           std::find(ssrcs.begin(), ssrcs.end(), p.ssrc) != ssrcs.end();
  });
}

TEST_P(RelayBleedTest, AttackerSprayingThePortRangeGetsNothingAndInjectsNothing) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kTwoRelays, {}));
  CallEnds ends(env_->lab());
  RtpPeer attacker(env_->lab(), "attacker", A::kAttacker, kAttackerPort);
  std::mt19937 random(20240611);
  std::vector<std::uint32_t> ssrcs;

  auto call = env_->new_call("relay-bleed@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));

  // Before the endpoints send (inside the latching window).
  spray(attacker, random, ssrcs, 3);
  // While they latch: the attacker keeps spraying from another thread.
  std::atomic<bool> done{false};
  std::vector<std::uint32_t> during_ssrcs;
  std::mt19937 random_during(7);
  std::thread sprayer([&] {
    for (int round = 0; round < 20 && !done; ++round) {
      spray(attacker, random_during, during_ssrcs, 1);
    }
  });
  exchange(ends, ports, {100, 20});
  done = true;
  sprayer.join();
  ssrcs.insert(ssrcs.end(), during_ssrcs.begin(), during_ssrcs.end());
  EXPECT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 90, 3s), 90U);

  // After latching (and, with conntrack, the hand-off).
  std::this_thread::sleep_for(500ms);
  spray(attacker, random, ssrcs, 3);
  const std::size_t callee_before = ends.callee_rtp.count_ssrc(kCallerSsrc);
  exchange(ends, ports, {50, 10});
  spray(attacker, random, ssrcs, 3);
  EXPECT_EQ(ends.callee_rtp.wait_from(relay_side(ports.callee_side), callee_before + 50, 3s),
            callee_before + 50);
  std::this_thread::sleep_for(500ms);

  EXPECT_EQ(attacker.total(), 0U) << "the attacker received " << attacker.total()
                                  << " packets, " << attacker.count_ssrc(kCallerSsrc)
                                  << " of the caller, " << attacker.count_ssrc(kCalleeSsrc)
                                  << " of the callee, " << attacker_packets(attacker, ssrcs)
                                  << " of its own";
  for (const RtpPeer* peer : {&ends.callee_rtp, &ends.callee_rtcp, &ends.caller_rtp,
                              &ends.caller_rtcp}) {
    EXPECT_EQ(attacker_packets(*peer, ssrcs), 0U) << "attacker packets reached " << peer->ip()
                                                  << ":" << peer->port();
  }
  EXPECT_GE(ends.callee_rtp.count_ssrc(kCallerSsrc), 140U);
  EXPECT_GE(ends.caller_rtp.count_ssrc(kCalleeSsrc), 140U);
  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto stats = env_->wait_accounted(call->call_id(), 3s);
  ASSERT_TRUE(stats.has_value());
  ASSERT_EQ(stats->streams.size(), 1U);
  EXPECT_EQ(stats->streams[0].caller_remote, endpoint(A::kCaller, kCallerPort));
  EXPECT_EQ(stats->streams[0].callee_remote, endpoint(A::kCallee, kCalleePort));
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayBleedTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
