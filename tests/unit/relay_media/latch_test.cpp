// The latch of one sub-party, driven with explicit time points, attacked at the moments that
// suit an attacker: before the party may send (ringing), during its learning window, after it,
// with the party's SSRC, from forged addresses. Covers the ranked candidates, provisional locks
// and takeovers, unsignalled sources for parties behind a NAT only, NAT rebinding, the RTCP
// socket following its RTP, expect()/forget()/restore(), signalled_only, and the first_packet
// policy reproducing MediaProxy.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>

#include "relay/media/latch.hpp"

namespace mpx::relay::media {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address_v4;

const SteadyTime t0{std::chrono::hours(1)};

Endpoint ep(const char* ip, std::uint16_t port) { return {make_address_v4(ip), port}; }

// A public party: SDP 198.51.100.10:4000, SIP from 198.51.100.99; the relay reaches both.
const Endpoint sdp = ep("198.51.100.10", 4000);
const auto signaling_ip = make_address_v4("198.51.100.99");
const Expectation public_party{sdp, signaling_ip, true, true};

// A party behind a NAT: SDP 192.168.1.10:4000 (private, unreachable), SIP from its NAT
// 203.0.113.7; its media may come from the NAT's address or, with another public address of
// the NAT, from somewhere never signalled.
const Endpoint private_sdp = ep("192.168.1.10", 4000);
const auto nat_ip = make_address_v4("203.0.113.7");
const Expectation natted_party{private_sdp, nat_ip, false, true};
const Endpoint via_nat = ep("203.0.113.7", 61000);
const Endpoint via_other_nat_ip = ep("203.0.113.8", 62000);

const Endpoint attacker = ep("192.0.2.66", 5555);
const Endpoint attacker2 = ep("192.0.2.67", 6666);

PacketInfo rtp(std::uint32_t ssrc, std::uint16_t sequence) {
  return {PacketKind::rtp, ssrc, sequence, 0};
}
PacketInfo rtcp(std::uint32_t ssrc) { return {PacketKind::rtcp, ssrc, 0, 0}; }
PacketInfo of_kind(PacketKind kind) { return {kind, 0, 0, 0}; }

constexpr std::uint32_t party_ssrc = 0x11223344;

const LatchDecision accept{LatchVerdict::accept, LatchChange::none};
const LatchDecision locked{LatchVerdict::accept, LatchChange::locked};
const LatchDecision takeover{LatchVerdict::accept, LatchChange::takeover};
const LatchDecision rebound{LatchVerdict::accept, LatchChange::rebinding};
const LatchDecision learning{LatchVerdict::learning, LatchChange::none};
const LatchDecision stranger{LatchVerdict::stranger, LatchChange::none};
const LatchDecision invalid{LatchVerdict::invalid, LatchChange::none};

LatchSettings strict(std::chrono::milliseconds window = 1000ms, bool require_rtp = true) {
  return {LatchPolicy::strict, window, require_rtp, false};
}
LatchSettings rtcp_socket() { return {LatchPolicy::strict, 1000ms, true, true}; }

// A strict latch expecting `party`, learning from t0.
Latch learning_from_t0(const Expectation& party, LatchSettings settings = strict()) {
  Latch latch(settings);
  latch.expect(party, t0);
  latch.open(t0);
  return latch;
}

// ---- signalled candidates ----

TEST(MediaLatchStrict, TheSdpEndpointLocksAtOnceEvenBeforeLearningStarts) {
  Latch latch(strict());
  latch.expect(public_party, t0);
  EXPECT_FALSE(latch.is_open());
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 2ms), locked);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.locked_rank(), SourceRank::sdp_endpoint);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 3ms), stranger);
}

TEST(MediaLatchStrict, EachSignalledRankLocksAnEmptySocket) {
  Latch by_ip = learning_from_t0(public_party);
  EXPECT_EQ(by_ip.on_packet(ep("198.51.100.10", 4002), rtp(1, 1), t0 + 1ms), locked);
  EXPECT_EQ(by_ip.locked_rank(), SourceRank::sdp_ip);
  Latch by_signaling = learning_from_t0(public_party);
  EXPECT_EQ(by_signaling.on_packet(ep("198.51.100.99", 7000), rtp(1, 1), t0 + 1ms), locked);
  EXPECT_EQ(by_signaling.locked_rank(), SourceRank::signaling_ip);
}

