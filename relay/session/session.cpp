// Offer/answer, CSeq and statistics rules of a relay session (see session.hpp). The rules follow
// MediaProxy's mediacontrol.Session.update_media/get_local_media/statistics; where mpx differs
// on purpose the comment says so.
#include "relay/session/session.hpp"

#include "relay/session/codec.hpp"

#include <algorithm>
#include <chrono>

namespace mpx::relay::session {
namespace {

using boost::asio::ip::address_v4;

bool contains(const std::vector<StreamId>& ids, StreamId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::int64_t whole_seconds(TimePoint::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

double seconds(TimePoint::duration d) { return std::chrono::duration<double>(d).count(); }

// Spec 5.9: an offered (ip, port) continues a stream whose offering party previously signalled
// (ip, port), or puts it on hold (0.0.0.0, port), or closes it (ip, 0).
bool continues(const protocol::MediaStream& m, const Endpoint& previous) {
  return (m.ip == previous.ip && m.port == previous.port) ||
         (m.ip.is_unspecified() && m.port == previous.port) ||
         (m.ip == previous.ip && m.port == 0);
}

}  // namespace

Session::Session(SessionKey key, std::string origin, const UpdateRequest& creating,
                 SignalingAddresses signaling, address_v4 caller_side_ip,
                 address_v4 callee_side_ip)
    : key_(std::move(key)),
      origin_(std::move(origin)),
      from_uri_(creating.from_uri),
      to_uri_(creating.to_uri),
      signaling_(std::move(signaling)),
      caller_side_ip_(caller_side_ip),
      callee_side_ip_(callee_side_ip) {}

Session::Session(const SessionSnapshot& snapshot)
    : key_(snapshot.key),
      origin_(snapshot.origin),
      from_uri_(snapshot.from_uri),
      to_uri_(snapshot.to_uri),
      to_tag_(snapshot.to_tag),
      caller_ua_(snapshot.caller_ua),
      callee_ua_(snapshot.callee_ua),
      signaling_(snapshot.signaling),
      caller_signaling_ip_(snapshot.caller_signaling_ip),
      callee_signaling_ip_(snapshot.callee_signaling_ip),
      caller_side_ip_(snapshot.caller_side_ip),
      callee_side_ip_(snapshot.callee_side_ip),
      start_time_(snapshot.start_time),
      end_time_(snapshot.end_time),
      current_(snapshot.current),
      previous_(snapshot.previous) {
  for (const Stream& stream : snapshot.streams) {
    streams_.emplace(stream.id, stream);
  }
}

SessionSnapshot Session::snapshot() const {
  SessionSnapshot out{key_,         origin_,     from_uri_,           to_uri_,
                      to_tag_,      caller_ua_,  callee_ua_,          signaling_,
                      caller_signaling_ip_, callee_signaling_ip_, caller_side_ip_,
                      callee_side_ip_, start_time_, end_time_, current_, previous_, {}};
  out.streams.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) {
    out.streams.push_back(stream);
  }
  return out;
}

Result<ReplyPorts> Session::update(const UpdateRequest& update, TimePoint now,
                                   SessionContext& ctx) {
  // Spec 5.2: the SDP travels caller -> callee (downstream) when the caller sends a request or
  // the callee (tags swapped) sends a reply; the CSeq belongs to whoever sent the request.
  const bool is_caller_cseq = update.from_tag == key_.second;
  const bool is_downstream = (!is_caller_cseq) != (update.type == MessageType::request);
  const Party party = is_downstream ? Party::caller : Party::callee;
  const CseqPair last = current_ ? current_->cseq : CseqPair{};
  const CseqPair cseq = is_caller_cseq ? CseqPair{update.cseq, last.callee}
                                       : CseqPair{last.caller, update.cseq};

  if (!current_ || cseq > current_->cseq) {
    // A new offer without media changes nothing, and its pair is not stored either.
    if (!update.media.empty()) {
      if (auto r = new_offer(party, cseq, update, now, ctx); !r) {
        return r.error();
      }
    }
  } else if (cseq == current_->cseq) {
    if (auto r = answer(party, update, now, ctx); !r) {
      return r.error();
    }
  }
  // else: an old CSeq (a retransmission or a late reply): ignored, its offer's ports answered.
  auto ports = reply_ports(is_downstream, update.cseq, is_caller_cseq);
  if (!ports) {
    return ports.error();
  }

  if (is_caller_cseq && !to_tag_ && update.to_tag) {
    to_tag_ = update.to_tag;
  }
  auto& user_agent = party == Party::caller ? caller_ua_ : callee_ua_;
  if (!user_agent) {
    user_agent = update.user_agent;
  }
  auto& signaling_ip = party == Party::caller ? caller_signaling_ip_ : callee_signaling_ip_;
  if (!signaling_ip) {
    // Only a hint: a value that does not parse is ignored after the creating update.
    if (auto parsed = parse_signaling_ip(update.signaling_ip); parsed) {
      signaling_ip = parsed.value().signaling_ip;
    }
  }
  return ports;
}

Result<void> Session::new_offer(Party party, CseqPair cseq, const UpdateRequest& update,
                                TimePoint now, SessionContext& ctx) {
  // Plan first, so that a failed port allocation leaves the session untouched.
  static constexpr StreamId kNew = 0;  // ids start at 1
  std::vector<StreamId> plan;
  std::size_t pairs_needed = 0;
  for (const auto& m : update.media) {
    StreamId match = kNew;
    if (current_) {
      for (StreamId id : current_->streams) {
        const Stream& s = streams_.at(id);
        const auto& previous = s.party(party).sdp;
        // mpx: a stream continues at most one m-line (MediaProxy could hand one stream to two).
        if (s.alive && s.media_type == m.type && previous && continues(m, *previous) &&
            !contains(plan, id)) {
          match = id;
          break;
        }
      }
    }
    if (match == kNew && m.port != 0) {
      ++pairs_needed;
    }
    plan.push_back(match);
  }
  std::vector<std::pair<std::uint16_t, std::uint16_t>> ports;
  for (std::size_t i = 0; i < pairs_needed; ++i) {
    auto allocated = ctx.pool.allocate_stream();
    if (!allocated) {
      for (auto it = ports.rbegin(); it != ports.rend(); ++it) {
        ctx.pool.unallocate(it->second);
        ctx.pool.unallocate(it->first);
      }
      return allocated.error();
    }
    ports.push_back(allocated.value());
  }

  std::vector<StreamId> offered;
  auto next_ports = ports.begin();
  for (std::size_t i = 0; i < update.media.size(); ++i) {
    const auto& m = update.media[i];
    if (plan[i] != kNew) {
      Stream& s = streams_.at(plan[i]);
      if (auto hold = s.check_hold(party, m.direction, m.ip)) {
        ctx.actions.emplace_back(*hold);
      }
      s.party(party).ice = m.ice();
      if (m.port == 0) {
        end_stream(s, kClosed, now, ctx);
      }
      offered.push_back(s.id);
      continue;
    }
    // mpx: a stream offered with port 0 gets no ports (MediaProxy bound four and closed them at
    // once): nothing to bind, and a full pool cannot fail an offer over a stream that is closed.
    Stream s;
    s.id = ++ctx.next_stream_id;
    s.media_type = m.type;
    s.create_time = now;
    s.caller_local.ip = caller_side_ip_;
    s.callee_local.ip = callee_side_ip_;
    s.party(party).sdp = Endpoint{m.ip, m.port};
    s.party(party).ice = m.ice();
    std::optional<HoldChanged> hold = s.check_hold(party, m.direction, m.ip);
    if (m.port == 0) {
      s.alive = false;
      s.status = kClosed;
      s.end_time = now;
    } else {
      s.has_ports = true;
      s.caller_local.port = next_ports->first;
      s.callee_local.port = next_ports->second;
      ++next_ports;
      ctx.actions.emplace_back(StreamOpened{s.id, key_, s.media_type, s.caller_local,
                                            s.callee_local, party, Endpoint{m.ip, m.port}});
      if (hold) {
        ctx.actions.emplace_back(*hold);
      }
    }
    ctx.created.push_back(s.id);
    offered.push_back(s.id);
    streams_.emplace(s.id, std::move(s));
  }

  // Streams of two offers ago that the new offer does not reuse end here.
  if (previous_) {
    for (StreamId id : previous_->streams) {
      if (!contains(current_->streams, id) && !contains(offered, id)) {
        end_stream(streams_.at(id), kClosed, now, ctx);
      }
    }
  }
  previous_ = std::move(current_);
  current_ = Offer{cseq, std::move(offered)};
  forget_unreferenced(ctx);
  return outcome::success();
}

Result<void> Session::answer(Party party, const UpdateRequest& update, TimePoint now,
                             SessionContext& ctx) {
  const auto& offered = current_->streams;
  const std::size_t paired = std::min(offered.size(), update.media.size());
  for (std::size_t i = 0; i < paired; ++i) {
    const Stream& s = streams_.at(offered[i]);
    if (s.media_type != update.media[i].type) {
      return Error{"media types do not match: stream " + std::to_string(i + 1) + " was offered as " +
                   s.media_type + " and answered as " + update.media[i].type};
    }
  }

  if (!start_time_) {
    start_time_ = now;
  }
  for (StreamId id : offered) {
    Stream& s = streams_.at(id);
    if (!s.start_time) {
      s.start_time = now;
    }
  }
  // mpx: any answer without media only marks the call answered (MediaProxy does that for a reply
  // with a to_tag and would reject every stream otherwise; spec 9 changelog 2.4.2).
  if (update.media.empty()) {
    return outcome::success();
  }

  for (std::size_t i = paired; i < offered.size(); ++i) {
    end_stream(streams_.at(offered[i]), kRejected, now, ctx);
  }
  for (std::size_t i = 0; i < paired; ++i) {
    Stream& s = streams_.at(offered[i]);
    const auto& m = update.media[i];
    if (m.port == 0) {
      end_stream(s, kRejected, now, ctx);
      continue;
    }
    if (auto hold = s.check_hold(party, m.direction, m.ip)) {
      ctx.actions.emplace_back(*hold);
    }
    PartyState& answering = s.party(party);
    answering.ice = m.ice();
    const Endpoint signalled{m.ip, m.port};
    if (!answering.sdp || answering.sdp->ip.is_unspecified()) {
      answering.sdp = signalled;
      if (s.alive) {
        ctx.actions.emplace_back(PartySdpAccepted{s.id, party, signalled});
      }
    } else if (answering.sdp->port != m.port ||
               (answering.sdp->ip != m.ip && !m.ip.is_unspecified())) {
      answering.sdp = signalled;
      if (s.alive) {
        ctx.actions.emplace_back(PartyReset{s.id, party, signalled});
      }
    }
  }

  if (previous_) {
    for (StreamId id : previous_->streams) {
      if (!contains(offered, id)) {
        end_stream(streams_.at(id), kClosed, now, ctx);
      }
    }
    previous_.reset();
    forget_unreferenced(ctx);
  }
  return outcome::success();
}

Result<ReplyPorts> Session::reply_ports(bool is_downstream, std::uint64_t cseq,
                                        bool is_caller_cseq) const {
  const Offer* match = nullptr;
  for (const auto* offer : {&previous_, &current_}) {
    if (!offer->has_value()) {
      continue;
    }
    const CseqPair& pair = (*offer)->cseq;
    if ((is_caller_cseq ? pair.caller : pair.callee) == cseq &&
        (match == nullptr || pair > match->cseq)) {
      match = &**offer;
    }
  }
  if (match == nullptr) {
    return Error{"no offer of this session matches CSeq " + std::to_string(cseq)};
  }
  ReplyPorts reply;
  reply.ip = is_downstream ? callee_side_ip_ : caller_side_ip_;
  for (StreamId id : match->streams) {
    const Stream& s = streams_.at(id);
    const Endpoint& local = is_downstream ? s.callee_local : s.caller_local;
    reply.ports.push_back(s.alive ? local.port : std::uint16_t{0});
  }
  return reply;
}

void Session::end_stream(Stream& stream, std::string_view status, TimePoint now,
                         SessionContext& ctx) {
  if (!stream.alive) {
    return;
  }
  stream.alive = false;
  stream.status = std::string{status};
  stream.end_time = now;
  if (stream.has_ports) {
    if (ctx.traffic) {
      stream.final_traffic = ctx.traffic(stream.id);
    }
    ctx.pool.release_pair(stream.caller_local.port);
    ctx.pool.release_pair(stream.callee_local.port);
    ctx.actions.emplace_back(StreamClosed{stream.id, stream.status});
  }
}

void Session::forget_unreferenced(SessionContext& ctx) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    const StreamId id = it->first;
    const bool held = (current_ && contains(current_->streams, id)) ||
                      (previous_ && contains(previous_->streams, id));
    if (held) {
      ++it;
      continue;
    }
    // Only dead streams can drop out of both offers (every path above ends them first).
    ctx.forgotten.push_back(id);
    ctx.forgotten_bytes += it->second.final_traffic.caller_bytes +
                           it->second.final_traffic.callee_bytes;
    it = streams_.erase(it);
  }
}

