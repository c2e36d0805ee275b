// Latching of one sub-party: which remote address the packets arriving on ONE relay socket (the
// RTP or RTCP socket of one side of a stream) are accepted from, and so where the other side's
// media is sent. Pure logic: no sockets, no clock; the IO layer passes the time in, forwards what
// is accepted, hands the lock (never a candidate) to the kernel datapath, and arms a timer at
// window_deadline() that calls on_tick(). docs/security/threat-model.md says what this defends
// against and what it trades for NAT traversal.
//
// strict (default) and signalled_only:
// * Candidates are ranked (SourceRank): the party's SDP address and port, its SDP address with
//   another port, its signaling IP, then any other source ("unsignalled"). On an RTCP socket
//   (settings.follows_rtp) the party's RTP lock decides instead: once RTP is locked to an IP,
//   only that IP (any port) is a candidate (rank rtp_source); before, only the signalled ranks.
// * Unsignalled sources are candidates only with `strict`, and only while the party's SDP
//   address is one the relay cannot send to (Expectation::sdp_reachable false: a private
//   address behind a NAT). Where the relay can reach the SDP address, an unsignalled source is
//   never needed to reach the party, and accepting one would let a sprayer in.
// * Signalled candidates lock at once, whenever they send. Unsignalled ones wait for learning:
//   open() says when the party can first send to the relay (the IO layer calls it for the
//   answerer when the offer is answered, for the offerer when the answer is), and every expect()
//   after that (an offer or answer that changed the party's addresses) starts learning again.
//   For `window` from then, unsignalled sources are held back and tallied; when the window ends
//   the one that sent the most valid packets locks (the first on a tie; a few heavy-hitter
//   slots, so a spray of forged sources cannot push the party out); after the window the first
//   one locks. Before open() nothing unsignalled is even tallied: ringing cannot use it up.
// * Valid candidate packets: RTP, RTCP, STUN and DTLS (a WebRTC endpoint's first packets), or
//   any kind but STUN when !require_rtp (image/udptl). Anything from the locked source is
//   accepted, whatever its kind.
// * A lock taken by a weaker candidate stays provisional for the whole call: a valid packet
//   from a strictly better candidate takes it over at any time (change `takeover`), unless that
//   candidate's address is one the relay cannot send to (then it could only be forged, and
//   must not be able to cut a NATed call): such a candidate locks only a socket with no lock.
// * A lock never moves to another IP otherwise; a new offer or answer is needed. It moves to
//   another port of the same IP (a NAT rebinding, change `rebinding`) only when that port sends
//   the locked SSRC with RTP sequence steps of 1..1000 for at least kRebindQuiet while the
//   locked source sends nothing (knowing the SSRC is not enough while the party talks). The IO
//   layer reports sends it cannot see (the kernel forwards them) through note_locked_active().
// * expect() (an offer or answer) records where the party is. An unknown SDP address (nullopt
//   or 0.0.0.0: hold, or the answerer before its answer) keeps what was known. The lock is kept
//   when it is the new SDP endpoint exactly (or, on an RTCP socket, its RTP's IP); otherwise it
//   is dropped and the old source competes as whatever candidate it now is.
// * forget() (idle RTCP) drops the lock and relearns; the window restarts at the next packet.
//
// first_packet (MediaProxy, compat spec 5.5; vulnerable to RTP Bleed): the first datagram from
// any source (any kind) locks; others are `stranger`. After expect() with a changed SDP endpoint
// (both the old and the new one known, and different) the locked address is kept as obsolete:
// its packets are `stranger` and the next packet from a DIFFERENT source locks. No window, no
// ranks, no rebinding; open() and follow() do nothing. forget() forgets locked and obsolete.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "relay/media/packet_class.hpp"
#include "relay/session/types.hpp"

namespace mpx::relay::media {

using SteadyTime = std::chrono::steady_clock::time_point;
using Endpoint = mpx::relay::session::Endpoint;

enum class LatchPolicy {
  strict,          // ranked candidates; unsignalled sources for parties behind a NAT
  signalled_only,  // ranked candidates, never an unsignalled source
  first_packet,    // MediaProxy's: whoever sends first
};

std::string_view to_string(LatchPolicy policy);

struct LatchSettings {
  LatchPolicy policy = LatchPolicy::strict;
  std::chrono::milliseconds window{1000};  // learning window after open() and each expect()
  // Audio/video: candidates must be RTP, RTCP, STUN or DTLS. False for non-RTP streams (e.g.
  // image/udptl): any packet but STUN.
  bool require_rtp = true;
  bool follows_rtp = false;  // an RTCP socket: its candidates come from follow()
};

// Where the signalling says the party is (one offer or answer), and whether the relay can send
// there (the IO layer decides: not a private range outside routable_private_ranges).
struct Expectation {
  std::optional<Endpoint> sdp;  // port 0: only the IP is known; nullopt or 0.0.0.0: unknown
  std::optional<boost::asio::ip::address_v4> signaling_ip;
  bool sdp_reachable = false;
  bool signaling_reachable = false;
};

// How strongly a source is tied to the signalled party; a higher rank takes a lock over.
enum class SourceRank : std::uint8_t {
  none = 0,          // not a candidate at all
  unsignalled = 1,   // any other source: NAT traversal of last resort
  signaling_ip = 2,  // the IP the party's SIP came from
  sdp_ip = 3,        // the SDP address with another port
  sdp_endpoint = 4,  // the SDP address and port
  rtp_source = 5,    // RTCP socket: the IP its party's RTP is locked to
};

std::string_view to_string(SourceRank rank);

enum class LatchVerdict {
  accept,    // from the locked source (or it just locked): forward it
  learning,  // no lock yet: held back, not forwarded
  stranger,  // the socket is locked to another source: dropped
  invalid,   // not acceptable as a candidate (e.g. not RTP/RTCP/STUN/DTLS): dropped
};

std::string_view to_string(LatchVerdict verdict);

// How the lock changed with this packet or tick.
enum class LatchChange {
  none,
  locked,      // a socket with no lock took its first (or, after a drop, a new) source
  window_end,  // the learning window ended and its best unsignalled source locked
  takeover,    // a strictly better candidate took over a provisional lock
  rebinding,   // the locked IP moved to another port (NAT rebinding)
};

std::string_view to_string(LatchChange change);

struct LatchDecision {
  LatchVerdict verdict = LatchVerdict::stranger;
  LatchChange change = LatchChange::none;
  bool relatched() const { return change != LatchChange::none; }
  bool operator==(const LatchDecision&) const = default;
};

class Latch {
 public:
  // A candidate port of the locked IP must send the locked SSRC this long, with the locked
  // source silent, before a rebinding moves the lock.
  static constexpr std::chrono::milliseconds kRebindQuiet{200};
  // Unsignalled sources tallied per window (heavy-hitter slots).
  static constexpr std::size_t kTallySlots = 4;

