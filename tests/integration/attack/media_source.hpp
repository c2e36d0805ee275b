// MediaSource: a legitimate endpoint's paced media, on its own thread: RTP at a fixed interval
// (20 ms = 50 packets/s, one 160-byte PCMA frame each) with a given SSRC, fill byte and first
// sequence number, and optionally an RTCP sender report every N ms starting after a delay. It
// sends from the endpoint's RtpPeer sockets (which keep recording what arrives) and records the
// send time of every RTP packet, so delivery can be computed per packet (delivery.hpp).
//
// Bounded: the thread stops after plan.duration, or at stop().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/relay_lab/rtp_peer.hpp"

namespace mpx::test::attack {

using Clock = std::chrono::steady_clock;

struct MediaPlan {
  std::uint32_t ssrc = 0;
  std::uint8_t fill = 0;
  std::uint16_t first_sequence = 1000;
  std::chrono::milliseconds duration{2000};             // RTP is sent for this long
  std::chrono::milliseconds rtp_interval{20};           // 50 packets/s
  std::optional<std::chrono::milliseconds> rtcp_every;  // nullopt: no RTCP
  std::chrono::milliseconds rtcp_after{0};              // the first RTCP this long after the start
};

struct SentRtp {
  std::uint16_t sequence = 0;
  Clock::time_point at;
};

class MediaSource {
 public:
  // RTP goes from `rtp` to to_ip:to_port, RTCP from `rtcp` (may be null) to to_ip:to_port + 1.
  MediaSource(relay_lab::RtpPeer& rtp, relay_lab::RtpPeer* rtcp, std::string to_ip,
              std::uint16_t to_port, MediaPlan plan);
  ~MediaSource();  // stop()
  MediaSource(const MediaSource&) = delete;
  MediaSource& operator=(const MediaSource&) = delete;

  void start();
  void stop();
  // Waits (at most `timeout`) for the plan to finish; true when it did.
  bool wait_done(std::chrono::milliseconds timeout);

  const MediaPlan& plan() const { return plan_; }
  Clock::time_point started() const { return started_; }
  std::vector<SentRtp> sent_rtp() const;
  std::size_t rtcp_sent() const;
  // The sequence number the next RTP packet will carry (what an attacker continuing the
  // stream would use).
  std::uint16_t next_sequence() const { return next_sequence_; }
  std::uint32_t next_timestamp() const { return next_timestamp_; }

 private:
  void run();

  relay_lab::RtpPeer& rtp_;
  relay_lab::RtpPeer* rtcp_;
  std::string to_ip_;
  std::uint16_t to_port_;
  MediaPlan plan_;
  Clock::time_point started_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};
  std::atomic<std::uint16_t> next_sequence_;
  std::atomic<std::uint32_t> next_timestamp_{0};
  mutable std::mutex mutex_;
  std::vector<SentRtp> sent_;
  std::size_t rtcp_sent_ = 0;
  std::thread thread_;
};

}  // namespace mpx::test::attack
