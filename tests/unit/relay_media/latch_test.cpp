// The latch of one sub-party, driven with explicit time points: the strict policy's learning
// window (signalled source preferred, first fallback after the window), the strict lock and its
// NAT-rebinding exception, expect()/forget(), and the first_packet policy reproducing MediaProxy.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "relay/media/latch.hpp"

namespace mpx::relay::media {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address_v4;

const SteadyTime t0{std::chrono::hours(1)};

Endpoint ep(const char* ip, std::uint16_t port) { return {make_address_v4(ip), port}; }

// The party as signalled: SDP 198.51.100.10:4000, SIP from 203.0.113.7 (its NAT).
const Endpoint sdp = ep("198.51.100.10", 4000);
const auto signaling_ip = make_address_v4("203.0.113.7");
const Endpoint party_behind_nat = ep("203.0.113.7", 61000);
const Endpoint attacker = ep("192.0.2.66", 5555);
const Endpoint attacker2 = ep("192.0.2.67", 6666);

PacketInfo rtp(std::uint32_t ssrc, std::uint16_t sequence) {
  return {PacketKind::rtp, ssrc, sequence, 0};
}
PacketInfo rtcp(std::uint32_t ssrc) { return {PacketKind::rtcp, ssrc, 0, 0}; }
PacketInfo of_kind(PacketKind kind) { return {kind, 0, 0, 0}; }

constexpr std::uint32_t party_ssrc = 0x11223344;

const LatchDecision accept{LatchVerdict::accept, false};
const LatchDecision accept_relatched{LatchVerdict::accept, true};
const LatchDecision learning{LatchVerdict::learning, false};
const LatchDecision stranger{LatchVerdict::stranger, false};
const LatchDecision invalid{LatchVerdict::invalid, false};

LatchSettings strict(std::chrono::milliseconds window = 1000ms, bool require_rtp = true) {
  return {LatchPolicy::strict, window, require_rtp};
}

// A strict latch that expects the party above from t0.
Latch expecting(LatchSettings settings = strict()) {
  Latch latch(settings);
  latch.expect(sdp, signaling_ip, t0);
  return latch;
}

// A strict latch locked to `source`, with party_ssrc recorded at sequence 100.
Latch locked_to(const Endpoint& source) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(source, rtp(party_ssrc, 99), t0 + 1500ms).relatched, true);
  EXPECT_EQ(latch.on_packet(source, rtp(party_ssrc, 100), t0 + 1520ms), accept);
  EXPECT_EQ(latch.locked(), source);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  return latch;
}

// ---- strict: the learning window ----

TEST(MediaLatchStrict, SdpEndpointLocksAtOnce) {
  Latch latch = expecting();
  EXPECT_EQ(latch.window_deadline(), t0 + 1000ms);
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 10ms), accept_relatched);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 2), t0 + 30ms), accept);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);
  EXPECT_EQ(latch.locked(), sdp);
}

TEST(MediaLatchStrict, AttackerFirstThenSdpSourceInsideTheWindow) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 2ms), learning);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 300ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 3), t0 + 301ms), stranger);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 4), t0 + 2000ms), stranger);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.counters(), (Latch::Counters{1, 2, 2, 0, 1}));  // never accepted the attacker
}

TEST(MediaLatchStrict, SdpIpWithAnotherPortMatches) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4002), rtp(party_ssrc, 1), t0 + 5ms),
            accept_relatched);
  EXPECT_EQ(latch.locked(), ep("198.51.100.10", 4002));
}

TEST(MediaLatchStrict, SignalingIpMatchesASymmetricNatClient) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(party_ssrc, 1), t0 + 40ms), accept_relatched);
  EXPECT_EQ(latch.locked(), party_behind_nat);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);
  EXPECT_EQ(latch.locked(), party_behind_nat);
}

// A weaker match locks at once, but for one window the exact SDP endpoint may take over (a
// party that moved only its port still sends a few packets from the old one).
TEST(MediaLatchStrict, TheExactSdpEndpointTakesOverAWeakerLockWithinTheWindow) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(1, 1), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(sdp, rtp(2, 1), t0 + 2ms), accept_relatched);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(1, 2), t0 + 3ms), stranger);
}

TEST(MediaLatchStrict, AfterTheWindowAWeakerLockStays) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(1, 1), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(sdp, rtp(2, 1), t0 + 1001ms), stranger);
  EXPECT_EQ(latch.locked(), party_behind_nat);
}

