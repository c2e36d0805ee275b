// Vocabulary of relay/session: parties, endpoints, stream ids, time, the traffic figures the IO
// layer reports from the datapath, and the actions the session logic hands back to the IO layer.
// Nothing here does IO: the logic decides, the IO layer (sockets, datapath, timers) executes.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mpx::relay::session {

using Clock = std::chrono::system_clock;  // statistics carry UNIX epoch times
using TimePoint = Clock::time_point;

// caller = the party that created the relay session's dialog (From of the creating update).
enum class Party { caller, callee };

std::string_view to_string(Party party);
inline Party other(Party party) { return party == Party::caller ? Party::callee : Party::caller; }

// An IPv4 address and UDP port (the relay is IPv4-only like the media grammar).
struct Endpoint {
  boost::asio::ip::address_v4 ip;
  std::uint16_t port = 0;
  std::string to_string() const;  // "ip:port"
  bool operator==(const Endpoint&) const = default;
};

// Unique for the manager's lifetime; never reused, so a late IO event cannot hit a new stream.
using StreamId = std::uint64_t;

// (call_id, from_tag) of the update that created the session.
using SessionKey = std::pair<std::string, std::string>;

// What the datapath knows about a stream, totals over its whole life (the IO layer adds up the
// counters of every rule a stream had, across resets). 64-bit: no wrap at 4 GiB.
struct StreamTraffic {
  std::uint64_t caller_bytes = 0;
  std::uint64_t callee_bytes = 0;
  std::uint64_t caller_packets = 0;
  std::uint64_t callee_packets = 0;
  std::optional<Endpoint> caller_remote;  // latched RTP source, if any
  std::optional<Endpoint> callee_remote;
  bool operator==(const StreamTraffic&) const = default;
};

// ---- Actions: what the IO layer must do after a call into the logic, in order. ----

// A stream got its four ports: bind/keep RTP (even) and RTCP (odd = port + 1) sockets on both
// sides, arm the no-traffic timers, start latching. `offerer_sdp` is what the offering party
// signalled (for the learning window).
struct StreamOpened {
  StreamId id = 0;
  SessionKey session;
  std::string media_type;
  Endpoint caller_local;  // RTP; RTCP is port + 1
  Endpoint callee_local;
  Party offerer = Party::caller;
  Endpoint offerer_sdp;
  bool operator==(const StreamOpened&) const = default;
};

// A party's SDP address became known without invalidating anything (first answer, or accepted
// after 0.0.0.0): restart the learning window for that side toward `sdp`.
struct PartySdpAccepted {
  StreamId id = 0;
  Party party = Party::caller;
  Endpoint sdp;
  bool operator==(const PartySdpAccepted&) const = default;
};

// A party moved (new port, or new IP other than 0.0.0.0: 183 then 200 from another gateway,
// UPDATE/re-INVITE): drop that side's datapath rules (keep their counters in the stream's
// totals), re-arm the no-traffic timers, mark the latched addresses obsolete, relearn toward `sdp`.
struct PartyReset {
  StreamId id = 0;
  Party party = Party::caller;
  Endpoint sdp;
  bool operator==(const PartyReset&) const = default;
};

// The stream entered (on_hold) or left hold: switch between the on-hold and no-traffic timers.
struct HoldChanged {
  StreamId id = 0;
  bool on_hold = false;
  bool operator==(const HoldChanged&) const = default;
};

// The stream ended (`status` says why): remove its flows and timers and close its sockets. Its
// ports are already back in the pool (released through the pool's release callback).
struct StreamClosed {
  StreamId id = 0;
  std::string status;
  bool operator==(const StreamClosed&) const = default;
};

using Action = std::variant<StreamOpened, PartySdpAccepted, PartyReset, HoldChanged, StreamClosed>;
using Actions = std::vector<Action>;

}  // namespace mpx::relay::session
