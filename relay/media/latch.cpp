// The latch of one sub-party; the rules are in latch.hpp.
#include "relay/media/latch.hpp"

#include <algorithm>
#include <cstddef>
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

std::string_view to_string(LatchPolicy policy) {
  switch (policy) {
    case LatchPolicy::strict:
      return "strict";
    case LatchPolicy::signalled_only:
      return "signalled_only";
    case LatchPolicy::first_packet:
      return "first_packet";
  }
  return "unknown";
}

std::string_view to_string(SourceRank rank) {
  switch (rank) {
    case SourceRank::none:
      return "none";
    case SourceRank::unsignalled:
      return "unsignalled source";
    case SourceRank::signaling_ip:
      return "signaling IP";
    case SourceRank::sdp_ip:
      return "SDP address";
    case SourceRank::sdp_endpoint:
      return "SDP address and port";
    case SourceRank::rtp_source:
      return "RTP's address";
  }
  return "unknown";
}

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

std::string_view to_string(LatchChange change) {
  switch (change) {
    case LatchChange::none:
      return "none";
    case LatchChange::locked:
      return "locked";
    case LatchChange::window_end:
      return "window end";
    case LatchChange::takeover:
      return "takeover";
    case LatchChange::rebinding:
      return "rebinding";
  }
  return "unknown";
}

Latch::Latch(LatchSettings settings) : settings_(settings) {
  if (settings_.window < std::chrono::milliseconds::zero()) {
    settings_.window = std::chrono::milliseconds::zero();
  }
}

void Latch::expect(const Expectation& expectation, SteadyTime now) {
  const auto sdp = known(expectation.sdp);
  signaling_ip_ = known(expectation.signaling_ip);
  signaling_reachable_ = signaling_ip_ && expectation.signaling_reachable;
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
  if (!sdp) {
    return;  // hold (0.0.0.0) or nothing new: nobody moved
  }
  sdp_ = sdp;
  sdp_reachable_ = expectation.sdp_reachable;
  rebind_.reset();
  tally_count_ = 0;
  if (locked_) {
    if (settings_.follows_rtp && rtp_ip_ && locked_->ip == *rtp_ip_) {
      locked_rank_ = SourceRank::rtp_source;
    } else if (rank_of(*locked_) == SourceRank::sdp_endpoint) {
      locked_rank_ = SourceRank::sdp_endpoint;
    } else {
      unlock();
    }
  }
  if (open_) {
    start_window(now);
  }
}

void Latch::open(SteadyTime now) {
  if (open_ || settings_.policy == LatchPolicy::first_packet) {
    return;
  }
  open_ = true;
  start_window(now);
}

void Latch::follow(std::optional<boost::asio::ip::address_v4> rtp_ip) {
  if (!settings_.follows_rtp || settings_.policy == LatchPolicy::first_packet ||
      rtp_ip == rtp_ip_) {
    return;
  }
  rtp_ip_ = rtp_ip;
  rebind_.reset();
  tally_count_ = 0;
  if (!locked_) {
    return;
  }
  if (rtp_ip && locked_->ip == *rtp_ip) {
    locked_rank_ = SourceRank::rtp_source;
  } else {
    unlock();
  }
}

LatchDecision Latch::on_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now) {
  if (settings_.policy == LatchPolicy::first_packet) {
    return count(first_packet_packet(source));
  }
  return count(ranked_packet(source, info, now));
}

LatchDecision Latch::on_tick(SteadyTime now) {
  LatchDecision decision;
  if (settings_.policy != LatchPolicy::first_packet && close_elapsed_window(now)) {
    decision.change = LatchChange::window_end;
    ++counters_.relatches;
  }
  return decision;
}

void Latch::note_locked_active(SteadyTime when) {
  if (locked_ && (!locked_active_ || *locked_active_ < when)) {
    locked_active_ = when;
  }
}

