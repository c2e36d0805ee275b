// The latch of one sub-party; the rules are in latch.hpp.
#include "relay/media/latch.hpp"

#include <utility>

namespace mpx::relay::media {
namespace {

// A NAT rebinding continues the stream: its sequence numbers keep advancing by small steps. A
// larger jump (or going backwards) looks like someone replaying or guessing.
constexpr std::uint16_t max_rebind_sequence_step = 1000;

bool is_rtp_or_rtcp(const PacketInfo& info) {
  return info.kind == PacketKind::rtp || info.kind == PacketKind::rtcp;
}

// 0.0.0.0 (hold, or "not known yet") never matches a real source.
std::optional<Endpoint> known(std::optional<Endpoint> endpoint) {
  if (endpoint && endpoint->ip.is_unspecified()) {
    return std::nullopt;
  }
  return endpoint;
}

std::optional<boost::asio::ip::address_v4> known(std::optional<boost::asio::ip::address_v4> ip) {
  if (ip && ip->is_unspecified()) {
    return std::nullopt;
  }
  return ip;
}

}  // namespace

std::string_view to_string(LatchVerdict verdict) {
  switch (verdict) {
    case LatchVerdict::accept:
      return "accept";
    case LatchVerdict::learning:
      return "learning";
    case LatchVerdict::stranger:
      return "stranger";
    case LatchVerdict::invalid:
      return "invalid";
  }
  return "unknown";
}

Latch::Latch(LatchSettings settings) : settings_(settings) {
  if (settings_.window < std::chrono::milliseconds::zero()) {
    settings_.window = std::chrono::milliseconds::zero();
  }
}

void Latch::expect(std::optional<Endpoint> sdp,
                   std::optional<boost::asio::ip::address_v4> signaling_ip, SteadyTime now) {
  sdp = known(sdp);
  signaling_ip_ = known(signaling_ip);
  if (settings_.policy == LatchPolicy::first_packet) {
    // MediaProxy resets only when a known address changes (not at the first answer, not when
    // coming back from 0.0.0.0 to the same address).
    if (sdp) {
      if (sdp_ && *sdp_ != *sdp && locked_) {
        obsolete_ = locked_;
        locked_.reset();
      }
      sdp_ = sdp;
    }
    return;
  }
  sdp_ = sdp;
  window_pending_ = false;
  fallback_.reset();
  rebind_.reset();
  // Nothing signalled yet (the answerer before its answer): the learning window has not begun,
  // so only a match may lock; the answer's expect() opens the window.
  awaiting_sdp_ = !sdp_;
  if (locked_ && sdp_ && sdp_->port != 0 && *locked_ == *sdp_) {
    deadline_.reset();
    return;
  }
  unlock();
  if (awaiting_sdp_) {
    deadline_.reset();
  } else if (settings_.window > std::chrono::milliseconds::zero()) {
    deadline_ = now + settings_.window;
  } else {
    deadline_.reset();
  }
}

LatchDecision Latch::on_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now) {
  if (settings_.policy == LatchPolicy::first_packet) {
    return count(first_packet_packet(source));
  }
  return count(strict_packet(source, info, now));
}

LatchDecision Latch::on_tick(SteadyTime now) {
  LatchDecision decision;
  if (settings_.policy == LatchPolicy::strict && close_elapsed_window(now)) {
    decision.relatched = true;
    ++counters_.relatches;
  }
  return decision;
}

std::optional<SteadyTime> Latch::window_deadline() const { return deadline_; }

void Latch::forget() {
  unlock();
  obsolete_.reset();
  fallback_.reset();
  rebind_.reset();
  deadline_.reset();
  window_pending_ = settings_.policy == LatchPolicy::strict &&
                    settings_.window > std::chrono::milliseconds::zero();
}

LatchDecision Latch::strict_packet(const Endpoint& source, const PacketInfo& info,
                                   SteadyTime now) {
  if (window_pending_) {
    window_pending_ = false;
    deadline_ = now + settings_.window;
  }
  const bool locked_by_expiry = close_elapsed_window(now);
  // The exact SDP endpoint takes over a weaker lock made in the same window (a party that moved
  // only its port: late packets from the old port match the SDP IP and would keep the lock).
  if (locked_ && *locked_ != source && upgrade_until_ && now < *upgrade_until_ &&
      match_rank(source) == 3 && valid_match(info)) {
    lock(source);
    upgrade_until_.reset();
    return {locked_packet(source, info).verdict, true};
  }
  if (locked_) {
    LatchDecision decision = locked_packet(source, info);
    decision.relatched = decision.relatched || locked_by_expiry;
    return decision;
  }
  if (const int rank = match_rank(source); rank > 0) {
    if (!valid_match(info)) {
      return {LatchVerdict::invalid, false};
    }
    lock(source);
    if (rank < 3 && sdp_ && sdp_->port != 0) {
      upgrade_until_ = now + std::max(settings_.window, std::chrono::milliseconds(1));
    }
    deadline_.reset();
    fallback_.reset();
    return {locked_packet(source, info).verdict, true};
  }
  if (!valid_fallback(info)) {
    return {LatchVerdict::invalid, false};
  }
  if (window_open(now)) {
    if (!fallback_) {
      fallback_ = source;
    }
    return {LatchVerdict::learning, false};
  }
  lock(source);
  return {locked_packet(source, info).verdict, true};
}

