// Scripted calls and the shared checks (see scenario.hpp).
#include "tests/integration/attack/scenario.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/attack/attack_fixture.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

constexpr auto kSprayLead = 200ms;    // the spray runs before the offer
constexpr auto kSprayOverrun = 10s;   // the sprayer's hard stop, past the call's end
constexpr double kMinDelivered = 0.98;

void expect_lock(const char* side, const std::string& remote, const std::string& expected) {
  if (expected.find(':') != std::string::npos) {
    EXPECT_EQ(remote, expected) << "the " << side << "'s lock";
  } else {
    EXPECT_EQ(remote.rfind(expected + ":", 0), 0U)
        << "the " << side << "'s lock " << remote << " is not on " << expected;
  }
}

}  // namespace

CallScript media_for(std::chrono::milliseconds duration) {
  CallScript script;
  script.media.duration = duration;
  script.media.rtcp_every = 200ms;
  return script;
}

SprayerOptions spray_options(const CallScript& script) {
  SprayerOptions options;
  options.parties = lab_parties();
  options.max_duration = script.ringing + script.silence + script.media.duration + kSprayOverrun;
  return options;
}

::testing::AssertionResult play(MediaCall& call, const CallScript& script, Sprayer* sprayer) {
  if (sprayer != nullptr) {
    sprayer->start();
    std::this_thread::sleep_for(kSprayLead);
  }
  if (auto offered = call.offer(); !offered) {
    return offered;
  }
  std::this_thread::sleep_for(script.ringing);
  if (auto answered = call.answer(); !answered) {
    return answered;
  }
  std::this_thread::sleep_for(script.silence);
  call.start_media(script.media, script.media);
  call.wait_media();
  call.finish();
  if (sprayer != nullptr) {
    sprayer->stop();
  }
  return ::testing::AssertionSuccess();
}

void expect_nothing_bled(const Sprayer& sprayer) {
  const SprayerReceived back = sprayer.received();
  EXPECT_EQ(back.total(), 0U) << "the attacker received " << back.caller << " caller and "
                              << back.callee << " callee media packets, " << back.own
                              << " of its own and " << back.unknown << " others";
}

void expect_ends_clean(const MediaCall& call) {
  EXPECT_EQ(call.injected(), 0U) << "attacker packets reached the caller or the callee";
  EXPECT_EQ(call.foreign_source(), 0U) << "packets came from other than the stream's relay port";
}

void expect_delivered(const MediaCall& call, std::chrono::milliseconds from) {
  const Delivery forward = call.caller_to_callee(from);
  const Delivery backward = call.callee_to_caller(from);
  EXPECT_GE(forward.fraction(), kMinDelivered)
      << "caller to callee " << forward.delivered << "/" << forward.counted;
  EXPECT_GE(backward.fraction(), kMinDelivered)
      << "callee to caller " << backward.delivered << "/" << backward.counted;
}

void expect_locks(const MediaCall& call, const std::string& caller, const std::string& callee) {
  ASSERT_TRUE(call.stats().has_value()) << "no statistics for the call";
  expect_lock("caller", call.stats()->caller_remote, caller);
  expect_lock("callee", call.stats()->callee_remote, callee);
}

void expect_locks_on_endpoints(const MediaCall& call) {
  expect_locks(call, relay_lab::endpoint(A::kCaller, relay_lab::kCallerPort),
               relay_lab::endpoint(A::kCallee, relay_lab::kCalleePort));
}

void expect_defended(const MediaCall& call, const Sprayer& sprayer,
                     std::chrono::milliseconds from) {
  expect_nothing_bled(sprayer);
  expect_ends_clean(call);
  expect_delivered(call, from);
  expect_locks_on_endpoints(call);
}

}  // namespace mpx::test::attack