LatchDecision Latch::ranked_packet(const Endpoint& source, const PacketInfo& info,
                                   SteadyTime now) {
  if (window_pending_) {
    window_pending_ = false;
    start_window(now);
  }
  const LatchChange expired =
      close_elapsed_window(now) ? LatchChange::window_end : LatchChange::none;
  if (locked_ && *locked_ == source) {
    if (!locked_ssrc_ && is_rtp_or_rtcp(info)) {
      locked_ssrc_ = info.ssrc;
    }
    note_locked_active(now);
    return {LatchVerdict::accept, expired};
  }
  if (!valid_candidate(info)) {
    return {LatchVerdict::invalid, expired};
  }
  const SourceRank rank = rank_of(source);
  if (locked_) {
    if (rank > locked_rank_ && reachable(rank)) {
      return take(source, rank, info, now, LatchChange::takeover);
    }
    if (source.ip == locked_->ip && rebinding(source, info, now)) {
      // The same stream, proven by its SSRC: the lock keeps its rank.
      return take(source, locked_rank_, info, now, LatchChange::rebinding);
    }
    return {LatchVerdict::stranger, expired};
  }
  if (rank >= SourceRank::signaling_ip) {
    return take(source, rank, info, now, LatchChange::locked);
  }
  if (rank == SourceRank::unsignalled && open_) {
    if (window_open(now)) {
      tally(source);
      return {LatchVerdict::learning, expired};
    }
    return take(source, rank, info, now, LatchChange::locked);
  }
  return {LatchVerdict::learning, expired};
}

LatchDecision Latch::take(const Endpoint& source, SourceRank rank, const PacketInfo& info,
                          SteadyTime now, LatchChange change) {
  lock(source, rank);
  if (is_rtp_or_rtcp(info)) {
    locked_ssrc_ = info.ssrc;
  }
  locked_active_ = now;
  return {LatchVerdict::accept, change};
}

LatchDecision Latch::first_packet_packet(const Endpoint& source) {
  if (locked_) {
    return {*locked_ == source ? LatchVerdict::accept : LatchVerdict::stranger,
            LatchChange::none};
  }
  if (obsolete_ && *obsolete_ == source) {
    return {LatchVerdict::stranger, LatchChange::none};
  }
  lock(source, SourceRank::unsignalled);
  obsolete_.reset();
  return {LatchVerdict::accept, LatchChange::locked};
}

bool Latch::rebinding(const Endpoint& source, const PacketInfo& info, SteadyTime now) {
  const bool same_ssrc = locked_ssrc_ && is_rtp_or_rtcp(info) && info.ssrc == *locked_ssrc_;
  const bool from_candidate = rebind_ && rebind_->source == source;
  if (!same_ssrc) {
    if (from_candidate) {
      rebind_.reset();  // not one stream any more
    }
    return false;
  }
  std::optional<std::uint16_t> sequence;
  if (info.kind == PacketKind::rtp) {
    sequence = info.sequence;
  }
  // The locked source still sends: a second port with its SSRC is a copy, not a rebinding.
  if (!from_candidate || (locked_active_ && *locked_active_ >= rebind_->since)) {
    rebind_ = RebindCandidate{source, sequence, now};
    return false;
  }
  if (sequence && rebind_->last_sequence) {
    const auto step = static_cast<std::uint16_t>(*sequence - *rebind_->last_sequence);
    if (step < 1 || step > max_rebind_sequence_step) {
      rebind_ = RebindCandidate{source, sequence, now};  // start over from this packet
      return false;
    }
  }
  rebind_->last_sequence = sequence;
  return now - rebind_->since >= kRebindQuiet;
}

SourceRank Latch::rank_of(const Endpoint& source) const {
  if (settings_.follows_rtp && rtp_ip_) {
    return source.ip == *rtp_ip_ ? SourceRank::rtp_source : SourceRank::none;
  }
  if (sdp_) {
    if (sdp_->port != 0 && source == *sdp_) {
      return SourceRank::sdp_endpoint;
    }
    if (source.ip == sdp_->ip) {
      return SourceRank::sdp_ip;
    }
  }
  if (signaling_ip_ && source.ip == *signaling_ip_) {
    return SourceRank::signaling_ip;
  }
  return unsignalled_allowed() ? SourceRank::unsignalled : SourceRank::none;
}