// ---- unsignalled sources: never for a party the relay can reach ----

TEST(MediaLatchStrict, AnUnsignalledSourceNeverLocksWhenTheRelayReachesTheSdpAddress) {
  Latch latch(strict());
  latch.expect(public_party, t0);
  // From before the party may send, through its window, to long after it.
  for (int i = 0; i < 200; ++i) {
    const auto when = t0 + i * 50ms;
    if (i == 60) {
      latch.open(when);  // the answer: the party can send now
    }
    EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, static_cast<std::uint16_t>(i)), when), learning);
    EXPECT_FALSE(latch.on_tick(when).relatched());
  }
  EXPECT_FALSE(latch.locked().has_value());
  // The late party still locks at once.
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 10s), locked);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 999), t0 + 10s + 1ms), stranger);
  EXPECT_EQ(latch.counters().relatches, 1U);
}

// ---- unsignalled sources for a party behind a NAT ----

TEST(MediaLatchStrict, RingingDoesNotUseUpTheWindow) {
  Latch latch(strict());
  latch.expect(natted_party, t0);
  // 3 s of ringing: the party cannot send yet; a sprayer is not even tallied.
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, static_cast<std::uint16_t>(i)), t0 + i * 30ms),
              learning);
  }
  EXPECT_FALSE(latch.on_tick(t0 + 3s).relatched());
  latch.open(t0 + 3s);  // answered
  EXPECT_EQ(latch.window_deadline(), t0 + 4s);
  // In the window the party (50 packets/s) outsends the sprayer (30/s on this port).
  for (int i = 0; i < 50; ++i) {
    const auto when = t0 + 3s + i * 20ms;
    EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, static_cast<std::uint16_t>(i)),
                              when),
              learning);
    if (i % 5 < 3) {
      EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 0), when + 1ms), learning);
    }
  }
  EXPECT_EQ(latch.on_tick(t0 + 4s),
            (LatchDecision{LatchVerdict::stranger, LatchChange::window_end}));
  EXPECT_EQ(latch.locked(), via_other_nat_ip);
  EXPECT_EQ(latch.locked_rank(), SourceRank::unsignalled);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 4s + 1ms), stranger);
}

TEST(MediaLatchStrict, TheWindowEndsWithTheBusiestSourceTheFirstOnATie) {
  Latch busiest = learning_from_t0(natted_party);
  EXPECT_EQ(busiest.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(busiest.on_packet(attacker2, rtp(2, 1), t0 + 2ms), learning);
  EXPECT_EQ(busiest.on_packet(attacker2, rtp(2, 2), t0 + 3ms), learning);
  EXPECT_TRUE(busiest.on_tick(t0 + 1000ms).relatched());
  EXPECT_EQ(busiest.locked(), attacker2);

  Latch tie = learning_from_t0(natted_party);
  EXPECT_EQ(tie.on_packet(attacker2, rtp(2, 1), t0 + 1ms), learning);
  EXPECT_EQ(tie.on_packet(attacker, rtp(1, 1), t0 + 2ms), learning);
  // Noticed by the next packet as well as by a tick.
  EXPECT_EQ(tie.on_packet(attacker, rtp(1, 2), t0 + 1000ms),
            (LatchDecision{LatchVerdict::stranger, LatchChange::window_end}));
  EXPECT_EQ(tie.locked(), attacker2);
}

TEST(MediaLatchStrict, ASprayOfForgedSourcesCannotPushThePartyOutOfTheTally) {
  Latch latch = learning_from_t0(natted_party);
  std::mt19937 random(7);
  for (int i = 0; i < 50; ++i) {
    const auto when = t0 + i * 19ms;
    // Three forged sources per party packet: the party sends 1/4 of the window's unsignalled
    // packets, more than the 1/(kTallySlots + 1) that keeps a slot.
    for (int k = 0; k < 3; ++k) {
      const Endpoint forged{boost::asio::ip::address_v4(static_cast<std::uint32_t>(random())),
                            static_cast<std::uint16_t>(random())};
      EXPECT_EQ(latch.on_packet(forged, rtp(static_cast<std::uint32_t>(random()), 1), when),
                learning);
    }
    EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, static_cast<std::uint16_t>(i)),
                              when + 1ms),
              learning);
  }
  EXPECT_TRUE(latch.on_tick(t0 + 1s).relatched());
  EXPECT_EQ(latch.locked(), via_other_nat_ip);
}

