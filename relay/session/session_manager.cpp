// Session manager (see session_manager.hpp).
#include "relay/session/session_manager.hpp"

#include "common/protocol/module_reply.hpp"
#include "common/protocol/python_json.hpp"

#include <algorithm>
#include <string>

namespace mpx::relay::session {
namespace {

// Spec 5.2: (call_id, from_tag) first, then (call_id, to_tag): a callee-originated re-INVITE or
// BYE carries the tags swapped. A template so that the const and non-const lookups share it.
template <class SessionMap>
auto find_by_tags(SessionMap& sessions, const std::string& call_id, const std::string& from_tag,
                  const std::optional<std::string>& to_tag) {
  auto it = sessions.find(SessionKey{call_id, from_tag});
  if (it == sessions.end() && to_tag && !to_tag->empty()) {
    it = sessions.find(SessionKey{call_id, *to_tag});
  }
  return it;
}

}  // namespace

std::string_view to_string(ExpiryReason reason) {
  switch (reason) {
    case ExpiryReason::no_traffic:
      return "no-traffic timeout";
    case ExpiryReason::on_hold:
      return "on hold timeout";
    case ExpiryReason::conntrack:
      return "conntrack timeout";
  }
  return "conntrack timeout";
}

std::string UpdateOutcome::payload() const {
  switch (kind) {
    case Kind::ports:
      return protocol::format_ports(ip, ports);
    case Kind::no_session:
      return "None";
    case Kind::halting:
      return "halting";
  }
  return "None";
}

std::string RemoveOutcome::payload() const { return protocol::to_json(statistics); }

SessionManager::SessionManager(ManagerSettings settings, PortPool& pool, TrafficSource traffic)
    : settings_(std::move(settings)), pool_(pool), traffic_(std::move(traffic)) {}

SessionContext SessionManager::context() {
  return SessionContext{pool_, traffic_, next_stream_id_, {}, {}, {}};
}

SessionManager::SessionMap::iterator SessionManager::lookup(
    const std::string& call_id, const std::string& from_tag,
    const std::optional<std::string>& to_tag) {
  return find_by_tags(sessions_, call_id, from_tag, to_tag);
}

const Session* SessionManager::find_session(const std::string& call_id,
                                            const std::string& from_tag,
                                            const std::optional<std::string>& to_tag) const {
  auto it = find_by_tags(sessions_, call_id, from_tag, to_tag);
  return it == sessions_.end() ? nullptr : &it->second;
}

void SessionManager::reindex(const SessionKey& key, const SessionContext& ctx) {
  for (StreamId id : ctx.created) {
    stream_index_.emplace(id, key);
  }
  for (StreamId id : ctx.forgotten) {
    stream_index_.erase(id);
  }
  gone_bytes_ += ctx.forgotten_bytes;
}

std::vector<SessionSnapshot> SessionManager::snapshots() const {
  std::vector<SessionSnapshot> out;
  out.reserve(sessions_.size());
  for (const auto& [key, session] : sessions_) {
    out.push_back(session.snapshot());
  }
  return out;
}

Result<void> SessionManager::restore(const SessionSnapshot& snapshot) {
  if (sessions_.contains(snapshot.key)) {
    return Error{"session " + snapshot.key.first + " exists already"};
  }
  std::vector<std::uint16_t> claimed;
  const auto undo = [&] {
    for (auto it = claimed.rbegin(); it != claimed.rend(); ++it) {
      pool_.release_pair(*it);
    }
  };
  for (const Stream& stream : snapshot.streams) {
    if (stream_index_.contains(stream.id)) {
      undo();
      return Error{"stream id " + std::to_string(stream.id) + " exists already"};
    }
    if (!stream.alive || !stream.has_ports) {
      continue;
    }
    for (const std::uint16_t port : {stream.caller_local.port, stream.callee_local.port}) {
      if (auto claim = pool_.claim(port); !claim) {
        undo();
        return claim.error();
      }
      claimed.push_back(port);
    }
  }
  for (const Stream& stream : snapshot.streams) {
    stream_index_.emplace(stream.id, snapshot.key);
    next_stream_id_ = std::max(next_stream_id_, stream.id + 1);
  }
  sessions_.emplace(snapshot.key, Session(snapshot));
  return outcome::success();
}

void SessionManager::erase(SessionMap::iterator it) {
  gone_bytes_ += it->second.relayed_bytes(traffic_);
  for (const auto& [id, stream] : it->second.streams()) {
    stream_index_.erase(id);
  }
  sessions_.erase(it);
}

Result<UpdateOutcome> SessionManager::update(const protocol::RelayRequest& request,
                                             std::string_view origin, TimePoint now) {
  auto decoded = decode_update(request);
  if (!decoded) {
    return decoded.error();
  }
  return update(decoded.value(), origin, now);
}

Result<UpdateOutcome> SessionManager::update(const UpdateRequest& request,
                                             std::string_view origin, TimePoint now) {
  UpdateOutcome outcome;
  auto ctx = context();
  auto it = lookup(request.call_id, request.from_tag, request.to_tag);
  if (it != sessions_.end()) {
    auto ports = it->second.update(request, now, ctx);
    reindex(it->first, ctx);
    if (!ports) {
      return ports.error();
    }
    outcome.ip = settings_.advertised_ip.value_or(ports.value().ip);
    outcome.ports = std::move(ports.value().ports);
    outcome.actions = std::move(ctx.actions);
    return outcome;
  }

  if (request.media.empty()) {
    if (request.type == MessageType::reply) {
      outcome.kind = UpdateOutcome::Kind::no_session;
      return outcome;
    }
    return Error{"update: a request without media cannot start a session"};
  }
  if (halting_) {
    outcome.kind = UpdateOutcome::Kind::halting;
    return outcome;
  }
  auto signaling = parse_signaling_ip(request.signaling_ip);
  if (!signaling) {
    return signaling.error();
  }
  SideAddresses sides{settings_.relay_ip, settings_.relay_ip};
  if (!settings_.advertised_ip && settings_.resolve_sides) {
    sides = settings_.resolve_sides(signaling.value());
  }
  SessionKey key{request.call_id, request.from_tag};
  Session session(key, std::string{origin}, request, std::move(signaling.value()),
                  sides.caller_side, sides.callee_side);
  auto ports = session.update(request, now, ctx);
  if (!ports) {
    return ports.error();
  }
  auto [inserted, ok] = sessions_.emplace(key, std::move(session));
  reindex(inserted->first, ctx);
  outcome.ip = settings_.advertised_ip.value_or(ports.value().ip);
  outcome.ports = std::move(ports.value().ports);
  outcome.actions = std::move(ctx.actions);
  return outcome;
}

Result<RemoveOutcome> SessionManager::remove(const protocol::RelayRequest& request,
                                             TimePoint now) {
  auto decoded = decode_remove(request);
  if (!decoded) {
    return decoded.error();
  }
  return remove(decoded.value(), now);
}

Result<RemoveOutcome> SessionManager::remove(const RemoveRequest& request, TimePoint now) {
  auto it = lookup(request.call_id, request.from_tag, request.to_tag);
  if (it == sessions_.end()) {
    return Error{"remove: no session for call_id \"" + request.call_id + "\""};
  }
  auto ctx = context();
  it->second.close(kClosed, now, ctx);
  RemoveOutcome outcome;
  outcome.statistics = it->second.statistics(now, traffic_);
  outcome.actions = std::move(ctx.actions);
  erase(it);
  return outcome;
}

ExpiryOutcome SessionManager::rtp_expired(StreamId id, ExpiryReason reason,
                                          std::int64_t timeout_wait, TimePoint now) {
  ExpiryOutcome outcome;
  auto indexed = stream_index_.find(id);
  if (indexed == stream_index_.end()) {
    return outcome;
  }
  auto it = sessions_.find(indexed->second);
  if (it == sessions_.end()) {
    return outcome;
  }
  auto ctx = context();
  const bool session_over = it->second.rtp_expired(id, to_string(reason), timeout_wait, now, ctx);
  outcome.actions = std::move(ctx.actions);
  if (session_over) {
    outcome.expired = ExpiredSession{it->second.origin(), it->second.statistics(now, traffic_)};
    erase(it);
  }
  return outcome;
}

void SessionManager::media_seen(StreamId id, Party party,
                                std::optional<std::uint8_t> rtp_payload_type, TimePoint now) {
  auto indexed = stream_index_.find(id);
  if (indexed == stream_index_.end()) {
    return;
  }
  auto it = sessions_.find(indexed->second);
  if (it != sessions_.end()) {
    it->second.media_seen(id, party, rtp_payload_type, now);
  }
}

ShutdownOutcome SessionManager::expire_all(TimePoint now) {
  ShutdownOutcome outcome;
  auto ctx = context();
  for (auto& [key, session] : sessions_) {
    session.close(kClosed, now, ctx);
    outcome.expired.push_back(ExpiredSession{session.origin(), session.statistics(now, traffic_)});
    gone_bytes_ += session.relayed_bytes(traffic_);
  }
  outcome.actions = std::move(ctx.actions);
  sessions_.clear();
  stream_index_.clear();
  return outcome;
}

std::vector<protocol::SessionStatistics> SessionManager::sessions(TimePoint now) const {
  std::vector<protocol::SessionStatistics> all;
  all.reserve(sessions_.size());
  for (const auto& [key, session] : sessions_) {
    all.push_back(session.statistics(now, traffic_));
  }
  return all;
}

SessionCounts SessionManager::counts() const {
  SessionCounts counts;
  counts.session_count = sessions_.size();
  for (const auto& [key, session] : sessions_) {
    for (const auto& [id, stream] : session.streams()) {
      if (stream.alive) {
        ++counts.stream_count[stream.media_type];
        ++counts.load;
      }
    }
  }
  return counts;
}

protocol::RelaySummary SessionManager::summary(protocol::RelaySummary base) const {
  auto c = counts();
  base.session_count = c.session_count;
  base.stream_count = std::move(c.stream_count);
  return base;
}

bool SessionManager::has_session_from(std::string_view origin) const {
  for (const auto& [key, session] : sessions_) {
    if (session.origin() == origin) {
      return true;
    }
  }
  return false;
}

std::string SessionManager::summary_json(const protocol::RelaySummary& base) const {
  auto json = protocol::to_ordered_json(summary(base));
  json["load"] = counts().load;
  return protocol::python_json_dump(json);
}

std::uint64_t SessionManager::relayed_bytes() const {
  std::uint64_t total = gone_bytes_;
  for (const auto& [key, session] : sessions_) {
    total += session.relayed_bytes(traffic_);
  }
  return total;
}

const Session* SessionManager::session_of_stream(StreamId id) const {
  auto indexed = stream_index_.find(id);
  if (indexed == stream_index_.end()) {
    return nullptr;
  }
  auto it = sessions_.find(indexed->second);
  return it == sessions_.end() ? nullptr : &it->second;
}

const Stream* SessionManager::find_stream(StreamId id) const {
  const Session* session = session_of_stream(id);
  return session == nullptr ? nullptr : session->find_stream(id);
}

}  // namespace mpx::relay::session
