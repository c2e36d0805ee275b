// MediaCall (see media_call.hpp).
#include "tests/integration/attack/media_call.hpp"

namespace mpx::test::attack {

using namespace std::chrono_literals;
using A = LabAddresses;
using relay_lab::relay_side;

relay_lab::EndAddress public_caller() { return {"caller", A::kCaller, relay_lab::kCallerPort}; }
relay_lab::EndAddress public_callee() { return {"callee", A::kCallee, relay_lab::kCalleePort}; }
relay_lab::EndAddress natted_caller() { return {"natted", A::kNatted, relay_lab::kCallerPort}; }

MediaCall::MediaCall(relay_lab::RelayLab& env, const std::string& call_id,
                     const relay_lab::EndAddress& caller, const relay_lab::EndAddress& callee,
                     const std::string& caller_signaling_ip)
    : env_(env),
      caller_(caller),
      callee_(callee),
      caller_signaling_ip_(caller_signaling_ip),
      ends_(env.lab(), caller, callee),
      call_(env.new_call(call_id)) {}

::testing::AssertionResult MediaCall::offer() {
  if (!call_->connected()) {
    return ::testing::AssertionFailure() << "no connection to the dispatcher's module socket";
  }
  relay_lab::MediaLeg leg{caller_.ip, caller_.port};
  leg.signaling_ip = caller_signaling_ip_;
  const auto port = call_->offer(1, leg);
  if (!port) {
    return ::testing::AssertionFailure() << "INVITE update answered: " << call_->last_reply();
  }
  ports_.callee_side = *port;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult MediaCall::answer() {
  const auto port = call_->answer(1, {callee_.ip, callee_.port});
  if (!port) {
    return ::testing::AssertionFailure() << "200 OK update answered: " << call_->last_reply();
  }
  ports_.caller_side = *port;
  return ::testing::AssertionSuccess();
}

const std::optional<protocol::StreamStatistics>& MediaCall::finish() {
  if (!call_->remove()) {
    ADD_FAILURE() << "remove answered: " << call_->last_reply();
  }
  const auto stats = env_.wait_accounted(call_->call_id(), 5s);
  if (stats && !stats->streams.empty()) {
    stats_ = stats->streams.front();
  }
  return stats_;
}

void MediaCall::start_media(MediaPlan caller, MediaPlan callee) {
  caller.ssrc = relay_lab::kCallerSsrc;
  caller.fill = relay_lab::kCallerFill;
  caller.first_sequence = kCallerFirstSequence;
  callee.ssrc = relay_lab::kCalleeSsrc;
  callee.fill = relay_lab::kCalleeFill;
  callee.first_sequence = kCalleeFirstSequence;
  caller_media_ = std::make_unique<MediaSource>(ends_.caller_rtp, &ends_.caller_rtcp,
                                                A::kRelayPublic, ports_.caller_side, caller);
  callee_media_ = std::make_unique<MediaSource>(ends_.callee_rtp, &ends_.callee_rtcp,
                                                A::kRelayPublic, ports_.callee_side, callee);
  caller_media_->start();
  callee_media_->start();
}

void MediaCall::wait_media(std::chrono::milliseconds settle) {
  for (MediaSource* source : {caller_media_.get(), callee_media_.get()}) {
    if (source != nullptr) {
      EXPECT_TRUE(source->wait_done(source->plan().duration + 5s)) << "media did not finish";
    }
  }
  std::this_thread::sleep_for(settle);
}

std::string MediaCall::caller_relay(bool rtcp) const {
  return relay_side(static_cast<std::uint16_t>(ports_.caller_side + (rtcp ? 1 : 0)));
}

std::string MediaCall::callee_relay(bool rtcp) const {
  return relay_side(static_cast<std::uint16_t>(ports_.callee_side + (rtcp ? 1 : 0)));
}

std::size_t MediaCall::foreign_source() const {
  return foreign_sources(ends_.caller_rtp, caller_relay(false)) +
         foreign_sources(ends_.caller_rtcp, caller_relay(true)) +
         foreign_sources(ends_.callee_rtp, callee_relay(false)) +
         foreign_sources(ends_.callee_rtcp, callee_relay(true));
}

std::size_t MediaCall::injected() const {
  return attacker_packets(ends_.caller_rtp) + attacker_packets(ends_.caller_rtcp) +
         attacker_packets(ends_.callee_rtp) + attacker_packets(ends_.callee_rtcp);
}

std::size_t MediaCall::caller_received() const {
  return ends_.caller_rtp.total() + ends_.caller_rtcp.total();
}

std::size_t MediaCall::callee_received() const {
  return ends_.callee_rtp.total() + ends_.callee_rtcp.total();
}

Delivery MediaCall::caller_to_callee(std::chrono::milliseconds from) const {
  return delivery_of(*caller_media_, ends_.callee_rtp, from);
}

Delivery MediaCall::callee_to_caller(std::chrono::milliseconds from) const {
  return delivery_of(*callee_media_, ends_.caller_rtp, from);
}

void MediaCall::fill(Figures& figures, std::chrono::milliseconds from) const {
  if (caller_media_ && callee_media_) {
    figures.sent.caller = caller_media_->sent_rtp().size() + caller_media_->rtcp_sent();
    figures.sent.callee = callee_media_->sent_rtp().size() + callee_media_->rtcp_sent();
    const Delivery forward = caller_to_callee(from);
    const Delivery backward = callee_to_caller(from);
    figures.delivered_caller_to_callee = forward.fraction();
    figures.delivered_callee_to_caller = backward.fraction();
    figures.first_ms_caller_to_callee = forward.first_ms;
    figures.first_ms_callee_to_caller = backward.first_ms;
  }
  figures.received.caller = caller_received();
  figures.received.callee = callee_received();
  figures.injected += injected();
  figures.foreign_source += foreign_source();
  if (stats_) {
    figures.caller_remote = stats_->caller_remote;
    figures.callee_remote = stats_->callee_remote;
  }
}

}  // namespace mpx::test::attack
