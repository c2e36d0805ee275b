// MediaEngine over loopback: forwarding before hand-off with the relay's sockets as source, the
// hand-off of each sub-stream to the Datapath, traffic totals, bleed resistance (learning that
// starts at the answer, RTCP that follows RTP, takeovers and NAT rebinding with flows installed),
// PartyReset, the on-hold / no-traffic timers, failed hand-offs, StreamClosed and release_pair.
#include <boost/asio/ip/network_v4.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "relay/engine/media_engine.hpp"
#include "tests/unit/relay_engine/engine_fixture.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::relay::test {
namespace {

using namespace std::chrono_literals;
using engine::MediaEngine;
using session::Party;

constexpr session::StreamId kStream = 7;
constexpr std::uint32_t kCallerSsrc = 0x11111111;
constexpr std::uint32_t kCalleeSsrc = 0x22222222;
constexpr std::uint32_t kAttackerSsrc = 0x66666666;
constexpr std::uint64_t kRtpBytes = 12 + 160 + 28;  // rtp_packet() as an IPv4 datagram
constexpr std::uint64_t kRtcpBytes = 8 + 28;

struct ExpiryEvent {
  session::StreamId id;
  session::ExpiryReason reason;
  std::int64_t timeout_wait;
  std::chrono::steady_clock::time_point at;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest()
      : sockets_(io_.get_executor(),
                 [this](const datapath::MediaSockets::Packet& packet) {
                   if (engine_) engine_->on_packet(packet);
                 }),
        datapath_(sockets_) {
    engine::EngineSettings settings;
    settings.bind_ip = boost::asio::ip::make_address_v4("127.0.0.1");
    settings.latch.window = 200ms;
    settings.stream_timeout = 1s;
    settings.on_hold_timeout = 2s;
    settings.poll_interval = 100ms;
    settings.latch_tick = 50ms;
    settings.install_retry = 1s;
    // The peers' SDP addresses are loopback: let RTP go to them before the peer latched.
    settings.routable_private_ranges = {boost::asio::ip::make_network_v4("127.0.0.0/8")};
    engine::EngineEvents events;
    events.media_seen = [this](session::StreamId id, Party party,
                               std::optional<std::uint8_t> payload_type) {
      media_seen_.push_back({id, party, payload_type});
    };
    events.rtp_expired = [this](session::StreamId id, session::ExpiryReason reason,
                                std::int64_t wait) {
      expiries_.push_back({id, reason, wait, std::chrono::steady_clock::now()});
    };
    engine_ = std::make_unique<MediaEngine>(io_.get_executor(), settings, sockets_, datapath_,
                                            events);
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto range = free_range(2);
      caller_port_ = static_cast<std::uint16_t>(range.start);
      callee_port_ = static_cast<std::uint16_t>(range.start + 2);
      if (engine_->bind_pair(caller_port_)) {
        if (engine_->bind_pair(callee_port_)) break;
        engine_->release_pair(caller_port_);
      }
    }
    engine_->start();
  }

  ~EngineTest() override {
    engine_->stop();
    engine_.reset();
  }

  Endpoint caller_rtp_local() const { return endpoint("127.0.0.1", caller_port_); }
  Endpoint caller_rtcp_local() const {
    return endpoint("127.0.0.1", static_cast<std::uint16_t>(caller_port_ + 1));
  }
  Endpoint callee_rtp_local() const { return endpoint("127.0.0.1", callee_port_); }
  Endpoint callee_rtcp_local() const {
    return endpoint("127.0.0.1", static_cast<std::uint16_t>(callee_port_ + 1));
  }

  // The caller's offer with this SDP address: the stream's StreamOpened.
  session::StreamOpened offer(const session::Endpoint& caller_sdp) const {
    session::StreamOpened opened;
    opened.id = kStream;
    opened.session = {"call-1", "caller-tag"};
    opened.media_type = "audio";
    opened.caller_local = {boost::asio::ip::make_address_v4("127.0.0.1"), caller_port_};
    opened.callee_local = {boost::asio::ip::make_address_v4("127.0.0.1"), callee_port_};
    opened.offerer = Party::caller;
    opened.offerer_sdp = caller_sdp;
    return opened;
  }

  // The caller offered (its SDP known from the start); the callee's answer was accepted.
  void open_stream() {
    engine_->apply(offer(to_session(caller_.rtp_endpoint())), {});
    engine_->apply(session::PartySdpAccepted{kStream, Party::callee,
                                             to_session(callee_.rtp_endpoint())},
                   {});
    opened_at_ = std::chrono::steady_clock::now();
  }