TEST(MediaLatchStrict, AfterTheWindowTheFirstUnsignalledSourceLocks) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_FALSE(latch.on_tick(t0 + 1000ms).relatched());
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0 + 1100ms), invalid);
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtcp(5), t0 + 1200ms), locked);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 1201ms), stranger);
}

TEST(MediaLatchStrict, ZeroWindowLocksTheFirstUnsignalledSourceOnceThePartyCanSend) {
  Latch latch(strict(0ms));
  latch.expect(natted_party, t0);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), learning);  // ringing
  latch.open(t0 + 1s);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 1), t0 + 1s), locked);
}

// ---- provisional locks and takeovers ----

TEST(MediaLatchStrict, ABetterCandidateTakesOverAProvisionalLockAtAnyTime) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), learning);
  EXPECT_TRUE(latch.on_tick(t0 + 1s).relatched());
  EXPECT_EQ(latch.locked(), attacker);
  // The party, late, from its NAT's address (the signaling IP): it wins, whenever it comes.
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 30s), takeover);
  EXPECT_EQ(latch.locked(), via_nat);
  EXPECT_EQ(latch.locked_rank(), SourceRank::signaling_ip);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 30s + 1ms), stranger);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 2), t0 + 30s + 2ms), accept);
  EXPECT_EQ(latch.counters().takeovers, 1U);
}

TEST(MediaLatchStrict, RanksOnlyEverRise) {
  Latch latch = learning_from_t0(public_party);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.99", 7000), rtp(1, 1), t0 + 1ms), locked);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4002), rtp(2, 1), t0 + 10s), takeover);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.99", 7000), rtp(1, 2), t0 + 10s + 1ms), stranger);
  EXPECT_EQ(latch.on_packet(sdp, rtp(3, 1), t0 + 20s), takeover);
  EXPECT_EQ(latch.locked_rank(), SourceRank::sdp_endpoint);
  // An exact lock is final: nothing of lower or equal rank moves it.
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4002), rtp(2, 2), t0 + 20s + 1ms), stranger);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.99", 7000), rtp(1, 3), t0 + 20s + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(3, 2), t0 + 20s + 3ms), stranger);
  EXPECT_EQ(latch.locked(), sdp);
}

// A forged packet from a private SDP address must not cut a NATed call; the same address may
// still lock a socket nobody holds (a relay on the parties' own network).
TEST(MediaLatchStrict, AnUnreachableCandidateNeverTakesOverALock) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 1ms), locked);
  EXPECT_EQ(latch.on_packet(private_sdp, rtp(party_ssrc, 2), t0 + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(ep("192.168.1.10", 4002), rtp(party_ssrc, 3), t0 + 3ms), stranger);
  EXPECT_EQ(latch.locked(), via_nat);

  Latch empty = learning_from_t0(natted_party);
  EXPECT_EQ(empty.on_packet(private_sdp, rtp(party_ssrc, 1), t0 + 1ms), locked);
}

TEST(MediaLatchStrict, AnUnreachableSignalingIpDoesNotTakeOverEither) {
  const Expectation all_private{private_sdp, make_address_v4("10.9.9.9"), false, false};
  Latch latch = learning_from_t0(all_private);
  EXPECT_TRUE(latch.on_packet(attacker, rtp(1, 1), t0 + 1500ms).relatched());
  EXPECT_EQ(latch.on_packet(ep("10.9.9.9", 4000), rtp(2, 1), t0 + 2s), stranger);
  EXPECT_EQ(latch.locked(), attacker);
}

