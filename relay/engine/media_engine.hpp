// MediaEngine: the relay's media IO for every stream the session logic opened. It owns, per
// stream, the four sub-parties (caller/callee x RTP/RTCP: one relay socket each), their latches
// (relay/media/latch.hpp: the latching policy; this file feeds it), the userspace forwarding of
// packets that arrive before a flow is handed to the datapath, the hand-off itself (one Datapath
// flow per sub-stream once both sides are locked and have sent media), the datapath counters,
// and the stream timers (compat spec 5.7).
//
// What it does with the session logic's Actions:
//   StreamOpened      sockets on the stream's four local endpoints, no-traffic timers armed; the
//                     offerer's latches expect its SDP address, the answerer's start learning
//                     (the answerer can send as soon as the offer is answered; the offerer only
//                     once the answer is);
//   PartySdpAccepted  that party's latches learn anew toward its SDP address, and the other
//                     party (the offerer) starts learning;
//   PartyReset        that party's flows leave the datapath (their counters kept), latches
//                     relearn, its no-traffic timer re-armed; the other party starts learning;
//   HoldChanged       on-hold timer instead of the no-traffic timers, and back;
//   StreamClosed      flows removed, state dropped (the port pool's release hook closed the sockets).
//
// Latching is one policy for every datapath: the latches decide, the datapath only ever receives
// the decided locks (an installed flow always equals the two RTP or RTCP locks; a lock that moves
// takes its flow out, and the hand-off installs the new one). Each party's RTCP latch follows its
// RTP latch's IP. Whether the relay can send to a signalled address (RoutableFilter) tells the
// latch whether the party is behind a NAT. While a flow is in the kernel the sockets do not see
// the locked source; its counters tell the latch that the source still sends (NAT rebinding).
//
// Timers: one sweep every poll_interval reads the counters of every installed flow (conntrack's
// lease needs it) and decides expiry; a stream's RTP sub-stream expires with `no-traffic timeout`
// when a party sent no media for stream_timeout since it was armed, or when nothing at all flowed
// for stream_timeout; with `on hold timeout` on_hold_timeout after it went on hold, whatever flows
// (MediaProxy's rule). An idle RTCP sub-stream only forgets its addresses. Expiry is reported
// through EngineEvents after the sweep, never from inside it. A second timer closes latch windows.
//
// Single-threaded: everything runs on the executor's thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

#include "relay/engine/routable.hpp"
#include "relay/media/latch.hpp"
#include "relay/media/packet_class.hpp"
#include "relay/session/session_manager.hpp"
#include "relay/session/types.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/media_sockets.hpp"