  // One RTP packet from the caller, waited for at the callee (and the reverse).
  void caller_rtp(std::uint16_t seq) {
    const auto before = callee_.rtp().received().size();
    caller_.rtp().send(caller_rtp_local(), rtp_packet(kCallerSsrc, seq));
    ASSERT_TRUE(pump_until(io_, [&] { return callee_.rtp().received().size() == before + 1; },
                           {&callee_}))
        << "caller RTP " << seq << " did not reach the callee";
  }
  void callee_rtp(std::uint16_t seq) {
    const auto before = caller_.rtp().received().size();
    callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, seq));
    ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtp().received().size() == before + 1; },
                           {&caller_}))
        << "callee RTP " << seq << " did not reach the caller";
  }

  // Both sides sent RTP once: the RTP sub-stream is handed off.
  void establish_rtp() {
    open_stream();
    caller_rtp(1);
    callee_rtp(1);
    ASSERT_EQ(datapath_.installs.size(), 1u);
  }

  datapath::Flow rtp_flow(Peer& callee) const {
    return {caller_.rtp_endpoint(), caller_rtp_local(), callee_rtp_local(), callee.rtp_endpoint()};
  }

  // Both sides send RTP every 50 ms until `done` or `limit`.
  bool media_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                   bool callee_sends = true) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      caller_.rtp().send(caller_rtp_local(), rtp_packet(kCallerSsrc, ++caller_seq_));
      if (callee_sends) {
        callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, ++callee_seq_));
      }
      if (pump_until(io_, done, {&caller_, &callee_}, 50ms)) return true;
    }
    return done();
  }

  boost::asio::io_context io_;
  datapath::MediaSockets sockets_;
  RecordingDatapath datapath_;
  std::unique_ptr<MediaEngine> engine_;
  std::uint16_t caller_port_ = 0;
  std::uint16_t callee_port_ = 0;
  Peer caller_{"127.0.0.2"};
  Peer callee_{"127.0.0.3"};
  Peer attacker_{"127.0.0.4"};
  std::uint16_t caller_seq_ = 100;
  std::uint16_t callee_seq_ = 100;
  std::chrono::steady_clock::time_point opened_at_;
  struct Seen {
    session::StreamId id;
    Party party;
    std::optional<std::uint8_t> payload_type;
  };
  std::vector<Seen> media_seen_;
  std::vector<ExpiryEvent> expiries_;
};

bool has_ssrc(const std::vector<Datagram>& datagrams, std::uint32_t ssrc) {
  return std::any_of(datagrams.begin(), datagrams.end(), [&](const Datagram& d) {
    return d.data.size() >= 12 &&
           ((std::uint32_t{d.data[8]} << 24) | (std::uint32_t{d.data[9]} << 16) |
            (std::uint32_t{d.data[10]} << 8) | std::uint32_t{d.data[11]}) == ssrc;
  });
}