TEST(MediaLatchStrict, AnExactLockIsNeverTakenOver) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, rtp(2, 1), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4002), rtp(3, 1), t0 + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(1, 1), t0 + 3ms), stranger);
  EXPECT_EQ(latch.locked(), sdp);
}

TEST(MediaLatchStrict, OnlyAnAttackerIsLockedAfterTheWindow) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_tick(t0 + 999ms).relatched, false);
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.window_deadline(), t0 + 1000ms);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, true);
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_tick(t0 + 1001ms).relatched, false);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 1010ms), accept);
  // The real party, too late and from an unsignalled address, is a stranger now.
  EXPECT_EQ(latch.on_packet(ep("192.0.2.1", 4000), rtp(party_ssrc, 1), t0 + 1020ms), stranger);
  EXPECT_EQ(latch.counters().relatches, 1U);
}

TEST(MediaLatchStrict, TheFirstFallbackCandidateWins) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(2, 1), t0 + 2ms), learning);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(2, 2), t0 + 3ms), learning);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, true);
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(2, 3), t0 + 1001ms), stranger);
}

TEST(MediaLatchStrict, WindowExpiryNoticedByTheNextPacketWithoutATick) {
  Latch from_other = expecting();
  EXPECT_EQ(from_other.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(from_other.on_packet(attacker2, rtp(2, 1), t0 + 1500ms),
            (LatchDecision{LatchVerdict::stranger, true}));
  EXPECT_EQ(from_other.locked(), attacker);

  Latch from_candidate = expecting();
  EXPECT_EQ(from_candidate.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(from_candidate.on_packet(attacker, rtp(1, 2), t0 + 1000ms), accept_relatched);
  EXPECT_EQ(from_candidate.locked(), attacker);
  EXPECT_EQ(from_candidate.locked_ssrc(), 1U);
}

TEST(MediaLatchStrict, WithoutCandidateTheFirstValidPacketAfterTheWindowLocks) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::stun), t0 + 1100ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0 + 1100ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker2, rtcp(5), t0 + 1200ms), accept_relatched);
  EXPECT_EQ(latch.locked(), attacker2);
}

TEST(MediaLatchStrict, StunFromAnUnmatchedSourceIsNeverACandidate) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::stun), t0 + 1ms), invalid);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);
  EXPECT_FALSE(latch.locked().has_value());
}

TEST(MediaLatchStrict, StunFromTheSignalledSourceLocks) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::stun), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_FALSE(latch.locked_ssrc().has_value());  // STUN carries no SSRC
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 7), t0 + 2ms), accept);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  EXPECT_EQ(latch.on_packet(sdp, rtp(0x999, 8), t0 + 3ms), accept);  // the first one is kept
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
}

TEST(MediaLatchStrict, RequireRtpRejectsOtherKinds) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 1ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::dtls), t0 + 2ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0 + 3ms), invalid);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);  // none of them became a candidate
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::dtls), t0 + 1001ms), accept_relatched);
  // Once locked, anything from the locked source is forwarded.
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 1002ms), accept);
  EXPECT_EQ(latch.counters().invalid, 3U);
}

TEST(MediaLatchStrict, NonRtpStreamsAcceptAnyPacketButStunAsFallback) {
  Latch latch = expecting(strict(1000ms, false));
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::stun), t0 + 1ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker2, of_kind(PacketKind::other), t0 + 2ms), learning);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, true);
  EXPECT_EQ(latch.locked(), attacker2);

  Latch matched = expecting(strict(1000ms, false));
  EXPECT_EQ(matched.on_packet(sdp, of_kind(PacketKind::other), t0 + 1ms), accept_relatched);
}

TEST(MediaLatchStrict, ZeroWindowLocksTheFirstValidFallbackAtOnce) {
  Latch latch = expecting(strict(0ms));
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::stun), t0), invalid);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), accept_relatched);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 1ms), stranger);
  EXPECT_EQ(latch.locked(), attacker);
}

TEST(MediaLatchStrict, BeforeAnyExpectTheFirstValidPacketLocks) {
  Latch latch(strict());
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0), invalid);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), accept_relatched);
  EXPECT_EQ(latch.locked(), attacker);
}

TEST(MediaLatchStrict, UnspecifiedAddressesMatchNothing) {
  Latch latch(strict());
  latch.expect(ep("0.0.0.0", 4000), make_address_v4("0.0.0.0"), t0);
  EXPECT_EQ(latch.on_packet(ep("0.0.0.0", 4000), rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 1), t0 + 2ms), learning);
  // Nothing usable was signalled: no window runs, so no fallback ever locks.
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_TRUE(latch.awaiting_sdp());
  EXPECT_FALSE(latch.on_tick(t0 + 10s).relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 2), t0 + 10s), learning);
}

