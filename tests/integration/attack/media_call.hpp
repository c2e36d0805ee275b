// MediaCall: one call of an attack scenario: its signalling (offer, answer, remove and the final
// statistics), the two ends' RTP/RTCP sockets, their paced media, and what the scenario reports
// and asserts about them: delivery each way, attacker packets injected into the ends, packets
// from a source other than the relay port each end talks to, and the figures.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/protocol/session_statistics.hpp"
#include "tests/integration/attack/delivery.hpp"
#include "tests/integration/attack/figures.hpp"
#include "tests/integration/attack/media_source.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::attack {

inline constexpr std::uint16_t kCallerFirstSequence = 1000;
inline constexpr std::uint16_t kCalleeFirstSequence = 20000;

// The lab's public caller and callee (their SDP addresses), and the endpoint behind the NAT.
relay_lab::EndAddress public_caller();
relay_lab::EndAddress public_callee();
relay_lab::EndAddress natted_caller();

class MediaCall {
 public:
  // `caller_signaling_ip`: the offer's signaling_ip (empty: the lab's caller address).
  MediaCall(relay_lab::RelayLab& env, const std::string& call_id,
            const relay_lab::EndAddress& caller, const relay_lab::EndAddress& callee,
            const std::string& caller_signaling_ip = "");

  // INVITE with the caller's SDP address: fills ports().callee_side.
  ::testing::AssertionResult offer();
  // 200 OK with the callee's SDP address: fills ports().caller_side.
  ::testing::AssertionResult answer();
  // BYE, then the first accounted record's stream (bounded wait), also kept as stats();
  // nullopt when none came.
  const std::optional<protocol::StreamStatistics>& finish();
  const std::optional<protocol::StreamStatistics>& stats() const { return stats_; }

  // Paced media from both ends to their relay ports (after answer()); each plan gets its
  // party's SSRC, fill byte and first sequence number.
  void start_media(MediaPlan caller, MediaPlan callee);
  // Waits (bounded) for both plans to end, then `settle` for the last packets in flight.
  void wait_media(std::chrono::milliseconds settle = std::chrono::milliseconds(300));

  relay_lab::CallEnds& ends() { return ends_; }
  const relay_lab::RelayPorts& ports() const { return ports_; }
  relay_lab::LabCall& call() { return *call_; }
  MediaSource& caller_media() { return *caller_media_; }
  MediaSource& callee_media() { return *callee_media_; }
  bool has_media() const { return caller_media_ != nullptr; }

  // The relay port ("203.0.113.1:port") each end's RTP (rtcp=false) or RTCP socket talks to.
  std::string caller_relay(bool rtcp) const;
  std::string callee_relay(bool rtcp) const;

  // Over the four end sockets: packets from elsewhere than their relay port, and attacker
  // packets.
  std::size_t foreign_source() const;
  std::size_t injected() const;
  // Packets of each end's two sockets.
  std::size_t caller_received() const;
  std::size_t callee_received() const;

  // Delivery of each direction's RTP sent at least `from` after the media start.
  Delivery caller_to_callee(std::chrono::milliseconds from) const;
  Delivery callee_to_caller(std::chrono::milliseconds from) const;

  // Fills the figures this call knows: sent and received by caller and callee, delivery from
  // `from`, first delivery, foreign sources, injected into the ends, the latched addresses
  // (of stats(), after finish()).
  void fill(Figures& figures, std::chrono::milliseconds from) const;

 private:
  relay_lab::RelayLab& env_;
  relay_lab::EndAddress caller_;
  relay_lab::EndAddress callee_;
  std::string caller_signaling_ip_;
  relay_lab::CallEnds ends_;
  std::unique_ptr<relay_lab::LabCall> call_;
  relay_lab::RelayPorts ports_;
  std::unique_ptr<MediaSource> caller_media_;
  std::unique_ptr<MediaSource> callee_media_;
  std::optional<protocol::StreamStatistics> stats_;
};

}  // namespace mpx::test::attack