// ---- the lock does not move to another IP ----

TEST(MediaLatchStrict, KnowingTheSsrcDoesNotMoveTheLockToAnotherIp) {
  Latch latch = learning_from_t0(public_party);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 100), t0 + 1ms), locked);
  for (std::uint16_t sequence = 101; sequence < 400; ++sequence) {
    const auto when = t0 + 1s + sequence * 20ms;
    EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, sequence), when), stranger);
    EXPECT_EQ(latch.on_packet(attacker, rtcp(party_ssrc), when), stranger);
  }
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.counters().relatches, 1U);
}

// ---- NAT rebinding: another port of the locked IP ----

// A party behind a NAT whose mapping changed: the old port falls silent, the new one carries
// the same stream.
TEST(MediaLatchRebinding, AnotherPortOfTheLockedIpTakesOverOnceTheOldOneIsSilent) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 100), t0 + 1ms), locked);
  const Endpoint new_port = ep("203.0.113.7", 61234);
  std::uint16_t sequence = 101;
  auto when = t0 + 2s;
  for (; when < t0 + 2s + Latch::kRebindQuiet; when += 20ms, ++sequence) {
    EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, sequence), when), stranger);
  }
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, sequence), when), rebound);
  EXPECT_EQ(latch.locked(), new_port);
  EXPECT_EQ(latch.locked_rank(), SourceRank::signaling_ip);  // the lock keeps its rank
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 500), when + 20ms), stranger);
  EXPECT_EQ(latch.counters().rebindings, 1U);
}

// A blind spoofer who knows the party's IP, SSRC and sequence numbers, sending from another
// port of that IP while the party talks: two quick packets between the party's never suffice.
TEST(MediaLatchRebinding, NeverWhileTheLockedSourceKeepsSending) {
  Latch latch = learning_from_t0(public_party);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 100), t0 + 1ms), locked);
  const Endpoint spoofed = ep("198.51.100.10", 4002);
  for (int i = 0; i < 200; ++i) {
    const auto when = t0 + 1s + i * 20ms;
    const auto sequence = static_cast<std::uint16_t>(101 + i);
    EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, sequence), when), accept);
    EXPECT_EQ(latch.on_packet(spoofed, rtp(party_ssrc, sequence), when + 5ms), stranger);
    EXPECT_EQ(latch.on_packet(spoofed, rtp(party_ssrc, static_cast<std::uint16_t>(sequence + 1)),
                              when + 6ms),
              stranger);
  }
  EXPECT_EQ(latch.locked(), sdp);
}

// After the hand-off the relay does not see the locked source's packets; the kernel's counters
// tell it that the source still sends.
TEST(MediaLatchRebinding, KernelActivityOfTheLockedSourceAlsoBlocksIt) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 100), t0 + 1ms), locked);
  const Endpoint new_port = ep("203.0.113.7", 61234);
  for (int i = 0; i < 100; ++i) {
    const auto when = t0 + 2s + i * 20ms;
    latch.note_locked_active(when);
    EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, static_cast<std::uint16_t>(101 + i)),
                              when + 1ms),
              stranger);
  }
  EXPECT_EQ(latch.locked(), via_nat);
}

TEST(MediaLatchRebinding, SequenceStepsOutside1To1000StartOver) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 100), t0 + 1ms), locked);
  const Endpoint new_port = ep("203.0.113.7", 61234);
  auto when = t0 + 2s;
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 5000), when), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 5000), when += 300ms), stranger);  // 0
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 6001), when += 300ms), stranger);  // 1001
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 6000), when += 300ms), stranger);  // back
  EXPECT_EQ(latch.locked(), via_nat);
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 6010), when += 300ms), rebound);
}

