// NatSignalingIp: the caller is behind the NAT. Its SDP says 192.168.0.10:5000, its signaling
// came from the NAT's 10.5.0.10 (the offer's signaling_ip), and the NAT maps its media to
// 10.5.0.10 on another port; the callee is public. An attacker sprays every relay port from
// before the offer; the endpoints start at the answer. The relay must latch the caller by its
// signaling IP at once (nearly nothing lost), give the attacker nothing and inject nothing.
#include <gtest/gtest.h>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/scenario.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

class NatSignalingIpTest : public AttackTest {};

TEST_P(NatSignalingIpTest, NattedCallerLatchedBySignalingIpDespiteTheSpray) {
  ASSERT_NO_FATAL_FAILURE(start_attack());
  MediaCall call(*env_, "nat-signaling-ip@10.5.0.10", natted_caller(), public_callee(),
                 A::kNatPublic);
  const CallScript script = media_for(scaled(2s));
  Sprayer sprayer(lab(), spray_options(script));
  ASSERT_TRUE(play(call, script, &sprayer));

  const Delivery forward = call.caller_to_callee(0ms);
  const Delivery backward = call.callee_to_caller(0ms);
  Figures f = figures("NatSignalingIp", call, 0ms, &sprayer);
  f.extra["lost"] = {{"caller_to_callee", forward.lost()}, {"callee_to_caller", backward.lost()}};
  publish(f);

  expect_nothing_bled(sprayer);
  expect_ends_clean(call);
  EXPECT_GT(forward.counted, 0U);
  EXPECT_LE(forward.lost(), 2U) << forward.delivered << "/" << forward.counted;
  EXPECT_LE(backward.lost(), 2U) << backward.delivered << "/" << backward.counted;
  expect_locks(call, A::kNatPublic, relay_lab::endpoint(A::kCallee, relay_lab::kCalleePort));
}

INSTANTIATE_TEST_SUITE_P(Datapaths, NatSignalingIpTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
