// What the call scenarios share: the script of a call (ringing, silence before the media, the
// media plan), the lab's sprayer for it, playing the script with or without a sprayer, and the
// checks that an attack had no effect: nothing bled to the attacker, nothing injected into the
// ends, nothing from a foreign source, at least 98 % delivered each way, the locks on the
// expected addresses.
#pragma once

#include <chrono>
#include <string>

#include "tests/integration/attack/media_call.hpp"
#include "tests/integration/attack/sprayer.hpp"

namespace mpx::test::attack {

struct CallScript {
  std::chrono::milliseconds ringing{0};  // offer -> answer
  std::chrono::milliseconds silence{0};  // answer -> the first media
  MediaPlan media;  // both ends' plan (MediaCall sets SSRC, fill and first sequence number)
};

// A script with media for `duration` and RTCP every 200 ms from the start.
CallScript media_for(std::chrono::milliseconds duration);

// The lab's sprayer (every relay port, lab_parties()), stopping by itself 10 s after the end of
// the script's media.
SprayerOptions spray_options(const CallScript& script);

// Plays the script: the sprayer (unless null) starts 200 ms before the offer; offer, ringing,
// answer, silence, both ends' media until done, BYE and the statistics (call.stats()); then the
// sprayer stops. Fails at the first signalling step that fails.
::testing::AssertionResult play(MediaCall& call, const CallScript& script, Sprayer* sprayer);

// Nothing came back to the sprayer (neither the call's media nor anything else).
void expect_nothing_bled(const Sprayer& sprayer);
// No attacker packet reached the ends, and all they got came from their relay ports.
void expect_ends_clean(const MediaCall& call);
// Each direction delivered at least 98 % of the RTP sent from `from` on.
void expect_delivered(const MediaCall& call, std::chrono::milliseconds from);
// The final locks: "ip:port", or "ip" for any port of it.
void expect_locks(const MediaCall& call, const std::string& caller, const std::string& callee);
// The locks of a call between the lab's public caller and callee: their SDP addresses.
void expect_locks_on_endpoints(const MediaCall& call);
// All of the above for a call between the lab's public caller and callee.
void expect_defended(const MediaCall& call, const Sprayer& sprayer,
                     std::chrono::milliseconds from);

}  // namespace mpx::test::attack
