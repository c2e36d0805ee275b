// WebRtcNat: the natted caller, mapped by the NAT to the unsignalled 10.5.0.11, is a WebRTC-like
// peer: before any RTP it sends only STUN binding requests and a DTLS ClientHello, until it
// hears back. The callee (public, from its SDP address) is the answering WebRTC-like peer. No
// attacker. Within 4 s the checks and the handshake's first flight must cross the relay both
// ways: a relay that admits only RTP from an unsignalled source never lets this call start.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/webrtc_peer.hpp"
#include "tests/integration/dispatcher/dispatcher_harness.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;
using dispatcher::testing::DispatcherHarness;

class WebRtcNatTest : public AttackTest {};

// Packets from anywhere but `expected`.
std::uint64_t foreign(const WebRtcPeer& peer, const std::string& expected) {
  std::uint64_t n = 0;
  for (const auto& [source, count] : peer.sources()) {
    n += source == expected ? 0U : count;
  }
  return n;
}

TEST_P(WebRtcNatTest, IceAndDtlsFromAnUnsignalledNattedPeerCrossTheRelay) {
  ASSERT_NO_FATAL_FAILURE(start_attack());
  ASSERT_TRUE(set_nat_source(lab(), A::kNatPublic2));
  WebRtcPeer caller(lab(), "natted", A::kNatted, relay_lab::kCallerPort, WebRtcPeer::Role::offerer,
                    kCallerTag);
  WebRtcPeer callee(lab(), "callee", A::kCallee, relay_lab::kCalleePort, WebRtcPeer::Role::answerer,
                    kCalleeTag);
  auto call = env_->new_call("webrtc-nat@10.5.0.10");
  relay_lab::MediaLeg offer{A::kNatted, relay_lab::kCallerPort};
  offer.signaling_ip = A::kNatPublic;
  const auto callee_side = call->offer(1, offer);
  ASSERT_TRUE(callee_side.has_value()) << call->last_reply();
  const auto caller_side = call->answer(1, {A::kCallee, relay_lab::kCalleePort});
  ASSERT_TRUE(caller_side.has_value()) << call->last_reply();

  callee.start("", 0, 6s);
  caller.start(A::kRelayPublic, *caller_side, 6s);
  const auto done = [&] {
    const WebRtcCounts c = caller.counts();
    const WebRtcCounts e = callee.counts();
    return e.stun_requests_received > 0 && e.client_hellos_received > 0 &&
           c.stun_responses_received > 0 && c.hello_verifies_received > 0;
  };
  DispatcherHarness::eventually(done, 4s);
  std::this_thread::sleep_for(100ms);  // what is in flight
  caller.stop();
  callee.stop();
  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto stats = env_->wait_accounted(call->call_id(), 5s);

  const WebRtcCounts c = caller.counts();
  const WebRtcCounts e = callee.counts();
  const std::string caller_relay = relay_lab::relay_side(*caller_side);
  const std::string callee_relay = relay_lab::relay_side(*callee_side);
  Figures f = figures("WebRtcNat");
  f.sent.caller = c.sent();
  f.sent.callee = e.sent();
  f.received.caller = c.received();
  f.received.callee = e.received();
  f.injected = c.attacker_received + e.attacker_received;
  f.foreign_source = foreign(caller, caller_relay) + foreign(callee, callee_relay);
  if (stats && !stats->streams.empty()) {
    f.caller_remote = stats->streams[0].caller_remote;
    f.callee_remote = stats->streams[0].callee_remote;
  }
  f.extra["caller_to_callee"] = {{"stun_requests_sent", c.stun_requests_sent},
                                 {"stun_requests_received", e.stun_requests_received},
                                 {"client_hellos_sent", c.client_hellos_sent},
                                 {"client_hellos_received", e.client_hellos_received}};
  f.extra["callee_to_caller"] = {{"stun_responses_sent", e.stun_responses_sent},
                                 {"stun_responses_received", c.stun_responses_received},
                                 {"hello_verifies_sent", e.hello_verifies_sent},
                                 {"hello_verifies_received", c.hello_verifies_received}};
  publish(f);

  EXPECT_GT(c.stun_requests_sent, 0U);
  EXPECT_GT(e.stun_requests_received, 0U) << "no STUN request reached the callee";
  EXPECT_GT(e.client_hellos_received, 0U) << "no ClientHello reached the callee";
  EXPECT_GT(c.stun_responses_received, 0U) << "no STUN response reached the caller";
  EXPECT_GT(c.hello_verifies_received, 0U) << "no HelloVerifyRequest reached the caller";
  EXPECT_EQ(f.foreign_source, 0U) << "packets came from other than the stream's relay port";
  EXPECT_EQ(f.injected, 0U);
  EXPECT_TRUE(stats.has_value()) << "no statistics for the call";
}

INSTANTIATE_TEST_SUITE_P(Datapaths, WebRtcNatTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