TEST(MediaLatchRebinding, AnotherSsrcRestartsAndRandomSsrcsNeverRebind) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 100), t0 + 1ms), locked);
  const Endpoint new_port = ep("203.0.113.7", 61234);
  std::uint32_t ssrc = 0x9e3779b9;
  for (int i = 0; i < 300; ++i) {
    ssrc = ssrc * 1664525U + 1013904223U;
    EXPECT_EQ(latch.on_packet(new_port, rtp(ssrc, static_cast<std::uint16_t>(i)), t0 + i * 20ms),
              stranger);
  }
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 101), t0 + 10s), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtp(0xbad, 102), t0 + 10s + 300ms), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 103), t0 + 10s + 600ms), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtp(party_ssrc, 104), t0 + 10s + 900ms), rebound);
}

TEST(MediaLatchRebinding, RtcpRebindsWithItsSenderSsrc) {
  Latch latch = learning_from_t0(natted_party, rtcp_socket());
  latch.follow(nat_ip);
  EXPECT_EQ(latch.on_packet(via_nat, rtcp(party_ssrc), t0 + 1ms), locked);
  const Endpoint new_port = ep("203.0.113.7", 61235);
  EXPECT_EQ(latch.on_packet(new_port, rtcp(0xbad), t0 + 5s), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtcp(party_ssrc), t0 + 10s), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtcp(party_ssrc), t0 + 15s), rebound);
}

TEST(MediaLatchRebinding, NoSsrcNoRebinding) {
  Latch latch = learning_from_t0(public_party, strict(1000ms, false));  // e.g. image/udptl
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 1ms), locked);
  const Endpoint new_port = ep("198.51.100.10", 4002);
  EXPECT_EQ(latch.on_packet(new_port, rtp(0, 1), t0 + 1s), stranger);
  EXPECT_EQ(latch.on_packet(new_port, rtp(0, 2), t0 + 2s), stranger);
  EXPECT_EQ(latch.locked(), sdp);
}

// ---- packet kinds ----

// A WebRTC endpoint behind a NAT sends STUN and a DTLS ClientHello before any RTP.
TEST(MediaLatchStrict, StunAndDtlsAreCandidatesUnderTheSameRanking) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, of_kind(PacketKind::stun), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, of_kind(PacketKind::dtls), t0 + 2ms), learning);
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0 + 3ms), invalid);
  EXPECT_TRUE(latch.on_tick(t0 + 1s).relatched());
  EXPECT_EQ(latch.locked(), via_other_nat_ip);
  EXPECT_FALSE(latch.locked_ssrc().has_value());  // no RTP yet
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 7), t0 + 2s), accept);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);

  Latch signalled = learning_from_t0(public_party);
  EXPECT_EQ(signalled.on_packet(sdp, of_kind(PacketKind::stun), t0 + 1ms), locked);
}

TEST(MediaLatchStrict, OtherKindsAreNeverCandidatesButFlowFromTheLockedSource) {
  Latch latch = learning_from_t0(public_party);
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 1ms), invalid);
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::dtls), t0 + 2ms), locked);
  EXPECT_EQ(latch.on_packet(sdp, of_kind(PacketKind::other), t0 + 3ms), accept);
  EXPECT_EQ(latch.counters().invalid, 1U);
}

TEST(MediaLatchStrict, NonRtpStreamsTakeAnyPacketButStun) {
  Latch latch = learning_from_t0(natted_party, strict(1000ms, false));
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::stun), t0 + 1ms), invalid);
  EXPECT_EQ(latch.on_packet(attacker2, of_kind(PacketKind::other), t0 + 2ms), learning);
  EXPECT_TRUE(latch.on_tick(t0 + 1000ms).relatched());
  EXPECT_EQ(latch.locked(), attacker2);
}

// ---- the RTCP socket follows its RTP ----

TEST(MediaLatchRtcp, BeforeRtpLocksOnlySignalledSourcesAndNeverAnUnsignalledOne) {
  Latch latch = learning_from_t0(natted_party, rtcp_socket());
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(latch.on_packet(attacker, rtcp(0xbad), t0 + i * 100ms), learning);
    EXPECT_FALSE(latch.on_tick(t0 + i * 100ms).relatched());
  }
  EXPECT_EQ(latch.on_packet(ep("203.0.113.7", 61001), rtcp(party_ssrc), t0 + 10s), locked);
  EXPECT_EQ(latch.locked_rank(), SourceRank::signaling_ip);
}