// The answerer's side between the offer and the answer: an attacker spraying the relay's ports
// must not take it; the answer opens the window and the answerer's SDP source wins.
TEST(MediaLatchStrict, TheAnswererBeforeItsAnswerOnlyLocksOnAMatch) {
  Latch latch(strict());
  latch.expect(std::nullopt, std::nullopt, t0);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 1), t0 + 1ms), learning);
  EXPECT_FALSE(latch.on_tick(t0 + 30s).relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 2), t0 + 30s), learning);
  EXPECT_FALSE(latch.locked().has_value());
  latch.expect(sdp, std::nullopt, t0 + 31s);
  EXPECT_FALSE(latch.awaiting_sdp());
  EXPECT_EQ(latch.window_deadline(), t0 + 32s);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 3), t0 + 31s + 1ms), learning);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 31s + 2ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 4), t0 + 31s + 3ms), stranger);
}

TEST(MediaLatchStrict, SdpWithPortZeroStillMatchesItsIp) {
  Latch latch(strict());
  latch.expect(ep("198.51.100.10", 0), std::nullopt, t0);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 0), rtp(2, 1), t0 + 2ms), accept_relatched);
}

// ---- strict: expect() ----

TEST(MediaLatchStrict, ExpectKeepsTheLockWhenItIsTheNewSdpEndpoint) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 1ms), accept_relatched);
  latch.expect(sdp, signaling_ip, t0 + 10s);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 2), t0 + 10s + 1ms), accept);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 10s + 2ms), stranger);
}

TEST(MediaLatchStrict, ExpectDropsAnyOtherLockAndOpensANewWindow) {
  Latch latch = locked_to(attacker);  // e.g. a fallback before the real party spoke
  latch.expect(sdp, signaling_ip, t0 + 10s);
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_FALSE(latch.locked_ssrc().has_value());
  EXPECT_EQ(latch.window_deadline(), t0 + 11s);
  // The old source competes like anyone else: held back, and loses to the signalled source.
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 101), t0 + 10s + 1ms), learning);
  EXPECT_EQ(latch.on_packet(sdp, rtp(7, 1), t0 + 10s + 500ms), accept_relatched);
  EXPECT_EQ(latch.locked(), sdp);
}

TEST(MediaLatchStrict, ExpectDropsTheLockOnAMoveAndTheOldSourceMayWinAsFallback) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 1ms), accept_relatched);
  latch.expect(ep("198.51.100.20", 5000), std::nullopt, t0 + 10s);  // re-INVITE: moved
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 2), t0 + 10s + 1ms), learning);
  EXPECT_EQ(latch.on_tick(t0 + 11s).relatched, true);
  EXPECT_EQ(latch.locked(), sdp);
}

TEST(MediaLatchStrict, ExpectForgetsThePreviousFallbackCandidate) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  latch.expect(sdp, signaling_ip, t0 + 500ms);
  EXPECT_EQ(latch.window_deadline(), t0 + 1500ms);
  EXPECT_EQ(latch.on_tick(t0 + 1000ms).relatched, false);  // the old deadline is gone
  EXPECT_EQ(latch.on_tick(t0 + 1500ms).relatched, false);  // and so is the candidate
  EXPECT_FALSE(latch.locked().has_value());
}

TEST(MediaLatchStrict, ExpectWithHoldAddressDropsTheLockButTheSignalingIpStillMatches) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(party_ssrc, 1), t0 + 1ms), accept_relatched);
  latch.expect(ep("0.0.0.0", 4000), signaling_ip, t0 + 5s);
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(party_ssrc, 2), t0 + 5s + 1ms),
            accept_relatched);
}

// ---- strict: NAT rebinding ----

TEST(MediaLatchRebinding, SameSsrcAdvancingSequenceFromANewPortRelatches) {
  Latch latch = locked_to(party_behind_nat);
  const Endpoint rebound = ep("203.0.113.7", 61234);
  EXPECT_EQ(latch.on_packet(rebound, rtp(party_ssrc, 101), t0 + 2s), stranger);
  EXPECT_EQ(latch.locked(), party_behind_nat);
  EXPECT_EQ(latch.on_packet(rebound, rtp(party_ssrc, 102), t0 + 2s + 20ms), accept_relatched);
  EXPECT_EQ(latch.locked(), rebound);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  EXPECT_EQ(latch.on_packet(party_behind_nat, rtp(party_ssrc, 103), t0 + 2s + 40ms), stranger);
  EXPECT_EQ(latch.on_packet(rebound, rtp(party_ssrc, 104), t0 + 2s + 60ms), accept);
}