bool Session::rtp_expired(StreamId id, std::string_view reason, std::int64_t timeout_wait,
                          TimePoint now, SessionContext& ctx) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.alive) {
    return false;
  }
  Stream& s = it->second;
  // Spec 5.7: with ICE on both sides the relay was probably just not the chosen candidate.
  const std::string_view status = s.caller.ice && s.callee.ice ? kUnselectedIce : reason;
  s.timeout_wait = timeout_wait;
  end_stream(s, status, now, ctx);
  if (any_stream_alive()) {
    return false;
  }
  end_time_ = now;
  return true;
}

bool Session::any_stream_alive() const {
  return std::any_of(streams_.begin(), streams_.end(),
                     [](const auto& entry) { return entry.second.alive; });
}

void Session::media_seen(StreamId id, Party party, std::optional<std::uint8_t> rtp_payload_type,
                         TimePoint now) {
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    return;
  }
  Stream& s = it->second;
  if (!s.first_media_time) {
    s.first_media_time = now;
  }
  PartyState& p = s.party(party);
  if (rtp_payload_type && p.codec == "Unknown") {
    p.codec = codec_name(*rtp_payload_type);
  }
}

void Session::close(std::string_view status, TimePoint now, SessionContext& ctx) {
  for (auto& [id, stream] : streams_) {
    end_stream(stream, status, now, ctx);
  }
  if (!end_time_) {
    end_time_ = now;
  }
}

