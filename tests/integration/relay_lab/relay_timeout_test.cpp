// mpx-relay's timers: a call whose media stops expires with "no-traffic timeout" after
// stream_timeout (3 s) of silence, not while media flows; a call put on hold (re-INVITE
// sendonly) expires with "on hold timeout" after on_hold_timeout (5 s), not at the no-traffic
// time. The dispatcher accounts the expired session and ends the dialog. Runs per datapath.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;
using Clock = std::chrono::steady_clock;

class RelayTimeoutTest : public RelayLabTest {};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void expect_dialog_ended(RelayLab& env, const std::string& call_id) {
  EXPECT_TRUE(dispatcher::testing::DispatcherHarness::eventually([&] {
    for (const auto& [dialog, call] : env.dispatcher().terminator().calls()) {
      if (call == call_id && dialog == LabCall::kDialogId) {
        return true;
      }
    }
    return false;
  }, 2s)) << "the dispatcher did not end the dialog of " << call_id;
}

TEST_P(RelayTimeoutTest, SilenceAfterMediaExpiresWithNoTrafficTimeout) {
  RelaySettings settings;  // stream_timeout 3 s
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-notraffic@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));

  // 4.5 s of media (longer than stream_timeout, also after a kernel hand-off): no expiry.
  exchange(ends, ports, {225, 45, 20ms});
  EXPECT_GE(ends.callee_rtp.total(), 200U);
  EXPECT_GE(ends.caller_rtp.total(), 200U);
  EXPECT_TRUE(env_->dispatcher().accounted().empty()) << "expired while media flowed";
  EXPECT_EQ(env_->dispatcher().session_count(), 1U);

  const auto silent_since = Clock::now();
  const auto stats = env_->wait_accounted(call->call_id(), 3s + 5s);
  ASSERT_TRUE(stats.has_value()) << "no expiry within stream_timeout + 5 s of silence";
  const double waited = seconds_since(silent_since);
  EXPECT_GE(waited, 2.0) << "expired before stream_timeout of silence";
  ASSERT_EQ(stats->streams.size(), 1U) << protocol::to_json(*stats);
  EXPECT_EQ(stats->streams[0].status, "no-traffic timeout");
  EXPECT_EQ(stats->streams[0].timeout_wait, 3);
  EXPECT_GT(stats->streams[0].caller_packets, 0U);
  EXPECT_GT(stats->streams[0].callee_packets, 0U);
  ASSERT_TRUE(stats->dispatcher.has_value());
  EXPECT_TRUE(stats->dispatcher->timed_out);
  EXPECT_EQ(stats->dispatcher->dialog_id, LabCall::kDialogId);
  expect_dialog_ended(*env_, call->call_id());
  EXPECT_TRUE(env_->relay().running());
}

TEST_P(RelayTimeoutTest, CallOnHoldExpiresWithOnHoldTimeout) {
  RelaySettings settings;  // stream_timeout 3 s, on_hold_timeout 5 s
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-hold@10.1.0.10");
  RelayPorts ports;
  ASSERT_TRUE(establish(*call, ends, ports));
  exchange(ends, ports, {60, 10});
  ASSERT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 54, 3s), 54U);

  // The caller puts the call on hold (same address, sendonly); the callee answers recvonly.
  const auto hold_offer = call->offer(2, {A::kCaller, kCallerPort, "sendonly"});
  ASSERT_TRUE(hold_offer.has_value()) << call->last_reply();
  EXPECT_EQ(*hold_offer, ports.callee_side) << "a re-offer of the same address keeps its ports";
  const auto hold_answer = call->answer(2, {A::kCallee, kCalleePort, "recvonly"});
  ASSERT_TRUE(hold_answer.has_value()) << call->last_reply();
  EXPECT_EQ(*hold_answer, ports.caller_side);
  const auto held_since = Clock::now();

  const auto stats = env_->wait_accounted(call->call_id(), 5s + 5s);
  ASSERT_TRUE(stats.has_value()) << "no expiry within on_hold_timeout + 5 s";
  const double waited = seconds_since(held_since);
  EXPECT_GE(waited, 4.0) << "expired before on_hold_timeout (the no-traffic timer ran on hold?)";
  ASSERT_EQ(stats->streams.size(), 1U) << protocol::to_json(*stats);
  EXPECT_EQ(stats->streams[0].status, "on hold timeout");
  EXPECT_EQ(stats->streams[0].timeout_wait, 5);
  ASSERT_TRUE(stats->dispatcher.has_value());
  EXPECT_TRUE(stats->dispatcher->timed_out);
  expect_dialog_ended(*env_, call->call_id());
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayTimeoutTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
