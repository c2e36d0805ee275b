// RingingSpray: an off-path attacker sprays every relay port from before the offer, through 3 s
// of ringing (longer than the learning window), to the end of the call; the endpoints send RTP
// (50 packets/s) and RTCP (every 200 ms) from exactly their SDP addresses, starting at the
// answer. The attacker must get nothing, inject nothing, and the call's media must flow.
#include <gtest/gtest.h>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/scenario.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;

class RingingSprayTest : public AttackTest {};

TEST_P(RingingSprayTest, SprayDuringRingingGetsNothingAndInjectsNothing) {
  ASSERT_NO_FATAL_FAILURE(start_attack());
  MediaCall call(*env_, "ringing-spray@10.1.0.10", public_caller(), public_callee());
  CallScript script = media_for(scaled(2s));
  script.ringing = 3s;
  Sprayer sprayer(lab(), spray_options(script));
  ASSERT_TRUE(play(call, script, &sprayer));

  publish(figures("RingingSpray", call, 100ms, &sprayer));
  expect_defended(call, sprayer, 100ms);
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RingingSprayTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