TEST(MediaLatchRtcp, OnceRtpLockedOnlyItsIpOnAnyPort) {
  Latch latch = learning_from_t0(public_party, rtcp_socket());
  latch.follow(make_address_v4("203.0.113.50"));  // RTP locked to an unsignalled NAT address
  EXPECT_EQ(latch.on_packet(attacker, rtcp(0xbad), t0 + 5s), learning);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4001), rtcp(party_ssrc), t0 + 5s), learning);
  EXPECT_EQ(latch.on_packet(ep("203.0.113.50", 9001), rtcp(party_ssrc), t0 + 6s), locked);
  EXPECT_EQ(latch.locked_rank(), SourceRank::rtp_source);
  EXPECT_EQ(latch.on_packet(attacker, rtcp(0xbad), t0 + 6s + 1ms), stranger);
}

TEST(MediaLatchRtcp, AMoveOfTheRtpLockToAnotherIpDropsTheRtcpLock) {
  Latch latch = learning_from_t0(natted_party, rtcp_socket());
  latch.follow(attacker.ip);  // RTP provisionally locked to a sprayer
  EXPECT_EQ(latch.on_packet(attacker, rtcp(0xbad), t0 + 2s), locked);
  latch.follow(nat_ip);  // the party took RTP over
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(attacker, rtcp(0xbad), t0 + 3s), learning);
  EXPECT_EQ(latch.on_packet(ep("203.0.113.7", 61001), rtcp(party_ssrc), t0 + 4s), locked);
  latch.follow(nat_ip);  // the same IP again: kept
  EXPECT_EQ(latch.locked(), ep("203.0.113.7", 61001));
  latch.follow(std::nullopt);  // RTP lost its lock (e.g. the party moved)
  EXPECT_FALSE(latch.locked().has_value());
}

TEST(MediaLatchRtcp, ASignalledLockOnRtpsIpIsKept) {
  Latch latch = learning_from_t0(public_party, rtcp_socket());
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 4001), rtcp(party_ssrc), t0 + 1ms), locked);
  latch.follow(sdp.ip);
  EXPECT_EQ(latch.locked(), ep("198.51.100.10", 4001));
  EXPECT_EQ(latch.locked_rank(), SourceRank::rtp_source);
}

// ---- expect(): offers and answers ----

TEST(MediaLatchStrict, ExpectKeepsAnExactLockAndRestartsLearning) {
  Latch latch = learning_from_t0(public_party);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 1ms), locked);
  latch.expect(public_party, t0 + 10s);
  EXPECT_EQ(latch.locked(), sdp);
  EXPECT_EQ(latch.locked_ssrc(), party_ssrc);
  EXPECT_EQ(latch.window_deadline(), t0 + 11s);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 10s + 2ms), stranger);
}

TEST(MediaLatchStrict, ExpectDropsAnyOtherLockAndTheOldSourceCompetesAnew) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_TRUE(latch.on_packet(attacker, rtp(1, 1), t0 + 1500ms).relatched());
  latch.expect(natted_party, t0 + 10s);  // e.g. a re-INVITE with another private port
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.window_deadline(), t0 + 11s);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 2), t0 + 10s + 1ms), learning);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 10s + 500ms), locked);
}

TEST(MediaLatchStrict, ExpectMovingThePartyToAReachableAddressShutsUnsignalledSourcesOut) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_TRUE(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 1), t0 + 1500ms).relatched());
  latch.expect(public_party, t0 + 10s);  // transferred to a public phone
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 2), t0 + 12s), learning);
  EXPECT_EQ(latch.on_packet(sdp, rtp(7, 1), t0 + 12s + 1ms), locked);
}

