// The relay's sessions (compat spec 3.3-3.5, 5.2-5.10): the entry points the relay's IO layer
// calls for `update`, `remove`, `sessions`, `summary`, datapath events (first media, RTP
// expiry) and shutdown. Pure logic: time comes in as a parameter, ports from the PortPool
// (whose bind callback is the only contact with sockets), datapath totals from a TrafficSource;
// every call returns the Actions the IO layer must carry out, in order.
#pragma once

#include "common/protocol/relay_request.hpp"
#include "common/protocol/relay_summary.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/session.hpp"
#include "relay/session/signaling_ip.hpp"
#include "relay/session/types.hpp"
#include "relay/session/update_request.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpx::relay::session {

// Bind IPs of a session's two sides (spec 5.4).
struct SideAddresses {
  boost::asio::ip::address_v4 caller_side;
  boost::asio::ip::address_v4 callee_side;
};

struct ManagerSettings {
  boost::asio::ip::address_v4 relay_ip;  // bind IP of every socket unless resolve_sides says else
  std::optional<boost::asio::ip::address_v4> advertised_ip;  // if set: the IP of every reply
  // auto_detect_interfaces: the IO layer's "which local IP reaches this address" lookup, given
  // the creating update's signaling addresses. Empty (or advertised_ip set): relay_ip both sides.
  std::function<SideAddresses(const SignalingAddresses&)> resolve_sides;
};

// The `update` reply. kind == ports: "<ip> <port> ..." (spec 2.5); no_session: a reply without
// SDP for an unknown session, MediaProxy's "None", which the IO layer must answer as `error`
// (OpenSIPS issue #242); halting: a new session refused while draining (spec 5.13).
struct UpdateOutcome {
  enum class Kind { ports, no_session, halting };
  Kind kind = Kind::ports;
  boost::asio::ip::address_v4 ip;
  std::vector<std::uint16_t> ports;
  Actions actions;
  std::string payload() const;  // "<ip> <p1> ...", "None" or "halting"
};

struct RemoveOutcome {
  protocol::SessionStatistics statistics;
  Actions actions;
  std::string payload() const;  // the statistics JSON (spec 3.4)
};

// A session that ended on its own: send `expired <json>` to `origin` (the dispatcher that
// created it, as given to update()).
struct ExpiredSession {
  std::string origin;
  protocol::SessionStatistics statistics;
};

struct ExpiryOutcome {
  Actions actions;
  std::optional<ExpiredSession> expired;
};

struct ShutdownOutcome {
  Actions actions;
  std::vector<ExpiredSession> expired;
};

enum class ExpiryReason { no_traffic, on_hold, conntrack };
std::string_view to_string(ExpiryReason reason);  // the statistics status (spec 3.4)

struct SessionCounts {
  std::uint64_t session_count = 0;
  std::map<std::string, std::uint64_t> stream_count;  // alive streams per media type
  std::uint64_t load = 0;                             // alive streams in all
};

class SessionManager {
 public:
  SessionManager(ManagerSettings settings, PortPool& pool, TrafficSource traffic);

  // `update` (spec 3.3). origin: the dispatcher link the request came on (kept for `expired`).
  // Errors: bad or missing headers, a bad signaling_ip on a new session, ports exhausted, media
  // type mismatch in an answer, no offer matching the CSeq. On error nothing changed.
  Result<UpdateOutcome> update(const protocol::RelayRequest& request, std::string_view origin,
                               TimePoint now);
  Result<UpdateOutcome> update(const UpdateRequest& request, std::string_view origin,
                               TimePoint now);

  // `remove` (spec 5.10): closes every stream, returns the statistics; error if no such session.
  Result<RemoveOutcome> remove(const protocol::RelayRequest& request, TimePoint now);
  Result<RemoveOutcome> remove(const RemoveRequest& request, TimePoint now);

  // The RTP sub-stream of a stream expired (spec 5.7; RTCP expiry is the IO layer's business:
  // it only forgets the RTCP addresses). Unknown or dead streams are ignored.
  ExpiryOutcome rtp_expired(StreamId id, ExpiryReason reason, std::int64_t timeout_wait,
                            TimePoint now);

  // First non-STUN packet of a sub-party (spec 5.5, 5.11): sets the post-dial delay reference
  // and, for RTP (payload type given), the party's codec. Unknown streams are ignored.
  void media_seen(StreamId id, Party party, std::optional<std::uint8_t> rtp_payload_type,
                  TimePoint now);

  // SIGINT/SIGTERM (spec 5.13): every session ends, streams `closed`, statistics to report.
  ShutdownOutcome expire_all(TimePoint now);

  // `sessions` (spec 3.3): statistics of every session, in key order.
  std::vector<protocol::SessionStatistics> sessions(TimePoint now) const;
  SessionCounts counts() const;
  // The `summary` record: `base` carries ip/version/status/uptime/bps; session_count and
  // stream_count are filled in here. summary_json adds the mpx key "load" at the end.
  protocol::RelaySummary summary(protocol::RelaySummary base) const;
  std::string summary_json(const protocol::RelaySummary& base) const;

  // Every byte relayed so far, for TrafficSampler: streams held now (datapath totals) plus those
  // of streams and sessions already gone.
  std::uint64_t relayed_bytes() const;

  // Every session as it is now, for the relay's state file (relay/recovery).
  std::vector<SessionSnapshot> snapshots() const;
  // A restarted relay re-creating a session from its snapshot: claims the ports of its alive
  // streams from the pool (binding them) and indexes its streams. Error (nothing changed) when
  // the session exists already or a port pair cannot be claimed.
  Result<void> restore(const SessionSnapshot& snapshot);

  void set_halting(bool halting) { halting_ = halting; }
  bool halting() const { return halting_; }
  std::size_t session_count() const { return sessions_.size(); }
  // Whether a session created through `origin` (as given to update()) still exists.
  bool has_session_from(std::string_view origin) const;
  const Session* find_session(const std::string& call_id, const std::string& from_tag,
                              const std::optional<std::string>& to_tag) const;
  const Session* session_of_stream(StreamId id) const;
  const Stream* find_stream(StreamId id) const;

 private:
  using SessionMap = std::map<SessionKey, Session>;
  SessionMap::iterator lookup(const std::string& call_id, const std::string& from_tag,
                              const std::optional<std::string>& to_tag);
  SessionContext context();
  void reindex(const SessionKey& key, const SessionContext& ctx);
  void erase(SessionMap::iterator it);

  ManagerSettings settings_;
  PortPool& pool_;
  TrafficSource traffic_;
  StreamId next_stream_id_ = 0;
  std::uint64_t gone_bytes_ = 0;
  bool halting_ = false;
  SessionMap sessions_;
  std::unordered_map<StreamId, SessionKey> stream_index_;
};

}  // namespace mpx::relay::session