TEST_F(EngineTest, ForwardsBothWaysHandsOffEachSubStreamAndTotalsTraffic) {
  open_stream();

  // Before hand-off the engine relays, from the relay's own sockets.
  caller_rtp(1);
  EXPECT_EQ(callee_.rtp().received()[0].source, callee_rtp_local());
  EXPECT_EQ(callee_.rtp().received()[0].data, rtp_packet(kCallerSsrc, 1));
  EXPECT_EQ(engine_->stats().relayed_packets, 1u);
  EXPECT_TRUE(datapath_.installs.empty()) << "handed off before the callee sent anything";

  callee_rtp(1);
  EXPECT_EQ(caller_.rtp().received()[0].source, caller_rtp_local());
  EXPECT_EQ(caller_.rtp().received()[0].data, rtp_packet(kCalleeSsrc, 1));
  EXPECT_EQ(engine_->stats().relayed_packets, 2u);
  ASSERT_EQ(datapath_.installs.size(), 1u);
  EXPECT_EQ(datapath_.installs[0], rtp_flow(callee_));
  EXPECT_EQ(engine_->installed_flows(), 1u);
  EXPECT_EQ(engine_->stats().handoffs, 1u);

  // media_seen: first packet of each party, with the RTP payload type.
  ASSERT_EQ(media_seen_.size(), 2u);
  EXPECT_EQ(media_seen_[0].party, Party::caller);
  EXPECT_EQ(media_seen_[0].payload_type, std::optional<std::uint8_t>(8));
  EXPECT_EQ(media_seen_[1].party, Party::callee);

  // After hand-off the datapath forwards: the engine's counter stays put.
  for (std::uint16_t seq = 2; seq <= 6; ++seq) {
    caller_rtp(seq);
    callee_rtp(seq);
  }
  EXPECT_EQ(engine_->stats().relayed_packets, 2u);
  EXPECT_EQ(sockets_.stats().forwarded_packets, 10u);
  for (const auto& d : callee_.rtp().received()) EXPECT_EQ(d.source, callee_rtp_local());
  for (const auto& d : caller_.rtp().received()) EXPECT_EQ(d.source, caller_rtp_local());

  // RTCP: never sent to an SDP address, so the caller's first one has no destination yet;
  // the callee's is relayed (the caller's RTCP source is locked) and hands RTCP off.
  caller_.rtcp().send(caller_rtcp_local(), rtcp_packet(kCallerSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().no_destination == 1; }));
  callee_.rtcp().send(callee_rtcp_local(), rtcp_packet(kCalleeSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtcp().received().size() == 1; }, {&caller_}));
  EXPECT_EQ(caller_.rtcp().received()[0].source, caller_rtcp_local());
  ASSERT_EQ(datapath_.installs.size(), 2u);
  EXPECT_EQ(datapath_.installs[1], (datapath::Flow{caller_.rtcp_endpoint(), caller_rtcp_local(),
                                                   callee_rtcp_local(), callee_.rtcp_endpoint()}));
  EXPECT_EQ(engine_->installed_flows(), 2u);
  EXPECT_EQ(engine_->stats().relayed_packets, 3u);
  caller_.rtcp().send(caller_rtcp_local(), rtcp_packet(kCallerSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return callee_.rtcp().received().size() == 1; }, {&callee_}));
  EXPECT_EQ(callee_.rtcp().received()[0].source, callee_rtcp_local());
  EXPECT_EQ(engine_->stats().relayed_packets, 3u);

  // Totals: userspace (1 RTP each, 1 RTCP caller + 1 RTCP callee) + datapath (5 RTP each,
  // 1 RTCP caller), IPv4 datagram bytes.
  const auto traffic = engine_->traffic(kStream);
  EXPECT_EQ(traffic.caller_packets, 6u + 2u);
  EXPECT_EQ(traffic.caller_bytes, 6 * kRtpBytes + 2 * kRtcpBytes);
  EXPECT_EQ(traffic.callee_packets, 6u + 1u);
  EXPECT_EQ(traffic.callee_bytes, 6 * kRtpBytes + kRtcpBytes);
  EXPECT_EQ(traffic.caller_remote, to_session(caller_.rtp_endpoint()));
  EXPECT_EQ(traffic.callee_remote, to_session(callee_.rtp_endpoint()));
}

TEST_F(EngineTest, AttackerIsNeverRelayedNorAnswered) {
  open_stream();
  // Before any lock: held back during the learning window.
  attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, 1));
  attacker_.rtp().send(callee_rtp_local(), rtp_packet(kAttackerSsrc, 2));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().learning == 2; }));

  caller_rtp(1);
  callee_rtp(1);
  ASSERT_EQ(datapath_.installs.size(), 1u);
  EXPECT_EQ(datapath_.installs[0], rtp_flow(callee_));

  // After lock (and after hand-off): strangers, even past the learning window.
  pump_for(io_, 300ms);
  for (std::uint16_t seq = 3; seq < 7; ++seq) {
    attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, seq));
    attacker_.rtp().send(callee_rtp_local(), rtp_packet(kAttackerSsrc, seq));
  }
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().strangers >= 8; }));
  caller_rtp(2);
  callee_rtp(2);
  pump_for(io_, 100ms, {&caller_, &callee_, &attacker_});

  EXPECT_EQ(attacker_.received_count(), 0u);
  EXPECT_FALSE(has_ssrc(caller_.rtp().received(), kAttackerSsrc));
  EXPECT_FALSE(has_ssrc(callee_.rtp().received(), kAttackerSsrc));
  EXPECT_EQ(caller_.rtp().received().size(), 2u);
  EXPECT_EQ(callee_.rtp().received().size(), 2u);
  EXPECT_EQ(caller_.rtcp().received().size(), 0u);
  EXPECT_EQ(callee_.rtcp().received().size(), 0u);
  EXPECT_EQ(engine_->stats().learning, 2u);
  EXPECT_EQ(engine_->stats().relayed_packets, 2u);
  const auto traffic = engine_->traffic(kStream);
  EXPECT_EQ(traffic.caller_packets, 2u);
  EXPECT_EQ(traffic.callee_packets, 2u);
  EXPECT_EQ(traffic.caller_remote, to_session(caller_.rtp_endpoint()));
}