TEST(MediaLatchStrict, ExpectWithAnUnknownAddressKeepsEverything) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 1ms), locked);
  latch.expect(Expectation{ep("0.0.0.0", 4000), nat_ip, false, true}, t0 + 5s);  // hold
  EXPECT_EQ(latch.locked(), via_nat);
  latch.expect(Expectation{std::nullopt, nat_ip, false, true}, t0 + 6s);
  EXPECT_EQ(latch.locked(), via_nat);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 2), t0 + 6s + 1ms), accept);
}

// The answerer between the offer and its answer: it may send already, but nothing says where
// it is, so nothing but a signalled source can lock.
TEST(MediaLatchStrict, TheAnswererBeforeItsAnswerOnlyLocksOnASignalledSource) {
  Latch latch(strict());
  latch.expect(Expectation{std::nullopt, std::nullopt, false, false}, t0);
  latch.open(t0);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 1), t0 + 1ms), learning);
  EXPECT_FALSE(latch.on_tick(t0 + 30s).relatched());
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 2), t0 + 30s), learning);
  latch.expect(natted_party, t0 + 31s);  // the answer
  EXPECT_EQ(latch.window_deadline(), t0 + 32s);
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 3), t0 + 31s + 1ms), learning);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 31s + 2ms), locked);
}

TEST(MediaLatchStrict, SdpWithPortZeroStillMatchesItsIp) {
  Latch latch = learning_from_t0(Expectation{ep("198.51.100.10", 0), std::nullopt, true, false});
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0 + 1ms), learning);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.10", 0), rtp(2, 1), t0 + 2ms), locked);
  EXPECT_EQ(latch.locked_rank(), SourceRank::sdp_ip);
}

// ---- signalled_only ----

TEST(MediaLatchSignalledOnly, AnUnsignalledSourceNeverLocksEvenForANattedParty) {
  Latch latch = learning_from_t0(natted_party, {LatchPolicy::signalled_only, 1000ms, true, false});
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 1), t0 + 1ms), learning);
  EXPECT_FALSE(latch.on_tick(t0 + 1s).relatched());
  EXPECT_EQ(latch.on_packet(via_other_nat_ip, rtp(party_ssrc, 2), t0 + 5s), learning);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 3), t0 + 6s), locked);
}

// ---- forget() and restore() ----

TEST(MediaLatchStrict, ForgetRelearnsWithTheSameExpectations) {
  Latch latch = learning_from_t0(natted_party);
  EXPECT_TRUE(latch.on_packet(attacker, rtp(1, 1), t0 + 1500ms).relatched());
  latch.forget();
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_FALSE(latch.window_deadline().has_value());
  // The next packet opens the window; the signalled source wins inside it.
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 2), t0 + 100s), learning);
  EXPECT_EQ(latch.window_deadline(), t0 + 101s);
  EXPECT_EQ(latch.on_packet(via_nat, rtcp(3), t0 + 100s + 200ms), locked);
}

TEST(MediaLatchStrict, RestoreLocksWithTheRankTheSourceHasAndLearningOver) {
  Latch latch(strict());
  latch.restore(natted_party, attacker);
  EXPECT_TRUE(latch.is_open());
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.locked_rank(), SourceRank::unsignalled);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), accept);
  EXPECT_EQ(latch.on_packet(via_nat, rtp(party_ssrc, 1), t0 + 1ms), takeover);

  Latch exact(strict());
  exact.restore(public_party, sdp);
  EXPECT_EQ(exact.locked_rank(), SourceRank::sdp_endpoint);
}

TEST(MediaLatchStrict, Names) {
  EXPECT_EQ(to_string(LatchVerdict::accept), "accept");
  EXPECT_EQ(to_string(LatchVerdict::learning), "learning");
  EXPECT_EQ(to_string(LatchVerdict::stranger), "stranger");
  EXPECT_EQ(to_string(LatchVerdict::invalid), "invalid");
  EXPECT_EQ(to_string(LatchChange::takeover), "takeover");
  EXPECT_EQ(to_string(SourceRank::signaling_ip), "signaling IP");
  EXPECT_EQ(to_string(LatchPolicy::signalled_only), "signalled_only");
}