std::uint64_t Session::relayed_bytes(const TrafficSource& traffic) const {
  std::uint64_t total = 0;
  for (const auto& [id, s] : streams_) {
    const StreamTraffic t = s.alive && s.has_ports && traffic ? traffic(id) : s.final_traffic;
    total += t.caller_bytes + t.callee_bytes;
  }
  return total;
}

const Stream* Session::find_stream(StreamId id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

protocol::SessionStatistics Session::statistics(TimePoint now,
                                                const TrafficSource& traffic) const {
  protocol::SessionStatistics st;
  st.call_id = key_.first;
  st.from_tag = key_.second;
  st.from_uri = from_uri_;
  st.to_tag = to_tag_;
  st.to_uri = to_uri_;
  if (start_time_) {
    st.start_time = seconds(start_time_->time_since_epoch());
    // Clamped: a clock stepped backwards must not produce a negative duration.
    st.duration = std::max<std::int64_t>(whole_seconds(end_time_.value_or(now) - *start_time_), 0);
  }
  st.caller_ua = caller_ua_.value_or("Unknown");
  st.callee_ua = callee_ua_.value_or("Unknown");
  st.username = signaling_.username;

  std::vector<const Stream*> answered;
  for (const auto* offer : {&previous_, &current_}) {
    if (!offer->has_value()) {
      continue;
    }
    for (StreamId id : (*offer)->streams) {
      const Stream& s = streams_.at(id);
      if (s.start_time && std::find(answered.begin(), answered.end(), &s) == answered.end()) {
        answered.push_back(&s);
      }
    }
  }
  std::stable_sort(answered.begin(), answered.end(),
                   [](const Stream* a, const Stream* b) { return *a->start_time < *b->start_time; });

  for (const Stream* s : answered) {
    protocol::StreamStatistics out;
    out.media_type = s->media_type;
    out.status = s->status;
    out.timeout_wait = s->timeout_wait;
    out.caller_codec = s->caller.codec;
    out.callee_codec = s->callee.codec;
    // A stream only has a start_time once the session has one.
    out.start_time = std::max<std::int64_t>(whole_seconds(*s->start_time - *start_time_), 0);
    if (s->status == kRejected) {
      out.end_time = out.start_time;
    } else if (!s->end_time) {
      out.end_time = st.duration;
    } else {
      out.end_time = std::max<std::int64_t>(whole_seconds(*s->end_time - *start_time_), 0);
    }
    if (s->first_media_time) {
      out.post_dial_delay = seconds(*s->first_media_time - s->create_time);
    }
    StreamTraffic t = s->final_traffic;
    if (s->alive && s->has_ports && traffic) {
      t = traffic(s->id);
    }
    out.caller_bytes = t.caller_bytes;
    out.callee_bytes = t.callee_bytes;
    out.caller_packets = t.caller_packets;
    out.callee_packets = t.callee_packets;
    out.caller_local = s->caller_local.to_string();
    out.callee_local = s->callee_local.to_string();
    out.caller_remote = t.caller_remote ? t.caller_remote->to_string() : "Unknown";
    out.callee_remote = t.callee_remote ? t.callee_remote->to_string() : "Unknown";
    st.streams.push_back(std::move(out));
  }
  return st;
}

}  // namespace mpx::relay::session