namespace mpx::relay::engine {

using session::Party;
using session::StreamId;
using SteadyClock = std::chrono::steady_clock;

struct EngineSettings {
  boost::asio::ip::address_v4 bind_ip;  // where the port pool's pairs are bound (relay_ip)
  // require_rtp (audio/video) and follows_rtp (RTCP sockets) are decided per latch
  media::LatchSettings latch;
  std::chrono::seconds stream_timeout{90};
  std::chrono::seconds on_hold_timeout{7200};
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds latch_tick{100};
  std::chrono::seconds install_retry{5};  // after a failed hand-off
  std::vector<boost::asio::ip::network_v4> routable_private_ranges;
};

// Calls into the session layer. Never made from inside a sweep or a packet batch loop over
// engine state that the callee could change.
struct EngineEvents {
  // First media (non-STUN) packet of a sub-party since it was armed; payload type for RTP.
  std::function<void(StreamId, Party, std::optional<std::uint8_t>)> media_seen;
  // The stream's RTP sub-stream expired (spec 5.7).
  std::function<void(StreamId, session::ExpiryReason, std::int64_t timeout_wait)> rtp_expired;
  // A flow was handed to the datapath or left it (what a restarted relay would re-adopt changed).
  std::function<void()> flows_changed;
};

// What a restarted relay needs to take over a sub-stream's media IO (relay/recovery persists it):
// the flow the datapath holds, the counters that are not in that flow (packets the sockets
// accepted before the hand-off, flows removed earlier) and the latched remotes.
struct SubStreamRecovery {
  std::optional<datapath::Flow> installed;
  datapath::FlowCounters gone{};  // last_activity is not kept
  std::uint64_t caller_packets = 0;
  std::uint64_t caller_bytes = 0;
  std::uint64_t callee_packets = 0;
  std::uint64_t callee_bytes = 0;
  std::optional<session::Endpoint> caller_locked;
  std::optional<session::Endpoint> callee_locked;
  bool operator==(const SubStreamRecovery& other) const;
};
struct StreamRecovery {
  StreamId id = 0;
  SubStreamRecovery rtp;
  SubStreamRecovery rtcp;
  bool operator==(const StreamRecovery&) const = default;
};

// Where a party's signaling came from (latching's second preference).
struct SignalingHints {
  std::optional<boost::asio::ip::address_v4> caller;
  std::optional<boost::asio::ip::address_v4> callee;
  const std::optional<boost::asio::ip::address_v4>& of(Party party) const {
    return party == Party::caller ? caller : callee;
  }
};

class MediaEngine {
 public:
  // Counters for the summary and the logs: what happened to packets the sockets saw.
  struct Stats {
    std::uint64_t relayed_packets = 0;    // forwarded by the engine before hand-off
    std::uint64_t no_destination = 0;     // accepted, but the other side is not known yet
    std::uint64_t learning = 0;           // held back during a learning window
    std::uint64_t strangers = 0;          // from someone other than the locked source
    std::uint64_t invalid = 0;            // not acceptable as a source (e.g. STUN, not RTP)
    std::uint64_t unknown_port = 0;       // on a socket no stream owns (late packets)
    std::uint64_t latches = 0;            // every change of a lock (the next two included)
    std::uint64_t takeovers = 0;          // a better candidate took a provisional lock over
    std::uint64_t rebindings = 0;         // a lock moved to another port of its IP
    std::uint64_t handoffs = 0;
    std::uint64_t handoff_errors = 0;
    std::uint64_t flows_lost = 0;         // the datapath lost a flow (e.g. lapsed lease)
  };

  MediaEngine(boost::asio::any_io_executor executor, EngineSettings settings,
              datapath::MediaSockets& sockets, datapath::Datapath& datapath, EngineEvents events);
  ~MediaEngine();
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  void start();  // arms the timers
  void stop();   // cancels them; flows stay until close_all()
  // Removes every flow and forgets every stream (shutdown after the sessions were expired).
  void close_all();

  // PortPool hooks: bind both sockets of a pair on bind_ip / close them.
  bool bind_pair(std::uint16_t rtp_port);
  void release_pair(std::uint16_t rtp_port);

  // The session logic's actions, in order.
  void apply(const session::Action& action, const SignalingHints& hints);

  // The media IO state of a stream, for the relay's state file; nullopt for an unknown stream.
  std::optional<StreamRecovery> recovery_state(StreamId id) const;
  // A restarted relay taking over an alive stream of a restored session: sockets on its four
  // local endpoints (the port pool's claim bound them), latches locked to the persisted remotes,
  // the persisted flows taken as installed (the caller made sure the datapath holds them, e.g.
  // BpfDatapath::claim_adopted), counters continued, timers re-armed from now.
  void restore_stream(const session::Stream& stream, const StreamRecovery& state,
                      const SignalingHints& hints);

  // The sockets' receiver: packets no installed flow claimed.
  void on_packet(const datapath::MediaSockets::Packet& packet);

  // Datapath totals of a stream (counters of removed flows included), for statistics.
  session::StreamTraffic traffic(StreamId id);

  const Stats& stats() const { return stats_; }
  std::size_t stream_count() const { return streams_.size(); }
  std::size_t installed_flows() const;