// ---- first_packet: MediaProxy's latching (compat spec 5.5) ----

LatchSettings mediaproxy() { return {LatchPolicy::first_packet, 1000ms, true, false}; }

Expectation at(const Endpoint& where) { return {where, std::nullopt, true, false}; }

TEST(MediaLatchFirstPacket, AttackerFirstWins) {
  Latch latch(mediaproxy());
  latch.expect(public_party, t0);
  latch.open(t0);
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 1), t0 + 1ms), locked);
  EXPECT_EQ(latch.on_packet(sdp, rtp(party_ssrc, 1), t0 + 2ms), stranger);
  EXPECT_EQ(latch.on_packet(attacker, rtp(0xbad, 2), t0 + 3ms), accept);
  EXPECT_FALSE(latch.on_tick(t0 + 5s).relatched());
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.counters(), (Latch::Counters{2, 0, 1, 0, 1, 0, 0}));
}

TEST(MediaLatchFirstPacket, AnyKindLatchesAndThereIsNoRebinding) {
  Latch latch(mediaproxy());
  EXPECT_EQ(latch.on_packet(attacker, of_kind(PacketKind::other), t0), locked);
  EXPECT_EQ(latch.on_packet(attacker, rtp(party_ssrc, 1), t0), accept);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(party_ssrc, 2), t0 + 1s), stranger);
  EXPECT_EQ(latch.on_packet(attacker2, rtp(party_ssrc, 3), t0 + 2s), stranger);
  EXPECT_EQ(latch.locked(), attacker);

  Latch stun(mediaproxy());
  EXPECT_EQ(stun.on_packet(attacker, of_kind(PacketKind::stun), t0), locked);
}

TEST(MediaLatchFirstPacket, ResetKeepsTheOldAddressObsolete) {
  Latch latch(mediaproxy());
  latch.expect(at(sdp), t0);
  EXPECT_EQ(latch.on_packet(sdp, rtp(1, 1), t0 + 1ms), locked);
  latch.expect(at(ep("198.51.100.20", 5000)), t0 + 10s);  // the party moved
  EXPECT_FALSE(latch.locked().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtp(1, 2), t0 + 10s + 1ms), stranger);  // obsolete: ignored
  EXPECT_EQ(latch.on_packet(attacker, rtp(2, 1), t0 + 10s + 3ms), locked);
  EXPECT_EQ(latch.on_packet(ep("198.51.100.20", 5000), rtp(3, 1), t0 + 10s + 4ms), stranger);
  EXPECT_EQ(latch.locked(), attacker);
}

TEST(MediaLatchFirstPacket, FirstAnswerSameAddressAndHoldKeepTheLock) {
  Latch latch(mediaproxy());
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 1), t0), locked);  // early, before SDP
  latch.expect(public_party, t0 + 1s);                          // first answer
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(public_party, t0 + 2s);  // same address again
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(at(ep("0.0.0.0", 4000)), t0 + 3s);  // hold
  EXPECT_EQ(latch.locked(), attacker);
  latch.expect(public_party, t0 + 4s);  // back from hold to the same address
  EXPECT_EQ(latch.locked(), attacker);
  EXPECT_EQ(latch.on_packet(attacker, rtp(1, 2), t0 + 5s), accept);
}

TEST(MediaLatchFirstPacket, ForgetForgetsLockedAndObsolete) {
  Latch latch(mediaproxy());
  latch.expect(at(sdp), t0);
  EXPECT_EQ(latch.on_packet(sdp, rtcp(1), t0), locked);
  latch.expect(at(ep("198.51.100.20", 5001)), t0 + 1s);
  latch.forget();
  EXPECT_FALSE(latch.window_deadline().has_value());
  EXPECT_EQ(latch.on_packet(sdp, rtcp(1), t0 + 100s), locked);  // not obsolete now
  EXPECT_EQ(latch.locked(), sdp);
}

}  // namespace
}  // namespace mpx::relay::media