TEST_F(EngineTest, PartyResetMovesTheFlowToTheNewAddress) {
  establish_rtp();
  caller_rtp(2);
  callee_rtp(2);
  caller_rtp(3);
  callee_rtp(3);

  // Another IP: on the same IP the old address would match the new SDP IP and lock at once.
  Peer moved{"127.0.0.5"};
  engine_->apply(session::PartyReset{kStream, Party::callee, to_session(moved.rtp_endpoint())},
                 {});
  ASSERT_EQ(datapath_.removes.size(), 1u);
  EXPECT_EQ(datapath_.removes[0], rtp_flow(callee_));
  EXPECT_EQ(engine_->installed_flows(), 0u);
  EXPECT_TRUE(datapath_.flows().empty());

  // The old address competes like a stranger: held back, not relayed.
  callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, 4));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().learning == 1; }));

  moved.rtp().send(callee_rtp_local(), rtp_packet(0x33333333, 1));
  ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtp().received().size() == 4; }, {&caller_}));
  EXPECT_EQ(caller_.rtp().received().back().data, rtp_packet(0x33333333, 1));
  ASSERT_EQ(datapath_.installs.size(), 2u);
  EXPECT_EQ(datapath_.installs[1], rtp_flow(moved));

  caller_.rtp().send(caller_rtp_local(), rtp_packet(kCallerSsrc, 4));
  ASSERT_TRUE(pump_until(io_, [&] { return moved.rtp().received().size() == 1; }, {&moved}));
  EXPECT_EQ(moved.rtp().received()[0].source, callee_rtp_local());
  pump_for(io_, 50ms, {&callee_});
  EXPECT_EQ(callee_.rtp().received().size(), 3u) << "the old callee address still gets media";

  // Totals keep the removed flow's counters: caller 1 userspace + 2 old flow + 1 new flow,
  // callee 1 userspace + 2 old flow + 1 userspace from the new address.
  const auto traffic = engine_->traffic(kStream);
  EXPECT_EQ(traffic.caller_packets, 4u);
  EXPECT_EQ(traffic.callee_packets, 4u);
  EXPECT_EQ(traffic.caller_bytes, 4 * kRtpBytes);
  EXPECT_EQ(traffic.callee_remote, to_session(moved.rtp_endpoint()));
}

// A reset toward the address the party is already latched to still takes its flow out of the
// datapath (PartyReset: "that party's flows leave the datapath"); the flow comes back once the
// party sends again.
TEST_F(EngineTest, PartyResetToTheSameAddressStillLeavesTheDatapath) {
  establish_rtp();
  engine_->apply(session::PartyReset{kStream, Party::callee, to_session(callee_.rtp_endpoint())},
                 {});
  ASSERT_EQ(datapath_.removes.size(), 1u);
  EXPECT_EQ(engine_->installed_flows(), 0u);
  caller_rtp(2);
  EXPECT_EQ(datapath_.installs.size(), 1u) << "handed off before the reset party sent media";
  callee_rtp(2);
  ASSERT_EQ(datapath_.installs.size(), 2u);
  EXPECT_EQ(datapath_.installs[1], rtp_flow(callee_));
}

TEST_F(EngineTest, OnHoldExpiresAfterOnHoldTimeoutEvenWhileMediaFlows) {
  establish_rtp();
  engine_->apply(session::HoldChanged{kStream, true}, {});
  const auto held_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(media_until([&] { return !expiries_.empty(); }, 3500ms)) << "never expired";
  EXPECT_EQ(expiries_[0].id, kStream);
  EXPECT_EQ(expiries_[0].reason, session::ExpiryReason::on_hold);
  EXPECT_EQ(expiries_[0].timeout_wait, 2);
  EXPECT_GE(expiries_[0].at - held_at, 2s);
  EXPECT_LT(expiries_[0].at - held_at, 2800ms);
}

