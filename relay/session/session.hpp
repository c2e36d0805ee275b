// One relay session (compat spec 5.2, 5.9, 5.10, 3.4): the CSeq pair bookkeeping, the streams of
// the current and previous offer, offer/answer processing, reply ports, expiry bookkeeping and
// the statistics record. Owned and driven by SessionManager; no IO, no clock reads.
#pragma once

#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "relay/session/port_pool.hpp"
#include "relay/session/signaling_ip.hpp"
#include "relay/session/stream.hpp"
#include "relay/session/types.hpp"
#include "relay/session/update_request.hpp"

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mpx::relay::session {

// Datapath totals of an alive stream, answered by the IO layer (spec 3.4 counters, latched
// remote addresses). Called when a stream ends and when statistics are produced.
using TrafficSource = std::function<StreamTraffic(StreamId)>;

// (caller CSeq, callee CSeq): each party's CSeq space, compared lexicographically (spec 5.2).
struct CseqPair {
  std::uint64_t caller = 0;
  std::uint64_t callee = 0;
  auto operator<=>(const CseqPair&) const = default;
};

struct Offer {
  CseqPair cseq;
  std::vector<StreamId> streams;  // in m-line order
};

// What a call into a Session needs from the manager, and what it leaves for it.
struct SessionContext {
  PortPool& pool;
  const TrafficSource& traffic;
  StreamId& next_stream_id;
  Actions actions;                     // for the IO layer, in order
  std::vector<StreamId> created;       // stream ids the manager must index
  std::vector<StreamId> forgotten;     // stream ids no longer held by the session
  std::uint64_t forgotten_bytes = 0;   // their final byte totals (for traffic sampling)
};

struct ReplyPorts {
  boost::asio::ip::address_v4 ip;  // bind IP of the first stream's relevant side
  std::vector<std::uint16_t> ports;
};

// Everything a Session holds, for a restarted relay to rebuild it (relay/recovery persists it).
struct SessionSnapshot {
  SessionKey key;
  std::string origin;
  std::string from_uri;
  std::string to_uri;
  std::optional<std::string> to_tag;
  std::optional<std::string> caller_ua;
  std::optional<std::string> callee_ua;
  SignalingAddresses signaling;
  std::optional<boost::asio::ip::address_v4> caller_signaling_ip;
  std::optional<boost::asio::ip::address_v4> callee_signaling_ip;
  boost::asio::ip::address_v4 caller_side_ip;
  boost::asio::ip::address_v4 callee_side_ip;
  std::optional<TimePoint> start_time;
  std::optional<TimePoint> end_time;
  std::optional<Offer> current;
  std::optional<Offer> previous;
  std::vector<Stream> streams;
};

class Session {
 public:
  Session(SessionKey key, std::string origin, const UpdateRequest& creating,
          SignalingAddresses signaling, boost::asio::ip::address_v4 caller_side_ip,
          boost::asio::ip::address_v4 callee_side_ip);

  // A session rebuilt from its snapshot (the streams keep their ids).
  explicit Session(const SessionSnapshot& snapshot);
  SessionSnapshot snapshot() const;

  // One update (spec 5.2, 5.9). On error nothing changed. Returns the ports of the offer the
  // message belongs to (spec 5.9 "reply ports"), or an error when no retained offer matches its
  // CSeq (MediaProxy would answer None there, OpenSIPS issue #242).
  Result<ReplyPorts> update(const UpdateRequest& update, TimePoint now, SessionContext& ctx);

  // The RTP sub-stream of `id` expired (spec 5.7). Returns true when no stream of the current
  // and previous offer is alive any more: the session has expired.
  bool rtp_expired(StreamId id, std::string_view reason, std::int64_t timeout_wait,
                   TimePoint now, SessionContext& ctx);

  // First non-STUN packet from `party` (rtp: on its RTP socket, with that packet's payload type).
  void media_seen(StreamId id, Party party, std::optional<std::uint8_t> rtp_payload_type,
                  TimePoint now);

  // Ends every alive stream with `status` (remove, shutdown) and stamps the session's end time.
  void close(std::string_view status, TimePoint now, SessionContext& ctx);

  protocol::SessionStatistics statistics(TimePoint now, const TrafficSource& traffic) const;

  const SessionKey& key() const { return key_; }
  const std::string& origin() const { return origin_; }
  const std::map<StreamId, Stream>& streams() const { return streams_; }
  const Stream* find_stream(StreamId id) const;
  const std::optional<Offer>& current_offer() const { return current_; }
  const std::optional<Offer>& previous_offer() const { return previous_; }
  const std::optional<std::string>& to_tag() const { return to_tag_; }
  const SignalingAddresses& signaling() const { return signaling_; }
  // Where `party`'s signaling came from: the signaling_ip of the first update whose SDP was
  // theirs (a hint for latching; nullopt if none parsed). Not a security boundary.
  std::optional<boost::asio::ip::address_v4> signaling_ip(Party party) const {
    return party == Party::caller ? caller_signaling_ip_ : callee_signaling_ip_;
  }
  std::optional<TimePoint> start_time() const { return start_time_; }
  bool any_stream_alive() const;
  // Bytes relayed by the streams the session holds (datapath totals for alive ones).
  std::uint64_t relayed_bytes(const TrafficSource& traffic) const;

 private:
  Result<void> new_offer(Party party, CseqPair cseq, const UpdateRequest& update, TimePoint now,
                         SessionContext& ctx);
  Result<void> answer(Party party, const UpdateRequest& update, TimePoint now,
                      SessionContext& ctx);
  Result<ReplyPorts> reply_ports(bool is_downstream, std::uint64_t cseq,
                                 bool is_caller_cseq) const;
  void end_stream(Stream& stream, std::string_view status, TimePoint now, SessionContext& ctx);
  // Drops streams that neither the current nor the previous offer holds any more.
  void forget_unreferenced(SessionContext& ctx);

  SessionKey key_;
  std::string origin_;
  std::string from_uri_;
  std::string to_uri_;
  std::optional<std::string> to_tag_;
  std::optional<std::string> caller_ua_;
  std::optional<std::string> callee_ua_;
  SignalingAddresses signaling_;
  std::optional<boost::asio::ip::address_v4> caller_signaling_ip_;
  std::optional<boost::asio::ip::address_v4> callee_signaling_ip_;
  boost::asio::ip::address_v4 caller_side_ip_;
  boost::asio::ip::address_v4 callee_side_ip_;
  std::optional<TimePoint> start_time_;
  std::optional<TimePoint> end_time_;
  std::optional<Offer> current_;   // the last offer (its CSeq pair is the session's pair)
  std::optional<Offer> previous_;  // the one before, until the current one is answered
  std::map<StreamId, Stream> streams_;
};

}  // namespace mpx::relay::session