TEST(MediaLatchRebinding, NewIpAndSequenceWrapAlsoRelatch) {
  Latch latch = locked_to(party_behind_nat);
  const Endpoint rebound = ep("198.18.0.9", 1234);
  EXPECT_EQ(latch.on_packet(rebound, rtp(party_ssrc, 65535), t0 + 2s), stranger);
  EXPECT_EQ(latch.on_packet(rebound, rtp(party_ssrc, 999), t0 + 2s + 20ms), accept_relatched);
  EXPECT_EQ(latch.locked(), rebound);
}

TEST(MediaLatchRebinding, AttackerWithRandomSsrcNeverRelatches) {
  Latch latch = locked_to(party_behind_nat);
  std::uint32_t ssrc = 0x9e3779b9;
  for (std::uint16_t sequence = 0; sequence < 500; ++sequence) {
    ssrc = ssrc * 1664525U + 1013904223U;
    if (ssrc == party_ssrc) {
      continue;
    }
    EXPECT_EQ(latch.on_packet(attacker, rtp(ssrc, sequence), t0 + 2s), stranger);
    EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, sequence), t0 + 2s), stranger);
    EXPECT_EQ(latch.on_packet(attacker, rtcp(ssrc), t0 + 2s), stranger);
  }
  EXPECT_EQ(latch.locked(), party_behind_nat);
  EXPECT_EQ(latch.counters().relatches, 1U);
}

TEST(MediaLatchRebinding, SequenceStepsOutside1To1000DoNotRelatch) {
  Latch latch = locked_to(party_behind_nat);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 5000), t0 + 2s), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 5000), t0 + 2s), stranger);  // step 0
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 6001), t0 + 2s), stranger);  // 1001
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 6000), t0 + 2s), stranger);  // backwards
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 100), t0 + 2s), stranger);   // far
  EXPECT_EQ(latch.locked(), party_behind_nat);
  // A proper step after the restart: the candidate restarted at each bad packet.
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 1100), t0 + 2s), accept_relatched);
}

TEST(MediaLatchRebinding, TwoNewSourcesTakingTurnsNeverRelatch) {
  Latch latch = locked_to(party_behind_nat);
  for (std::uint16_t sequence = 101; sequence < 120; sequence += 2) {
    EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, sequence), t0 + 2s), stranger);
    EXPECT_EQ(latch.on_packet(attacker2, rtp(party_ssrc, static_cast<std::uint16_t>(sequence + 1)),
                              t0 + 2s),
              stranger);
  }
  EXPECT_EQ(latch.locked(), party_behind_nat);
}

TEST(MediaLatchRebinding, AnotherSsrcInBetweenRestartsTheCandidate) {
  Latch latch = locked_to(party_behind_nat);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 101), t0 + 2s), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 102), t0 + 2s), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 103), t0 + 2s), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 104), t0 + 2s), accept_relatched);
}

TEST(MediaLatchRebinding, RtcpNeedsTwoPacketsWithTheSenderSsrc) {
  Latch latch = expecting();
  EXPECT_EQ(latch.on_packet(sdp, rtcp(party_ssrc), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  const Endpoint rebound = ep("198.51.100.10", 4567);
  EXPECT_EQ(latch.on_packet(rebound, rtcp(0xbad), t0 + 5s), stranger);
  EXPECT_EQ(latch.on_packet(rebound, rtcp(party_ssrc), t0 + 10s), stranger);
  EXPECT_EQ(latch.on_packet(rebound, rtcp(party_ssrc), t0 + 15s), accept_relatched);
  EXPECT_EQ(latch.locked(), rebound);
}

TEST(MediaLatchRebinding, NoSsrcNoRebinding) {
  Latch latch = expecting(strict(1000ms, false));  // e.g. image/udptl
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0, 1), t0 + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0, 2), t0 + 3ms), stranger);
  EXPECT_EQ(latch.locked(), sdp);
}

// ---- strict: forget() (RTCP expiry) ----