TEST_F(EngineTest, LeavingHoldGoesBackToTheNoTrafficTimer) {
  establish_rtp();
  engine_->apply(session::HoldChanged{kStream, true}, {});
  EXPECT_FALSE(media_until([&] { return !expiries_.empty(); }, 1500ms));
  engine_->apply(session::HoldChanged{kStream, false}, {});
  EXPECT_FALSE(media_until([&] { return !expiries_.empty(); }, 1500ms))
      << "the on-hold timer still ran after the stream left hold";
}

TEST_F(EngineTest, NoTrafficExpiryWhenAPartyNeverSends) {
  open_stream();
  ASSERT_TRUE(media_until([&] { return !expiries_.empty(); }, 2500ms, /*callee_sends=*/false))
      << "never expired";
  EXPECT_EQ(expiries_[0].id, kStream);
  EXPECT_EQ(expiries_[0].reason, session::ExpiryReason::no_traffic);
  EXPECT_EQ(expiries_[0].timeout_wait, 1);
  EXPECT_GE(expiries_[0].at - opened_at_, 1s);
  EXPECT_LT(expiries_[0].at - opened_at_, 1800ms);
  EXPECT_TRUE(datapath_.install_attempts.empty());
}

TEST_F(EngineTest, NoTrafficExpiryWhenMediaStops) {
  establish_rtp();
  EXPECT_FALSE(media_until([&] { return !expiries_.empty(); }, 1200ms));
  const auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(pump_until(io_, [&] { return !expiries_.empty(); }, {}, 2500ms));
  EXPECT_EQ(expiries_[0].reason, session::ExpiryReason::no_traffic);
  EXPECT_GE(expiries_[0].at - stopped_at, 900ms);
}

TEST_F(EngineTest, NoExpiryWhileMediaFlowsThroughTheDatapath) {
  establish_rtp();
  EXPECT_FALSE(media_until([&] { return !expiries_.empty(); }, 2500ms))
      << "expired with reason " << session::to_string(expiries_[0].reason);
  EXPECT_EQ(engine_->installed_flows(), 1u);
  EXPECT_EQ(engine_->stats().relayed_packets, 2u) << "media did not go through the datapath";
}

TEST_F(EngineTest, FailedInstallKeepsForwardingInUserspaceAndRetries) {
  datapath_.fail_installs = true;
  open_stream();
  caller_rtp(1);
  callee_rtp(1);
  const auto failed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(datapath_.install_attempts.size(), 1u);
  EXPECT_EQ(engine_->stats().handoff_errors, 1u);
  EXPECT_EQ(engine_->installed_flows(), 0u);

  // No retry before install_retry; media keeps flowing through the engine.
  for (std::uint16_t seq = 2; seq <= 4; ++seq) {
    caller_rtp(seq);
    callee_rtp(seq);
  }
  EXPECT_EQ(engine_->stats().relayed_packets, 8u);
  EXPECT_EQ(datapath_.install_attempts.size(), 1u) << "retried before install_retry";

  datapath_.fail_installs = false;
  pump_for(io_, std::chrono::duration_cast<std::chrono::milliseconds>(
                    failed_at + 1100ms - std::chrono::steady_clock::now()));
  caller_rtp(5);
  ASSERT_EQ(datapath_.install_attempts.size(), 2u);
  ASSERT_EQ(datapath_.installs.size(), 1u);
  EXPECT_EQ(datapath_.installs[0], rtp_flow(callee_));
  EXPECT_EQ(engine_->installed_flows(), 1u);
  const auto relayed = engine_->stats().relayed_packets;
  caller_rtp(6);
  callee_rtp(5);
  EXPECT_EQ(engine_->stats().relayed_packets, relayed);
}

