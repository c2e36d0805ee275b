// NatUnsignalled: the NAT maps the natted caller's media to 10.5.0.11, an address never
// signalled (its SDP says 192.168.0.10, its signaling came from 10.5.0.10). Three parts:
// (a) without an attacker the call works once the learning window is over, latched to
//     10.5.0.11;
// (b) with an attacker spraying from before the offer, an off-path relay cannot tell the two
//     unsignalled sources apart: nothing is asserted about who wins, the figures say it, and the
//     relay must stay up and account the call;
// (c) with `latching = signalled_only` (unsignalled sources are refused) and the spray, the
//     attacker gets nothing and injects nothing, at the documented cost: the natted caller gets
//     no media and the callee none from it.
#include <gtest/gtest.h>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/scenario.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

constexpr auto kLearning = 1500ms;  // the 1 s window from the offer, and some margin

class NatUnsignalledTest : public AttackTest {
 protected:
  // The relay, with natted's media mapped to the unsignalled 10.5.0.11.
  void start_unsignalled(relay_lab::RelaySettings settings = attack_settings()) {
    ASSERT_NO_FATAL_FAILURE(start_attack(std::move(settings)));
    ASSERT_TRUE(set_nat_source(lab(), A::kNatPublic2));
  }
  // The natted caller's call (signaling from 10.5.0.10) to the public callee.
  MediaCall natted_call(const std::string& call_id) {
    return {*env_, call_id, natted_caller(), public_callee(), A::kNatPublic};
  }
};

// Who holds a lock, from its "ip:port" in the statistics.
std::string holder(const std::string& remote) {
  if (remote.rfind(std::string(A::kNatPublic2) + ":", 0) == 0) {
    return "natted";
  }
  if (remote.rfind(std::string(A::kAttacker) + ":", 0) == 0) {
    return "attacker";
  }
  return remote == "Unknown" ? "nobody" : "other";
}

TEST_P(NatUnsignalledTest, WithoutAttackerTheCallWorksAfterTheWindow) {
  ASSERT_NO_FATAL_FAILURE(start_unsignalled());
  MediaCall call = natted_call("nat-unsignalled-a@10.5.0.10");
  ASSERT_TRUE(play(call, media_for(kLearning + scaled(2s)), nullptr));

  Figures f = figures("NatUnsignalled", call, kLearning);
  f.extra["caller_lock"] = holder(f.caller_remote);
  publish(f);

  expect_ends_clean(call);
  expect_delivered(call, kLearning);
  expect_locks(call, A::kNatPublic2, relay_lab::endpoint(A::kCallee, relay_lab::kCalleePort));
}

TEST_P(NatUnsignalledTest, WithAttackerTheFiguresSayWhoWon) {
  ASSERT_NO_FATAL_FAILURE(start_unsignalled());
  MediaCall call = natted_call("nat-unsignalled-b@10.5.0.10");
  const CallScript script = media_for(kLearning + scaled(2s));
  Sprayer sprayer(lab(), spray_options(script));
  ASSERT_TRUE(play(call, script, &sprayer));

  Figures f = figures("NatUnsignalledSprayed", call, kLearning, &sprayer);
  f.extra["caller_lock"] = holder(f.caller_remote);
  f.extra["callee_lock"] =
      f.callee_remote == relay_lab::endpoint(A::kCallee, relay_lab::kCalleePort)
          ? "callee"
          : holder(f.callee_remote);
  publish(f);

  // No assertion on who holds the caller's lock (see the file comment); the relay survived,
  // and whatever the ends got came from their relay ports.
  EXPECT_TRUE(env_->relay().running()) << "the relay stopped";
  EXPECT_EQ(call.foreign_source(), 0U) << "packets came from other than the stream's relay port";
  EXPECT_TRUE(call.stats().has_value()) << "no statistics for the call";
}

TEST_P(NatUnsignalledTest, SignalledOnlyRefusesEveryUnsignalledSource) {
  relay_lab::RelaySettings settings = attack_settings();
  settings.latching = "signalled_only";  // the option under test (see README's Latching)
  ASSERT_NO_FATAL_FAILURE(start_unsignalled(settings));
  MediaCall call = natted_call("nat-unsignalled-c@10.5.0.10");
  const CallScript script = media_for(scaled(2s));
  Sprayer sprayer(lab(), spray_options(script));
  ASSERT_TRUE(play(call, script, &sprayer));

  const Parties parties = lab_parties();
  const std::size_t to_caller = legit_packets(call.ends().caller_rtp, parties) +
                                legit_packets(call.ends().caller_rtcp, parties);
  const std::size_t from_caller = call.ends().callee_rtp.count_ssrc(relay_lab::kCallerSsrc) +
                                  call.ends().callee_rtcp.count_ssrc(relay_lab::kCallerSsrc);
  Figures f = figures("NatUnsignalledSignalledOnly", call, 0ms, &sprayer);
  f.extra["caller_lock"] = holder(f.caller_remote);
  f.extra["media_to_natted_caller"] = to_caller;
  f.extra["caller_media_at_callee"] = from_caller;
  publish(f);

  expect_nothing_bled(sprayer);
  expect_ends_clean(call);
  // The documented cost: the unsignalled NATed caller is refused.
  EXPECT_EQ(to_caller, 0U) << "media reached the natted caller";
  EXPECT_EQ(from_caller, 0U) << "the natted caller's media reached the callee";
  EXPECT_TRUE(call.stats().has_value()) << "no statistics for the call";
}

INSTANTIATE_TEST_SUITE_P(Datapaths, NatUnsignalledTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