TEST(MediaLatchStrict, ForgetRelearnsWithTheSameExpectations) {
  Latch latch = locked_to(attacker);
  latch.forget();
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_FALSE(latch.locked_ssrc().has_value());
  EXPECT_FALSE(latch.window_deadline().has_value());
  // The next packet opens the window; the signalled source still wins inside it.
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 200), t0 + 100s), learning);
  EXPECT_EQ(latch.window_deadline(), t0 + 101s);
  EXPECT_EQ(latch.on_packet(sdp, rtcp(3), t0 + 100s + 200ms), accept_relatched);
  EXPECT_EQ(latch.locked(), sdp);
}

TEST(MediaLatchStrict, ForgetThenOnlyTheOldSourceLocksAfterTheNewWindow) {
  Latch latch = locked_to(attacker);
  latch.forget();
  EXPECT_EQ(latch.on_packet(attacker, rtcp(party_ssrc), t0 + 100s), learning);
  EXPECT_EQ(latch.on_tick(t0 + 100s + 999ms).relatched, false);
  EXPECT_EQ(latch.on_tick(t0 + 101s).relatched, true);
  EXPECT_EQ(latch.locked(), attacker);
}

TEST(MediaLatchStrict, VerdictNames) {
  EXPECT_EQ(to_string(LatchVerdict::accept), "accept");
  EXPECT_EQ(to_string(LatchVerdict::learning), "learning");
  EXPECT_EQ(to_string(LatchVerdict::stranger), "stranger");
  EXPECT_EQ(to_string(LatchVerdict::invalid), "invalid");
}

// ---- first_packet: MediaProxy's latching (compat spec 5.5) ----

LatchSettings mediaproxy() { return {LatchPolicy::first_packet, 1000ms, true}; }

TEST(MediaLatchFirstPacket, AttackerFirstWins) {
  Latch latch(mediaproxy());
  latch.expect(sdp, signaling_ip, t0);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 3ms), accept);
  EXPECT_EQ(latch.on_tick(t0 + 5s).relatched, false);
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.counters(), (Latch::Counters{2, 0, 1, 0, 1}));
}

TEST(MediaLatchFirstPacket, AnyKindLatchesAndThereIsNoRebinding) {
  Latch latch(mediaproxy());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0), accept_relatched);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 1), t0), accept);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(party_ssrc, 2), t0), stranger);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(party_ssrc, 3), t0), stranger);
  EXPECT_EQ(latch.locked(), attacker);

  Latch stun(mediaproxy());
  EXPECT_EQ(stun.on_packet(attacker, of_kind(PacketKind::stun), t0), accept_relatched);
}

TEST(MediaLatchFirstPacket, ResetKeepsTheOldAddressObsolete) {
  Latch latch(mediaproxy());
  latch.expect(sdp, std::nullopt, t0);
  EXPECT_EQ(latch.on_packet(sdp, rtp(1, 1), t0 + 1ms), accept_relatched);
  latch.expect(ep("198.51.100.20", 5000), std::nullopt, t0 + 10s);  // the party moved
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(1, 2), t0 + 10s + 1ms), stranger);  // obsolete: ignored
  EXPECT_EQ(latch.on_packet(sdp, rtp(1, 3), t0 + 10s + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 1), t0 + 10s + 3ms), accept_relatched);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.20", 5000), rtp(3, 1), t0 + 10s + 4ms), stranger);
  EXPECT_EQ(latch.locked(), attacker);
}

TEST(MediaLatchFirstPacket, FirstAnswerSameAddressAndHoldKeepTheLock) {
  Latch latch(mediaproxy());
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), accept_relatched);  // early, before SDP
  latch.expect(sdp, signaling_ip, t0 + 1s);                                // first answer
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(sdp, signaling_ip, t0 + 2s);  // same address again
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(ep("0.0.0.0", 4000), signaling_ip, t0 + 3s);  // hold
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(sdp, signaling_ip, t0 + 4s);  // back from hold to the same address
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 2), t0 + 5s), accept);
}

TEST(MediaLatchFirstPacket, ForgetForgetsLockedAndObsolete) {
  Latch latch(mediaproxy());
  latch.expect(sdp, std::nullopt, t0);
  EXPECT_EQ(latch.on_packet(sdp, rtcp(1), t0), accept_relatched);
  latch.expect(ep("198.51.100.20", 5001), std::nullopt, t0 + 1s);
  latch.forget();
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtcp(1), t0 + 100s), accept_relatched);  // not obsolete now
  EXPECT_EQ(latch.locked(), sdp);
}

}  // namespace
}  // namespace mpx::relay::media