TEST_F(EngineTest, StreamClosedRemovesFlowsAndReleasePairClosesSockets) {
  establish_rtp();
  engine_->apply(session::StreamClosed{kStream, "closed"}, {});
  ASSERT_EQ(datapath_.removes.size(), 1u);
  EXPECT_EQ(datapath_.removes[0], rtp_flow(callee_));
  EXPECT_EQ(engine_->installed_flows(), 0u);
  EXPECT_EQ(engine_->stream_count(), 0u);
  EXPECT_TRUE(datapath_.flows().empty());
  EXPECT_EQ(engine_->traffic(kStream), session::StreamTraffic{});

  // Late packets hit a socket no stream owns: neither relayed nor handed off.
  caller_.rtp().send(caller_rtp_local(), rtp_packet(kCallerSsrc, 2));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().unknown_port == 1; }));
  pump_for(io_, 50ms, {&callee_});
  EXPECT_EQ(callee_.rtp().received().size(), 1u);

  // The sockets belong to the port pool until it releases the pairs.
  EXPECT_TRUE(sockets_.is_open(caller_rtp_local()));
  engine_->release_pair(caller_port_);
  engine_->release_pair(callee_port_);
  EXPECT_FALSE(sockets_.is_open(caller_rtp_local()));
  EXPECT_FALSE(sockets_.is_open(caller_rtcp_local()));
  EXPECT_FALSE(sockets_.is_open(callee_rtp_local()));
  EXPECT_FALSE(sockets_.is_open(callee_rtcp_local()));
  EXPECT_EQ(sockets_.open_count(), 0u);
  // The ports are really free again.
  Socket probe("127.0.0.1", caller_port_);
  EXPECT_TRUE(probe.bound());
}

TEST_F(EngineTest, IdleRtcpIsForgottenAndLatchesAgain) {
  establish_rtp();
  caller_.rtcp().send(caller_rtcp_local(), rtcp_packet(kCallerSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().no_destination == 1; }));
  callee_.rtcp().send(callee_rtcp_local(), rtcp_packet(kCalleeSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return caller_.rtcp().received().size() == 1; }, {&caller_}));
  ASSERT_EQ(datapath_.installs.size(), 2u);
  const auto rtcp_flow = datapath_.installs[1];
  const auto last_rtcp = std::chrono::steady_clock::now();

  // RTP keeps flowing, RTCP stops: after stream_timeout only the RTCP flow goes.
  ASSERT_TRUE(media_until([&] { return !datapath_.removes.empty(); }, 2500ms))
      << "idle RTCP was never forgotten";
  EXPECT_GE(std::chrono::steady_clock::now() - last_rtcp, 900ms);
  ASSERT_EQ(datapath_.removes.size(), 1u);
  EXPECT_EQ(datapath_.removes[0], rtcp_flow);
  EXPECT_EQ(engine_->installed_flows(), 1u);
  EXPECT_TRUE(expiries_.empty()) << "RTCP idleness must not expire the stream";

  // RTCP latches anew (toward the SDP port + 1) and is handed off again.
  callee_.rtcp().send(callee_rtcp_local(), rtcp_packet(kCalleeSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().no_destination == 2; }));
  caller_.rtcp().send(caller_rtcp_local(), rtcp_packet(kCallerSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return callee_.rtcp().received().size() == 1; }, {&callee_}));
  ASSERT_EQ(datapath_.installs.size(), 3u);
  EXPECT_EQ(datapath_.installs[2], rtcp_flow);
  EXPECT_EQ(engine_->installed_flows(), 2u);
}

// A NAT rebinding after the hand-off: the old port falls silent, a new port of the same IP
// carries the same stream. The flow forwards the old source, so the engine asks the datapath's
// counters whether it is really silent before the lock moves.
TEST_F(EngineTest, NatRebindingAfterHandOffMovesTheFlowOnceTheOldPortIsSilent) {
  establish_rtp();
  caller_rtp(2);
  Socket rebound("127.0.0.2", 0);
  ASSERT_TRUE(rebound.bound());
  const auto latches = engine_->stats().latches;

  // Same SSRC from a new port while the old one still talks: never re-latched.
  for (std::uint16_t seq = 3; seq < 15; seq += 2) {
    caller_rtp(seq);
    rebound.send(caller_rtp_local(), rtp_packet(kCallerSsrc, static_cast<std::uint16_t>(seq + 1)));
    pump_for(io_, 30ms, {&callee_});
  }
  EXPECT_EQ(engine_->stats().latches, latches);
  EXPECT_TRUE(datapath_.removes.empty());

  // The old port falls silent: after Latch::kRebindQuiet of the new port alone, it moves.
  std::uint16_t seq = 20;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(pump_until(
      io_,
      [&] {
        rebound.send(caller_rtp_local(), rtp_packet(kCallerSsrc, seq++));
        pump_for(io_, 20ms, {&callee_});
        return engine_->stats().rebindings == 1;
      },
      {&callee_}, 2000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, media::Latch::kRebindQuiet);
  EXPECT_EQ(engine_->stats().latches, latches + 1);
  ASSERT_EQ(datapath_.removes.size(), 1u);
  ASSERT_EQ(datapath_.installs.size(), 2u);
  EXPECT_EQ(datapath_.installs[1].caller_remote, rebound.endpoint());

  // The callee's media now goes to the new address, through the datapath.
  const auto relayed = engine_->stats().relayed_packets;
  callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, 2));
  ASSERT_TRUE(pump_until(io_, [&] {
    rebound.collect();
    return rebound.received().size() == 1;
  }));
  EXPECT_EQ(rebound.received()[0].source, caller_rtp_local());
  EXPECT_EQ(engine_->stats().relayed_packets, relayed);
  EXPECT_EQ(engine_->traffic(kStream).caller_remote, to_session(rebound.endpoint()));
}

