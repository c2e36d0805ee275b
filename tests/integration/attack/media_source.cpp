// MediaSource (see media_source.hpp).
#include "tests/integration/attack/media_source.hpp"

#include <algorithm>

#include "tests/integration/attack/attack_packets.hpp"

namespace mpx::test::attack {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t kSamplesPerPacket = 160;  // 20 ms of 8 kHz audio

}  // namespace

MediaSource::MediaSource(relay_lab::RtpPeer& rtp, relay_lab::RtpPeer* rtcp, std::string to_ip,
                         std::uint16_t to_port, MediaPlan plan)
    : rtp_(rtp),
      rtcp_(rtcp),
      to_ip_(std::move(to_ip)),
      to_port_(to_port),
      plan_(plan),
      next_sequence_(plan.first_sequence) {}

MediaSource::~MediaSource() { stop(); }

void MediaSource::start() {
  if (thread_.joinable()) {
    return;
  }
  started_ = Clock::now();
  thread_ = std::thread([this] { run(); });
}

void MediaSource::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool MediaSource::wait_done(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done_ && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  return done_;
}

void MediaSource::run() {
  const Clock::time_point start = started_;
  const Clock::time_point end = start + plan_.duration;
  Clock::time_point next_rtp = start;
  std::optional<Clock::time_point> next_rtcp;
  if (plan_.rtcp_every && rtcp_ != nullptr) {
    next_rtcp = start + plan_.rtcp_after;
  }
  // Bounded in count as well as in time: at most what the plan's duration holds.
  const auto interval = std::max(plan_.rtp_interval, std::chrono::milliseconds(1));
  const auto max_rtp = static_cast<std::uint32_t>(plan_.duration / interval) + 1U;
  const auto rtcp_every =
      std::max(plan_.rtcp_every.value_or(plan_.duration), std::chrono::milliseconds(1));
  const auto max_rtcp = static_cast<std::uint32_t>(plan_.duration / rtcp_every) + 1U;
  std::uint32_t packets = 0;
  std::uint32_t reports = 0;
  std::uint32_t ntp_seconds = 0xe8000000U;
  while (!stopping_ && packets < max_rtp) {
    Clock::time_point due = next_rtp;
    if (next_rtcp && *next_rtcp < due) {
      due = *next_rtcp;
    }
    if (due >= end) {
      break;
    }
    std::this_thread::sleep_until(due);
    const Clock::time_point now = Clock::now();
    if (now >= next_rtp && next_rtp < end) {
      const std::uint16_t sequence = next_sequence_;
      const std::uint32_t timestamp = next_timestamp_;
      const Bytes packet = rtp_packet(plan_.ssrc, sequence, timestamp, plan_.fill);
      // Recorded before sending: a reply could otherwise be seen before its send time.
      {
        std::lock_guard lock(mutex_);
        sent_.push_back({sequence, Clock::now()});
      }
      rtp_.send_raw(to_ip_, to_port_, packet);
      next_sequence_ = static_cast<std::uint16_t>(sequence + 1);
      next_timestamp_ = timestamp + kSamplesPerPacket;
      ++packets;
      next_rtp += interval;
    }
    if (next_rtcp && now >= *next_rtcp && reports < max_rtcp) {
      const Bytes report = rtcp_sender_report(plan_.ssrc, ntp_seconds++, next_timestamp_, packets,
                                              packets * kSamplesPerPacket);
      rtcp_->send_raw(to_ip_, static_cast<std::uint16_t>(to_port_ + 1), report);
      {
        std::lock_guard lock(mutex_);
        ++rtcp_sent_;
      }
      ++reports;
      *next_rtcp += *plan_.rtcp_every;
    }
  }
  done_ = true;
}

std::vector<SentRtp> MediaSource::sent_rtp() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::size_t MediaSource::rtcp_sent() const {
  std::lock_guard lock(mutex_);
  return rtcp_sent_;
}

}  // namespace mpx::test::attack