  explicit Latch(LatchSettings settings);

  // An offer or answer told where the party is. Restarts learning if the party can send.
  void expect(const Expectation& expectation, SteadyTime now);
  // The party can send to the relay from `now`: learning starts (idempotent).
  void open(SteadyTime now);
  // RTCP socket: the IP its party's RTP is locked to (nullopt: not locked). A lock on another
  // IP is dropped.
  void follow(std::optional<boost::asio::ip::address_v4> rtp_ip);

  LatchDecision on_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now);
  // The IO layer's timer: ends an elapsed window (change window_end if a source locked).
  LatchDecision on_tick(SteadyTime now);
  // The locked source sent at (or before) `when` through a path this latch does not see (the
  // kernel datapath's counters moved).
  void note_locked_active(SteadyTime when);

  // A restarted relay re-adopting a flow its predecessor handed to the kernel: the expectations
  // and the lock already taken, learning over (open, no window). The SSRC is unknown until the
  // next packet.
  void restore(const Expectation& expectation, const Endpoint& locked);
  // Idle RTCP: forget the lock (and obsolete address); learning restarts at the next packet.
  void forget();

  const std::optional<Endpoint>& locked() const { return locked_; }
  SourceRank locked_rank() const { return locked_ ? locked_rank_ : SourceRank::none; }
  // nullopt when no timed window is open.
  std::optional<SteadyTime> window_deadline() const { return deadline_; }
  bool is_open() const { return open_; }
  // SSRC of the locked source once an RTP/RTCP packet was accepted from it (strict only).
  std::optional<std::uint32_t> locked_ssrc() const { return locked_ssrc_; }
  const LatchSettings& settings() const { return settings_; }

  struct Counters {
    std::uint64_t accepted = 0, learning = 0, stranger = 0, invalid = 0;
    std::uint64_t relatches = 0;  // every change of the lock, including the ones below
    std::uint64_t takeovers = 0, rebindings = 0;
    bool operator==(const Counters&) const = default;
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Tally {
    Endpoint source;
    std::uint32_t packets = 0;
    std::uint32_t order = 0;  // arrival order of its first packet: earlier wins a tie
  };
  // A port of the locked IP sending the locked SSRC: the rebinding being checked.
  struct RebindCandidate {
    Endpoint source;
    std::optional<std::uint16_t> last_sequence;  // nullopt: its previous packet was RTCP
    SteadyTime since;
  };

  LatchDecision ranked_packet(const Endpoint& source, const PacketInfo& info, SteadyTime now);
  // Locks `source` with this packet: accept, with `change`.
  LatchDecision take(const Endpoint& source, SourceRank rank, const PacketInfo& info,
                     SteadyTime now, LatchChange change);
  LatchDecision first_packet_packet(const Endpoint& source);
  bool rebinding(const Endpoint& source, const PacketInfo& info, SteadyTime now);
  SourceRank rank_of(const Endpoint& source) const;
  bool reachable(SourceRank rank) const;
  bool unsignalled_allowed() const;
  bool valid_candidate(const PacketInfo& info) const;
  bool window_open(SteadyTime now) const;
  bool close_elapsed_window(SteadyTime now);  // true when it locked the window's best source
  void start_window(SteadyTime now);
  void tally(const Endpoint& source);
  void lock(const Endpoint& source, SourceRank rank);
  void unlock();
  LatchDecision count(LatchDecision decision);

  LatchSettings settings_;
  std::optional<Endpoint> sdp_;  // port 0: only the IP is known
  std::optional<boost::asio::ip::address_v4> signaling_ip_;
  bool sdp_reachable_ = false;
  bool signaling_reachable_ = false;
  std::optional<boost::asio::ip::address_v4> rtp_ip_;  // follows_rtp: RTP's lock
  bool open_ = false;
  std::optional<SteadyTime> deadline_;
  bool window_pending_ = false;  // forget(): the window opens at the next packet
  std::optional<Endpoint> locked_;
  SourceRank locked_rank_ = SourceRank::none;
  std::optional<std::uint32_t> locked_ssrc_;
  std::optional<SteadyTime> locked_active_;  // last time the locked source was seen sending
  std::optional<RebindCandidate> rebind_;
  std::array<Tally, kTallySlots> tallies_{};
  std::size_t tally_count_ = 0;
  std::uint32_t tally_order_ = 0;
  std::optional<Endpoint> obsolete_;  // first_packet: the address latched before a reset
  Counters counters_;
};

}  // namespace mpx::relay::media