// The caller behind a NAT: its SDP says 192.168.1.10 (the relay cannot send there), its media
// comes from 127.0.0.2, an address it never signalled. A sprayer hits the caller's relay port
// from before the offer is answered: ringing must not use up the caller's learning window, and
// the caller, heard in its window more often than the sprayer, gets the lock.
TEST_F(EngineTest, TheOfferersLearningStartsAtTheAnswerNotDuringRinging) {
  engine_->apply(offer({boost::asio::ip::make_address_v4("192.168.1.10"), 4000}), {});

  // 400 ms of ringing (twice the window) with the sprayer alone on the caller's port.
  std::uint16_t spray_seq = 1;
  const auto ringing_ends = std::chrono::steady_clock::now() + 400ms;
  while (std::chrono::steady_clock::now() < ringing_ends) {
    attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, spray_seq++));
    pump_for(io_, 30ms);
  }
  EXPECT_EQ(engine_->stats().latches, 0u) << "a source locked before the caller could send";

  engine_->apply(session::PartySdpAccepted{kStream, Party::callee,
                                           to_session(callee_.rtp_endpoint())},
                 {});
  // The window: the caller every 20 ms, the sprayer every 30 ms.
  const auto window_ends = std::chrono::steady_clock::now() + 300ms;
  int tick = 0;
  while (std::chrono::steady_clock::now() < window_ends) {
    caller_.rtp().send(caller_rtp_local(), rtp_packet(kCallerSsrc, ++caller_seq_));
    if (++tick % 3 != 0) {
      attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, spray_seq++));
    }
    callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, ++callee_seq_));
    pump_for(io_, 20ms, {&caller_, &callee_, &attacker_});
  }
  ASSERT_TRUE(media_until([&] { return datapath_.installs.size() == 1; }, 1000ms));
  EXPECT_EQ(datapath_.installs[0], rtp_flow(callee_));
  EXPECT_EQ(engine_->traffic(kStream).caller_remote, to_session(caller_.rtp_endpoint()));
  EXPECT_EQ(attacker_.received_count(), 0u);
  EXPECT_FALSE(has_ssrc(callee_.rtp().received(), kAttackerSsrc));
  EXPECT_TRUE(has_ssrc(callee_.rtp().received(), kCallerSsrc));
  EXPECT_TRUE(has_ssrc(caller_.rtp().received(), kCalleeSsrc));
}

// The same NATed caller, silent through its whole window while the sprayer keeps sending: the
// sprayer gets the provisional lock (an off-path relay cannot tell it apart), and with it a
// flow to the callee. The caller then speaks from its NAT's address, the signaling IP: it takes
// the lock over, the sprayer's flow leaves the datapath and the sprayer gets nothing more.
TEST_F(EngineTest, TheSignalingIpTakesAProvisionalLockOverAndItsFlowWithIt) {
  engine::SignalingHints hints;
  hints.caller = boost::asio::ip::make_address_v4("127.0.0.2");
  engine_->apply(offer({boost::asio::ip::make_address_v4("192.168.1.10"), 4000}), hints);
  engine_->apply(session::PartySdpAccepted{kStream, Party::callee,
                                           to_session(callee_.rtp_endpoint())},
                 hints);
  std::uint16_t spray_seq = 1;
  ASSERT_TRUE(pump_until(
      io_,
      [&] {
        attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, spray_seq++));
        callee_.rtp().send(callee_rtp_local(), rtp_packet(kCalleeSsrc, ++callee_seq_));
        pump_for(io_, 20ms, {&callee_, &attacker_});
        return datapath_.installs.size() == 1;
      },
      {&callee_, &attacker_}, 2000ms));
  EXPECT_EQ(datapath_.installs[0].caller_remote, attacker_.rtp_endpoint());
  EXPECT_GT(attacker_.received_count(), 0u) << "the provisional lock should have been served";

  caller_rtp(1);  // from 127.0.0.2: the caller's signaling IP
  EXPECT_EQ(engine_->stats().takeovers, 1u);
  ASSERT_EQ(datapath_.removes.size(), 1u);
  EXPECT_EQ(datapath_.removes[0].caller_remote, attacker_.rtp_endpoint());
  const auto attacker_had = attacker_.received_count();
  ASSERT_TRUE(media_until([&] { return datapath_.installs.size() == 2; }, 1000ms));
  EXPECT_EQ(datapath_.installs[1], rtp_flow(callee_));
  for (int i = 0; i < 5; ++i) {
    attacker_.rtp().send(caller_rtp_local(), rtp_packet(kAttackerSsrc, spray_seq++));
  }
  ASSERT_TRUE(media_until([&] { return engine_->stats().strangers >= 5; }, 1000ms));
  attacker_.collect();
  EXPECT_EQ(attacker_.received_count(), attacker_had);
  EXPECT_EQ(engine_->traffic(kStream).caller_remote, to_session(caller_.rtp_endpoint()));
}

