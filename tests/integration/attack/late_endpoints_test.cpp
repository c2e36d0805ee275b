// LateEndpoints: the call is answered at once but the endpoints start RTP only 2 s later (past
// the learning windows of both sides), and RTCP only 5 s after their RTP started, while an
// off-path attacker sprays every relay port throughout. A relay that locks whatever came when
// the window closed gives both sides to the attacker; the attacker must get nothing, inject
// nothing, and RTP and RTCP must flow.
#include <gtest/gtest.h>

#include "tests/integration/attack/attack_fixture.hpp"
#include "tests/integration/attack/scenario.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;

class LateEndpointsTest : public AttackTest {};

TEST_P(LateEndpointsTest, EndpointsSendingAfterTheWindowStillGetTheirMedia) {
  ASSERT_NO_FATAL_FAILURE(start_attack());
  MediaCall call(*env_, "late-endpoints@10.1.0.10", public_caller(), public_callee());
  CallScript script = media_for(scaled(6500ms));  // RTCP starts 5 s in: 1.5 s x scale of it
  script.silence = 2s;
  script.media.rtcp_after = 5s;
  Sprayer sprayer(lab(), spray_options(script));
  ASSERT_TRUE(play(call, script, &sprayer));

  const std::size_t caller_rtcp_sent = call.caller_media().rtcp_sent();
  const std::size_t callee_rtcp_sent = call.callee_media().rtcp_sent();
  const std::size_t rtcp_to_callee = rtcp_received(call.ends().callee_rtcp, relay_lab::kCallerSsrc);
  const std::size_t rtcp_to_caller = rtcp_received(call.ends().caller_rtcp, relay_lab::kCalleeSsrc);
  Figures f = figures("LateEndpoints", call, 100ms, &sprayer);
  f.extra["rtcp"] = {{"caller_sent", caller_rtcp_sent},
                     {"callee_received", rtcp_to_callee},
                     {"callee_sent", callee_rtcp_sent},
                     {"caller_received", rtcp_to_caller}};
  publish(f);

  expect_defended(call, sprayer, 100ms);
  // The first RTCP of a side may arrive before the other side's RTCP is learned.
  EXPECT_GT(caller_rtcp_sent, 2U);
  EXPECT_GE(rtcp_to_callee + 2, caller_rtcp_sent) << "caller RTCP delivered to the callee";
  EXPECT_GE(rtcp_to_caller + 2, callee_rtcp_sent) << "callee RTCP delivered to the caller";
}

INSTANTIATE_TEST_SUITE_P(Datapaths, LateEndpointsTest, relay_lab::all_datapaths(),
                         relay_lab::datapath_name);

}  // namespace
}  // namespace mpx::test::attack