LatchDecision Latch::first_packet_packet(const Endpoint& source) {
  if (locked_) {
    return {*locked_ == source ? LatchVerdict::accept : LatchVerdict::stranger, false};
  }
  if (obsolete_ && *obsolete_ == source) {
    return {LatchVerdict::stranger, false};
  }
  lock(source);
  obsolete_.reset();
  return {LatchVerdict::accept, true};
}

LatchDecision Latch::locked_packet(const Endpoint& source, const PacketInfo& info) {
  if (*locked_ == source) {
    if (!locked_ssrc_ && is_rtp_or_rtcp(info)) {
      locked_ssrc_ = info.ssrc;
    }
    return {LatchVerdict::accept, false};
  }
  if (rebinding(source, info)) {
    locked_ = source;  // same stream, same SSRC: keep it
    rebind_.reset();
    return {LatchVerdict::accept, true};
  }
  return {LatchVerdict::stranger, false};
}

bool Latch::rebinding(const Endpoint& source, const PacketInfo& info) {
  const bool same_ssrc = locked_ssrc_ && is_rtp_or_rtcp(info) && info.ssrc == *locked_ssrc_;
  const bool from_candidate = rebind_ && rebind_->source == source;
  if (!same_ssrc) {
    if (from_candidate) {
      rebind_.reset();  // not two consecutive packets of the stream any more
    }
    return false;
  }
  std::optional<std::uint16_t> sequence;
  if (info.kind == PacketKind::rtp) {
    sequence = info.sequence;
  }
  if (!from_candidate) {
    rebind_ = RebindCandidate{source, sequence};
    return false;
  }
  if (sequence && rebind_->last_sequence) {
    const auto step = static_cast<std::uint16_t>(*sequence - *rebind_->last_sequence);
    if (step >= 1 && step <= max_rebind_sequence_step) {
      return true;
    }
    rebind_->last_sequence = sequence;  // start over from this packet
    return false;
  }
  return true;  // RTCP carries no sequence number: the second packet with the SSRC is enough
}

int Latch::match_rank(const Endpoint& source) const {
  if (sdp_) {
    if (sdp_->port != 0 && source == *sdp_) {
      return 3;
    }
    if (source.ip == sdp_->ip) {
      return 2;
    }
  }
  if (signaling_ip_ && source.ip == *signaling_ip_) {
    return 1;
  }
  return 0;
}

bool Latch::valid_match(const PacketInfo& info) const {
  return !(settings_.require_rtp && info.kind == PacketKind::other);
}

bool Latch::valid_fallback(const PacketInfo& info) const {
  if (settings_.require_rtp) {
    return is_rtp_or_rtcp(info);
  }
  return info.kind != PacketKind::stun;
}

bool Latch::window_open(SteadyTime now) const {
  return awaiting_sdp_ || (deadline_ && now < *deadline_);
}

bool Latch::close_elapsed_window(SteadyTime now) {
  if (awaiting_sdp_ || !deadline_ || now < *deadline_) {
    return false;
  }
  deadline_.reset();
  if (locked_ || !fallback_) {
    fallback_.reset();
    return false;
  }
  lock(*std::exchange(fallback_, std::nullopt));
  return true;
}

void Latch::restore(std::optional<Endpoint> sdp,
                    std::optional<boost::asio::ip::address_v4> signaling_ip,
                    const Endpoint& locked) {
  sdp_ = known(sdp);
  signaling_ip_ = known(signaling_ip);
  awaiting_sdp_ = false;
  window_pending_ = false;
  deadline_.reset();
  upgrade_until_.reset();
  fallback_.reset();
  obsolete_.reset();
  lock(locked);
}

void Latch::lock(const Endpoint& source) {
  locked_ = source;
  locked_ssrc_.reset();
  rebind_.reset();
}

void Latch::unlock() {
  upgrade_until_.reset();
  locked_.reset();
  locked_ssrc_.reset();
  rebind_.reset();
}

LatchDecision Latch::count(LatchDecision decision) {
  switch (decision.verdict) {
    case LatchVerdict::accept:
      ++counters_.accepted;
      break;
    case LatchVerdict::learning:
      ++counters_.learning;
      break;
    case LatchVerdict::stranger:
      ++counters_.stranger;
      break;
    case LatchVerdict::invalid:
      ++counters_.invalid;
      break;
  }
  if (decision.relatched) {
    ++counters_.relatches;
  }
  return decision;
}

}  // namespace mpx::relay::media