// RTCP starts seconds after RTP; a sprayer's RTCP meanwhile must not take the RTCP socket: it
// accepts only the IP its RTP locked to.
TEST_F(EngineTest, TheRtcpSocketAcceptsOnlyTheIpItsRtpLockedTo) {
  establish_rtp();
  for (int i = 0; i < 10; ++i) {
    attacker_.rtcp().send(caller_rtcp_local(), rtcp_packet(kAttackerSsrc));
    attacker_.rtcp().send(callee_rtcp_local(), rtcp_packet(kAttackerSsrc));
  }
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().learning >= 20; }));
  pump_for(io_, 300ms);  // past the window: still nothing
  EXPECT_EQ(datapath_.installs.size(), 1u);
  // The parties' RTCP (from their RTP's IP) locks and is relayed.
  caller_.rtcp().send(caller_rtcp_local(), rtcp_packet(kCallerSsrc));
  callee_.rtcp().send(callee_rtcp_local(), rtcp_packet(kCalleeSsrc));
  ASSERT_TRUE(pump_until(io_, [&] { return datapath_.installs.size() == 2; }));
  EXPECT_EQ(datapath_.installs[1], (datapath::Flow{caller_.rtcp_endpoint(), caller_rtcp_local(),
                                                   callee_rtcp_local(), callee_.rtcp_endpoint()}));
  attacker_.collect();
  EXPECT_EQ(attacker_.received_count(), 0u);
}

TEST_F(EngineTest, LostFlowFallsBackToUserspaceKeepingItsCounters) {
  establish_rtp();
  caller_rtp(2);
  callee_rtp(2);
  ASSERT_EQ(engine_->traffic(kStream).caller_packets, 2u);  // reads the flow's counters

  // The datapath loses the flow behind the engine's back (e.g. a lapsed conntrack lease).
  ASSERT_TRUE(sockets_.remove(datapath_.installs[0]).has_value());
  ASSERT_TRUE(pump_until(io_, [&] { return engine_->stats().flows_lost == 1; }));
  EXPECT_EQ(engine_->installed_flows(), 0u);

  const auto relayed = engine_->stats().relayed_packets;
  caller_rtp(3);
  EXPECT_EQ(engine_->stats().relayed_packets, relayed + 1);
  ASSERT_EQ(datapath_.installs.size(), 2u) << "not handed off again";
  EXPECT_EQ(datapath_.installs[1], rtp_flow(callee_));
  EXPECT_EQ(engine_->installed_flows(), 1u);

  const auto traffic = engine_->traffic(kStream);
  EXPECT_EQ(traffic.caller_packets, 3u);
  EXPECT_EQ(traffic.callee_packets, 2u);
  EXPECT_EQ(traffic.caller_bytes, 3 * kRtpBytes);
}

TEST_F(EngineTest, CloseAllRemovesEveryFlowAndStream) {
  establish_rtp();
  engine_->close_all();
  EXPECT_EQ(engine_->stream_count(), 0u);
  EXPECT_EQ(engine_->installed_flows(), 0u);
  EXPECT_TRUE(datapath_.flows().empty());
  EXPECT_EQ(datapath_.removes.size(), 1u);
}

}  // namespace
}  // namespace mpx::relay::test
