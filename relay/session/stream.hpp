// One media stream of a relay session (compat spec 5.2, 5.8, 5.11): its four relay ports, what
// each party signalled, hold state, status and the times the statistics need. Plain state plus
// the hold rule; the offer/answer rules that drive it live in session.cpp.
#pragma once

#include "common/protocol/media.hpp"
#include "relay/session/types.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace mpx::relay::session {

struct PartyState {
  std::optional<Endpoint> sdp;  // last address the party signalled (accepted or reset to)
  bool on_hold = false;
  bool ice = false;
  std::string codec = "Unknown";  // from its first RTP packet (spec 5.11)
};

// Status strings of the statistics JSON (spec 3.4).
inline constexpr const char* kActive = "active";
inline constexpr const char* kOnHold = "on hold";
inline constexpr const char* kClosed = "closed";
inline constexpr const char* kRejected = "rejected";
inline constexpr const char* kUnselectedIce = "unselected ICE candidate";

struct Stream {
  StreamId id = 0;
  std::string media_type;
  Endpoint caller_local;  // RTP port of the relay on each side (RTCP = port + 1); port 0: none
  Endpoint callee_local;
  bool has_ports = false;  // false for a stream offered with port 0 (never given ports)

  PartyState caller;
  PartyState callee;

  bool alive = true;
  std::string status = kActive;
  std::int64_t timeout_wait = 0;

  TimePoint create_time{};                  // the offer that created it
  std::optional<TimePoint> start_time;      // its first answer
  std::optional<TimePoint> end_time;        // when it stopped being alive
  std::optional<TimePoint> first_media_time;  // first non-STUN packet, either side (PDD)
  StreamTraffic final_traffic;              // datapath totals captured when it ended

  PartyState& party(Party p) { return p == Party::caller ? caller : callee; }
  const PartyState& party(Party p) const { return p == Party::caller ? caller : callee; }
  bool on_hold() const { return caller.on_hold || callee.on_hold; }

  // Spec 5.8: a party is on hold if it sends sendonly/inactive or the IP 0.0.0.0 (recvonly is
  // not hold); the stream is on hold if either party is. Updates the status of an alive stream
  // and returns the transition, if any, for the IO layer's timers.
  std::optional<HoldChanged> check_hold(Party p, protocol::Direction direction,
                                        const boost::asio::ip::address_v4& ip);
};

}  // namespace mpx::relay::session
