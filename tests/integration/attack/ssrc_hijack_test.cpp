// SsrcHijack: both endpoints talk (50 packets/s) and are locked; then, while they keep talking,
// the attacker sends RTP carrying the CALLER's SSRC with sequence numbers continuing the
// caller's to the caller-side relay port, (a) from its own address and (b) forged from the
// caller's IP on another port (where a decoy socket in the caller's namespace catches whatever
// the relay would misdirect there), and the same toward the callee side with the callee's SSRC.
// A relay that moves the lock on "same SSRC, advancing sequence" alone hands the call over. The
// locks must stay on the endpoints, nothing may reach the attacker or the decoys, and no
// attacker byte may reach the endpoints.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/scenario.hpp"
#include "tests/integration/attack/spoof_sender.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;
using relay_lab::RtpPeer;

constexpr std::uint16_t kHijackPort = 7100;
constexpr std::uint16_t kCallerDecoyPort = 5002;
constexpr std::uint16_t kCalleeDecoyPort = 6002;

class SsrcHijackTest : public AttackTest {};

struct HijackCounts {
  std::atomic<std::uint64_t> own{0};     // from the attacker's address
  std::atomic<std::uint64_t> forged{0};  // from an endpoint's IP on the decoy port
};

// Every 20 ms, two packets continuing `victim`'s stream (the next two sequence numbers it will
// send), to `relay_port`: both from the attacker's socket, then both forged from
// victim_ip:decoy_port. Back to back per source: a relay that moves the lock after two
// consecutive packets carrying the locked SSRC from one new source is taken over (interleaving
// the two sources would hide that).
void hijack_round(const MediaSource& victim, std::uint32_t ssrc, RtpPeer& own, SpoofSender& forger,
                  const std::string& victim_ip, std::uint16_t decoy_port, std::uint16_t relay_port,
                  HijackCounts& counts) {
  const std::uint16_t sequence = victim.next_sequence();
  const std::uint32_t timestamp = victim.next_timestamp();
  std::vector<Bytes> packets;
  for (std::uint16_t i = 0; i < 2; ++i) {
    packets.push_back(rtp_packet(ssrc, static_cast<std::uint16_t>(sequence + i),
                                 timestamp + 160U * i, kAttackerFill));
  }
  for (const Bytes& packet : packets) {
    counts.own += own.send_raw(A::kRelayPublic, relay_port, packet) ? 1U : 0U;
  }
  for (const Bytes& packet : packets) {
    counts.forged +=
        forger.send(victim_ip, decoy_port, A::kRelayPublic, relay_port, packet) ? 1U : 0U;
  }
}

TEST_P(SsrcHijackTest, ContinuingAnEndpointsSsrcDoesNotMoveTheLock) {
  ASSERT_NO_FATAL_FAILURE(start_attack());
  MediaCall call(*env_, "ssrc-hijack@10.1.0.10", public_caller(), public_callee());
  RtpPeer attacker(lab(), "attacker", A::kAttacker, kHijackPort);
  RtpPeer caller_decoy(lab(), "caller", A::kCaller, kCallerDecoyPort);
  RtpPeer callee_decoy(lab(), "callee", A::kCallee, kCalleeDecoyPort);
  SpoofSender forger(lab());

  ASSERT_TRUE(call.offer());
  ASSERT_TRUE(call.answer());
  MediaPlan plan;
  const auto talk_alone = scaled(1s);
  const auto hijack_for = scaled(2s);
  plan.duration = talk_alone + hijack_for;
  call.start_media(plan, plan);
  std::this_thread::sleep_for(talk_alone);

  HijackCounts to_caller_side;
  HijackCounts to_callee_side;
  const auto hijack_end = Clock::now() + hijack_for;
  for (auto next = Clock::now(); next < hijack_end; next += 20ms) {
    std::this_thread::sleep_until(next);
    hijack_round(call.caller_media(), relay_lab::kCallerSsrc, attacker, forger, A::kCaller,
                 kCallerDecoyPort, call.ports().caller_side, to_caller_side);
    hijack_round(call.callee_media(), relay_lab::kCalleeSsrc, attacker, forger, A::kCallee,
                 kCalleeDecoyPort, call.ports().callee_side, to_callee_side);
  }
  call.wait_media();
  call.finish();

  const auto legit = [](const RtpPeer& peer) { return legit_packets(peer, lab_parties()); };
  Figures f = figures("SsrcHijack", call, 100ms);
  f.sent.attacker =
      to_caller_side.own + to_caller_side.forged + to_callee_side.own + to_callee_side.forged;
  f.received.attacker = attacker.total();
  f.bled = legit(attacker) + legit(caller_decoy) + legit(callee_decoy);
  f.injected += attacker_packets(caller_decoy) + attacker_packets(callee_decoy);
  f.extra["hijack_sent"] = {{"caller_side_own", to_caller_side.own.load()},
                            {"caller_side_forged", to_caller_side.forged.load()},
                            {"callee_side_own", to_callee_side.own.load()},
                            {"callee_side_forged", to_callee_side.forged.load()}};
  f.extra["decoys_received"] = {{"caller_decoy", caller_decoy.total()},
                                {"callee_decoy", callee_decoy.total()}};
  publish(f);

  EXPECT_EQ(attacker.total(), 0U) << "packets reached the attacker";
  EXPECT_EQ(caller_decoy.total(), 0U) << "packets reached the decoy 10.1.0.10:5002";
  EXPECT_EQ(callee_decoy.total(), 0U) << "packets reached the decoy 10.2.0.20:6002";
  expect_ends_clean(call);
  expect_delivered(call, 100ms);
  expect_locks_on_endpoints(call);
}

INSTANTIATE_TEST_SUITE_P(Datapaths, SsrcHijackTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
