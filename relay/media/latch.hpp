// Latching of one sub-party: which remote address the packets arriving on ONE relay socket (the
// RTP or RTCP socket of one side of a stream) are accepted from. Pure logic: no sockets, no clock;
// the IO layer passes the time in, forwards what is accepted and arms a timer at
// window_deadline() that calls on_tick().
//
// MediaProxy latches on the first packet from anyone, so whoever sprays the port range first takes
// the call's audio ("RTP Bleed"). The strict policy keeps NAT traversal for symmetric clients but
// bounds that window:
//
// strict (default):
// * expect() (each offer or answer) records where the party is: its SDP endpoint and its
//   signaling IP, and opens a learning window of `window` from `now`. If the locked source equals
//   the new SDP endpoint exactly, the lock is kept (no window); otherwise the lock is dropped (the
//   old source competes like anyone else) along with its SSRC and any fallback candidate.
// * Before any lock, a packet whose source matches what was signalled locks at once (accept +
//   relatched): the SDP endpoint exactly (rank 3), the SDP IP (rank 2) or the signaling IP
//   (rank 1). Any kind may lock this way (STUN included) except `other` when require_rtp.
//   Because a match locks at once, the first matching packet wins whatever its rank, except
//   that for one window after a weaker match (SDP IP or signaling IP) locked, a packet from the
//   exact SDP endpoint takes the lock over: a party that moved only its port may still send a
//   few packets from the old one.
// * A packet from any other source that is a valid fallback (RTP/RTCP when require_rtp, anything
//   but STUN otherwise) is remembered as THE fallback candidate if it is the first such, and is
//   `learning` (held back, not forwarded) while the window is open. Once the window has elapsed
//   (on_tick, or the next packet at or after the deadline) the lock goes to the first fallback
//   candidate; if there was none, to the first valid packet arriving after the window.
// * STUN from an unmatched source is `invalid` (dropped, never a candidate); so is `other` when
//   require_rtp.
// * After lock, packets from the locked source are accepted (any kind); the SSRC is recorded
//   from the first RTP/RTCP packet accepted from it. Packets from others are `stranger`, except a
//   NAT rebinding: a new source sending the locked SSRC twice in a row re-latches on its second
//   packet (accept + relatched), provided that for two RTP packets the sequence step is 1..1000
//   (mod 2^16); RTCP has no sequence number, so two RTCP packets (or an RTCP and an RTP packet,
//   with rtcp-mux) with the locked sender SSRC are enough. A packet from another source with the
//   locked SSRC replaces the pending rebinding candidate; a bad sequence step restarts it.
//   Without a recorded SSRC (e.g. image/udptl streams) there is no rebinding re-latch.
// * window = 0: no holding back; the first valid fallback locks at once.
// * expect() without a usable SDP endpoint (nullopt or 0.0.0.0: the answerer before its answer)
//   opens no window and allows no fallback: unmatched packets are `learning` until an expect()
//   with an SDP endpoint opens the window. Otherwise an attacker spraying the ports between the
//   offer and the answer would own the answerer's side.
// * Before the first expect() nothing is expected and no window is open: the first valid packet
//   locks (the IO layer calls expect() when the stream opens, with what it knows).
// * forget() (RTCP expiry) drops the lock and its SSRC and keeps the expectations; the new
//   learning window opens at the next packet (there is no `now` to open it earlier).
//
// first_packet (MediaProxy, compat spec 5.5): the first datagram from any source (any kind)
// locks; others are `stranger`. After expect() with a changed SDP endpoint (both the old and the
// new one known, and different) the locked address is kept as obsolete: its packets are
// `stranger` and the next packet from a DIFFERENT source locks. No window, no SSRC logic.
// forget() forgets both the locked and the obsolete address.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "relay/media/packet_class.hpp"
#include "relay/session/types.hpp"