 private:
  struct SubParty {
    explicit SubParty(const media::LatchSettings& s) : latch(s) {}
    media::Latch latch;
    datapath::Endpoint local;
    bool seen = false;  // media since armed
    SteadyClock::time_point last_packet{};
    std::uint64_t packets = 0;  // accepted in userspace (before hand-off)
    std::uint64_t bytes = 0;
  };
  struct SubStream {
    SubStream(bool is_rtcp, const media::LatchSettings& s)
        : rtcp(is_rtcp), caller(with_follow(s, is_rtcp)), callee(with_follow(s, is_rtcp)) {}
    static media::LatchSettings with_follow(media::LatchSettings s, bool is_rtcp) {
      s.follows_rtp = is_rtcp;
      return s;
    }
    bool rtcp;
    SubParty caller;
    SubParty callee;
    std::optional<datapath::Flow> installed;
    datapath::FlowCounters live{};  // of the installed flow, last read
    datapath::FlowCounters gone{};  // sum over flows already removed
    SteadyClock::time_point retry_after{};
    SubParty& party(Party p) { return p == Party::caller ? caller : callee; }
  };
  struct StreamState {
    StreamState(StreamId stream_id, const media::LatchSettings& s)
        : id(stream_id), rtp(false, s), rtcp(true, s) {}
    StreamId id;
    SubStream rtp;
    SubStream rtcp;
    std::optional<session::Endpoint> sdp[2];  // caller, callee
    SteadyClock::time_point armed[2]{};       // no-traffic timer start per party
    bool on_hold = false;
    SteadyClock::time_point hold_since{};
    SubStream& sub(bool is_rtcp) { return is_rtcp ? rtcp : rtp; }
  };
  struct Slot {
    StreamId id;
    bool rtcp;
    Party party;
  };
  struct Expiry {
    StreamId id;
    session::ExpiryReason reason;
    std::int64_t timeout_wait;
  };

  void open_stream(const session::StreamOpened& opened, const SignalingHints& hints);
  // What the latches of `party` (RTCP: port + 1) expect, with reachability.
  media::Expectation expectation(const std::optional<session::Endpoint>& sdp,
                                 std::uint16_t port_offset,
                                 const std::optional<boost::asio::ip::address_v4>& signaling) const;
  void expect(StreamState& stream, Party party, const std::optional<session::Endpoint>& sdp,
              const std::optional<boost::asio::ip::address_v4>& signaling);
  // `party` can send to the relay from now: its latches start learning.
  void open_party(StreamState& stream, Party party);
  // A latch decided something: log it, count it, let RTCP follow RTP, keep flows == locks.
  void latch_changed(StreamState& stream, bool rtcp, Party party, media::LatchChange change);
  // The party's RTCP latch follows its RTP latch's IP.
  void follow_rtp(StreamState& stream, Party party);
  // An installed flow that no longer equals the two locks leaves the datapath.
  void reconcile(SubStream& sub);
  void reset_party(StreamState& stream, Party party);
  void close_stream(StreamId id);
  void ensure_socket(const datapath::Endpoint& local);
  void forward(StreamState& stream, SubStream& sub, Party from,
               const datapath::MediaSockets::Packet& packet);
  void try_handoff(SubStream& sub, SteadyClock::time_point now);
  void uninstall(SubStream& sub);
  // Reads an installed flow's counters; a direction that moved tells its latch the locked
  // source still sends.
  void poll(SubStream& sub, SteadyClock::time_point now = SteadyClock::now());
  std::optional<Expiry> check_timers(StreamState& stream, SteadyClock::time_point now);
  void sweep();
  void latch_tick();
  void arm_sweep();
  void arm_latch_tick();

  boost::asio::any_io_executor executor_;
  EngineSettings settings_;
  datapath::MediaSockets& sockets_;
  datapath::Datapath& datapath_;
  EngineEvents events_;
  RoutableFilter routable_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer latch_timer_;
  std::shared_ptr<bool> alive_;
  std::map<StreamId, std::unique_ptr<StreamState>> streams_;
  std::unordered_map<std::uint64_t, Slot> slots_;  // local endpoint -> sub-party
  std::unordered_map<std::uint16_t, boost::asio::ip::address_v4> bound_;  // RTP port -> IP
  std::set<StreamId> learning_;  // streams with an open latch window
  Stats stats_;
};

}  // namespace mpx::relay::engine