bool Latch::reachable(SourceRank rank) const {
  switch (rank) {
    case SourceRank::sdp_endpoint:
    case SourceRank::sdp_ip:
      return sdp_reachable_;
    case SourceRank::signaling_ip:
      return signaling_reachable_;
    case SourceRank::rtp_source:
      return true;  // RTP proved it
    case SourceRank::none:
    case SourceRank::unsignalled:
      return false;
  }
  return false;
}

bool Latch::unsignalled_allowed() const {
  return settings_.policy == LatchPolicy::strict && !settings_.follows_rtp && sdp_ &&
         !sdp_reachable_;
}

bool Latch::valid_candidate(const PacketInfo& info) const {
  if (settings_.require_rtp) {
    return info.kind != PacketKind::other;
  }
  return info.kind != PacketKind::stun;
}

bool Latch::window_open(SteadyTime now) const { return deadline_ && now < *deadline_; }

void Latch::start_window(SteadyTime now) {
  tally_count_ = 0;
  if (settings_.window > std::chrono::milliseconds::zero()) {
    deadline_ = now + settings_.window;
  } else {
    deadline_.reset();
  }
}

bool Latch::close_elapsed_window(SteadyTime now) {
  if (!deadline_ || now < *deadline_) {
    return false;
  }
  deadline_.reset();
  const std::size_t candidates = std::exchange(tally_count_, 0);
  if (locked_ || candidates == 0 || !unsignalled_allowed()) {
    return false;
  }
  const auto best = std::min_element(
      tallies_.begin(), tallies_.begin() + static_cast<std::ptrdiff_t>(candidates),
      [](const Tally& a, const Tally& b) {
        return a.packets != b.packets ? a.packets > b.packets : a.order < b.order;
      });
  lock(best->source, SourceRank::unsignalled);
  return true;
}

// Misra-Gries: a source that sent more than 1/(kTallySlots + 1) of the window's unsignalled
// packets keeps its slot, however many forged sources share the rest.
void Latch::tally(const Endpoint& source) {
  const auto end = tallies_.begin() + static_cast<std::ptrdiff_t>(tally_count_);
  const auto found =
      std::find_if(tallies_.begin(), end, [&](const Tally& t) { return t.source == source; });
  if (found != end) {
    ++found->packets;
    return;
  }
  if (tally_count_ < tallies_.size()) {
    tallies_[tally_count_++] = Tally{source, 1, tally_order_++};
    return;
  }
  const auto kept = std::remove_if(tallies_.begin(), end, [](Tally& t) { return --t.packets == 0; });
  tally_count_ = static_cast<std::size_t>(kept - tallies_.begin());
}

void Latch::restore(const Expectation& expectation, const Endpoint& locked) {
  sdp_ = known(expectation.sdp);
  sdp_reachable_ = sdp_ && expectation.sdp_reachable;
  signaling_ip_ = known(expectation.signaling_ip);
  signaling_reachable_ = signaling_ip_ && expectation.signaling_reachable;
  open_ = settings_.policy != LatchPolicy::first_packet;
  window_pending_ = false;
  deadline_.reset();
  tally_count_ = 0;
  obsolete_.reset();
  lock(locked, std::max(rank_of(locked), SourceRank::unsignalled));
}

void Latch::forget() {
  unlock();
  obsolete_.reset();
  tally_count_ = 0;
  deadline_.reset();
  window_pending_ = open_ && settings_.policy != LatchPolicy::first_packet &&
                    settings_.window > std::chrono::milliseconds::zero();
}

void Latch::lock(const Endpoint& source, SourceRank rank) {
  locked_ = source;
  locked_rank_ = rank;
  locked_ssrc_.reset();
  locked_active_.reset();
  rebind_.reset();
}

void Latch::unlock() {
  locked_.reset();
  locked_rank_ = SourceRank::none;
  locked_ssrc_.reset();
  locked_active_.reset();
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
  if (decision.relatched()) {
    ++counters_.relatches;
  }
  if (decision.change == LatchChange::takeover) {
    ++counters_.takeovers;
  } else if (decision.change == LatchChange::rebinding) {
    ++counters_.rebindings;
  }
  return decision;
}

}  // namespace mpx::relay::media