namespace mpx::relay::media {

using SteadyTime = std::chrono::steady_clock::time_point;
using Endpoint = mpx::relay::session::Endpoint;

enum class LatchPolicy { strict, first_packet };  // first_packet = MediaProxy's behaviour

struct LatchSettings {
  LatchPolicy policy = LatchPolicy::strict;
  std::chrono::milliseconds window{1000};  // learning window after each expect()
  // Fallback candidates must be valid RTP/RTCP (false for non-RTP streams, e.g. image/udptl:
  // any packet but STUN).
  bool require_rtp = true;
};

enum class LatchVerdict {
  accept,    // from the locked source: forward it
  learning,  // held back: an unmatched candidate during the learning window (not forwarded)
  stranger,  // from someone other than the locked source: drop
  invalid,   // not acceptable as a candidate (not RTP/RTCP when require_rtp, STUN from unknown)
};

std::string_view to_string(LatchVerdict verdict);

struct LatchDecision {
  LatchVerdict verdict = LatchVerdict::stranger;
  bool relatched = false;  // this packet (or a window expiry) moved the lock to a new source
  bool operator==(const LatchDecision&) const = default;
};

class Latch {
 public:
  explicit Latch(LatchSettings settings);

  // A new offer/answer told us where the party is: its SDP endpoint (for an RTCP latch the
  // caller passes SDP port + 1; nullopt or 0.0.0.0 when unknown) and its signaling IP (nullopt if
  // unknown). Opens a new learning window from `now`.
  void expect(std::optional<Endpoint> sdp, std::optional<boost::asio::ip::address_v4> signaling_ip,
              SteadyTime now);

  LatchDecision on_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now);
  // A restarted relay re-adopting a flow its predecessor handed to the kernel (issue 5 point 4):
  // the expectations as expect() records them and the lock already taken, with no window open
  // (the lock was settled before the restart). The SSRC is unknown until the next packet.
  void restore(std::optional<Endpoint> sdp, std::optional<boost::asio::ip::address_v4> signaling_ip,
               const Endpoint& locked);

  // Called by the IO layer's timer: when the window has elapsed without a match, locks to the
  // first fallback candidate. relatched=true if it locked; the verdict means nothing here.
  LatchDecision on_tick(SteadyTime now);

  const std::optional<Endpoint>& locked() const { return locked_; }
  // nullopt when no timed window is open (also while awaiting an SDP endpoint)
  std::optional<SteadyTime> window_deadline() const;
  bool awaiting_sdp() const { return awaiting_sdp_; }

  // RTCP expiry: forget the locked address entirely (next packets latch anew, as after expect()
  // with the same expectations and a new window, opened by the next packet).
  void forget();

  struct Counters {
    std::uint64_t accepted = 0, learning = 0, stranger = 0, invalid = 0, relatches = 0;
    bool operator==(const Counters&) const = default;
  };
  const Counters& counters() const { return counters_; }

  const LatchSettings& settings() const { return settings_; }
  // SSRC of the locked source once an RTP/RTCP packet was accepted from it (strict only).
  std::optional<std::uint32_t> locked_ssrc() const { return locked_ssrc_; }

 private:
  // A new source sending the locked SSRC: one more such packet re-latches (NAT rebinding).
  struct RebindCandidate {
    Endpoint source;
    std::optional<std::uint16_t> last_sequence;  // nullopt: the previous packet was RTCP
  };

  LatchDecision strict_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now);
  LatchDecision first_packet_packet(const Endpoint& source);
  LatchDecision locked_packet(const Endpoint& source, const PacketInfo& info);
  bool rebinding(const Endpoint& source, const PacketInfo& info);
  // 0: no match; 1 signaling IP, 2 SDP IP, 3 SDP endpoint.
  int match_rank(const Endpoint& source) const;
  bool valid_match(const PacketInfo& info) const;
  bool valid_fallback(const PacketInfo& info) const;
  bool window_open(SteadyTime now) const;
  bool close_elapsed_window(SteadyTime now);  // true when it locked to the fallback
  void lock(const Endpoint& source);
  void unlock();
  LatchDecision count(LatchDecision decision);

  LatchSettings settings_;
  std::optional<Endpoint> sdp_;  // port 0: only the IP is known
  std::optional<boost::asio::ip::address_v4> signaling_ip_;
  std::optional<Endpoint> locked_;
  std::optional<std::uint32_t> locked_ssrc_;
  std::optional<SteadyTime> deadline_;
  bool window_pending_ = false;  // forget(): open the window at the next packet
  bool awaiting_sdp_ = false;    // strict: expect() without an SDP endpoint; no fallback yet
  // strict: until then the exact SDP endpoint may take over a lock made by a weaker match
  std::optional<SteadyTime> upgrade_until_;
  std::optional<Endpoint> fallback_;
  std::optional<RebindCandidate> rebind_;
  std::optional<Endpoint> obsolete_;  // first_packet: the address latched before a reset
  Counters counters_;
};

}  // namespace mpx::relay::media
