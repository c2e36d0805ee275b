// The relay's media IO: latching, pre-hand-off forwarding, hand-off, counters and stream timers;
// see media_engine.hpp.
#include "relay/engine/media_engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace mpx::relay::engine {
namespace {

using boost::asio::ip::address_v4;

std::uint64_t slot_key(const datapath::Endpoint& local) {
  return (static_cast<std::uint64_t>(local.address().to_v4().to_uint()) << 16) | local.port();
}

datapath::Endpoint to_udp(const session::Endpoint& endpoint, std::uint16_t port_offset = 0) {
  return {endpoint.ip, static_cast<std::uint16_t>(endpoint.port + port_offset)};
}

session::Endpoint to_session(const datapath::Endpoint& endpoint) {
  return {endpoint.address().to_v4(), endpoint.port()};
}

std::optional<session::Endpoint> known(const std::optional<session::Endpoint>& sdp,
                                       std::uint16_t port_offset) {
  if (!sdp || sdp->ip.is_unspecified() || sdp->port == 0) {
    return std::nullopt;
  }
  return session::Endpoint{sdp->ip, static_cast<std::uint16_t>(sdp->port + port_offset)};
}

int index_of(Party party) { return party == Party::caller ? 0 : 1; }

SteadyClock::time_point later(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::max(a, b);
}

bool carries_rtp(const std::string& media_type) {
  return media_type == "audio" || media_type == "video";
}

void add(datapath::FlowCounters& sum, const datapath::FlowCounters& more) {
  sum.caller_packets += more.caller_packets;
  sum.caller_bytes += more.caller_bytes;
  sum.callee_packets += more.callee_packets;
  sum.callee_bytes += more.callee_bytes;
  sum.last_activity = std::max(sum.last_activity, more.last_activity);
}

}  // namespace

MediaEngine::MediaEngine(boost::asio::any_io_executor executor, EngineSettings settings,
                         datapath::MediaSockets& sockets, datapath::Datapath& datapath,
                         EngineEvents events)
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      sockets_(sockets),
      datapath_(datapath),
      events_(std::move(events)),
      routable_(settings_.routable_private_ranges),
      sweep_timer_(executor_),
      latch_timer_(executor_),
      alive_(std::make_shared<bool>(true)) {}

MediaEngine::~MediaEngine() {
  *alive_ = false;
  stop();
}

void MediaEngine::start() {
  arm_sweep();
  arm_latch_tick();
}

void MediaEngine::stop() {
  sweep_timer_.cancel();
  latch_timer_.cancel();
}

void MediaEngine::close_all() {
  std::vector<StreamId> ids;
  ids.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) {
    ids.push_back(id);
  }
  for (const StreamId id : ids) {
    close_stream(id);
  }
}

bool MediaEngine::bind_pair(std::uint16_t rtp_port) {
  const datapath::Endpoint rtp{settings_.bind_ip, rtp_port};
  const datapath::Endpoint rtcp{settings_.bind_ip, static_cast<std::uint16_t>(rtp_port + 1)};
  auto opened = sockets_.open(rtp);
  if (!opened) {
    spdlog::warn("port pair {} skipped: {}", rtp_port, opened.error().message);
    return false;
  }
  opened = sockets_.open(rtcp);
  if (!opened) {
    sockets_.close(rtp);
    spdlog::warn("port pair {} skipped: {}", rtp_port, opened.error().message);
    return false;
  }
  bound_[rtp_port] = settings_.bind_ip;
  return true;
}

void MediaEngine::release_pair(std::uint16_t rtp_port) {
  const auto found = bound_.find(rtp_port);
  if (found == bound_.end()) {
    return;
  }
  sockets_.close({found->second, rtp_port});
  sockets_.close({found->second, static_cast<std::uint16_t>(rtp_port + 1)});
  bound_.erase(found);
}

// auto_detect_interfaces may give a stream another IP than the pool bound: move the pair there.
void MediaEngine::ensure_socket(const datapath::Endpoint& local) {
  const std::uint16_t rtp_port = local.port() & 0xfffe;
  const auto ip = local.address().to_v4();
  const auto found = bound_.find(rtp_port);
  if (found != bound_.end() && found->second == ip) {
    return;
  }
  if (found != bound_.end()) {
    release_pair(rtp_port);
  }
  const datapath::Endpoint rtp{ip, rtp_port};
  const datapath::Endpoint rtcp{ip, static_cast<std::uint16_t>(rtp_port + 1)};
  for (const auto& endpoint : {rtp, rtcp}) {
    if (auto opened = sockets_.open(endpoint); !opened) {
      spdlog::error("stream socket {}:{} unavailable: {}", ip.to_string(), endpoint.port(),
                    opened.error().message);
    }
  }
  bound_[rtp_port] = ip;
}

void MediaEngine::apply(const session::Action& action, const SignalingHints& hints) {
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, session::StreamOpened>) {
          open_stream(a, hints);
        } else if constexpr (std::is_same_v<T, session::PartySdpAccepted>) {
          const auto found = streams_.find(a.id);
          if (found != streams_.end()) {
            auto& stream = *found->second;
            stream.sdp[index_of(a.party)] = a.sdp;
            expect(stream, a.party, a.sdp, hints.of(a.party));
            // The answer reaches the offerer with the relay's port: it can send from now.
            open_party(stream, session::other(a.party));
          }
        } else if constexpr (std::is_same_v<T, session::PartyReset>) {
          const auto found = streams_.find(a.id);
          if (found != streams_.end()) {
            auto& stream = *found->second;
            stream.sdp[index_of(a.party)] = a.sdp;
            reset_party(stream, a.party);
            expect(stream, a.party, a.sdp, hints.of(a.party));
            open_party(stream, session::other(a.party));
          }
        } else if constexpr (std::is_same_v<T, session::HoldChanged>) {
          const auto found = streams_.find(a.id);
          if (found != streams_.end()) {
            auto& stream = *found->second;
            const auto now = SteadyClock::now();
            stream.on_hold = a.on_hold;
            if (a.on_hold) {
              stream.hold_since = now;
            } else {
              stream.armed[0] = stream.armed[1] = now;
            }
          }
        } else if constexpr (std::is_same_v<T, session::StreamClosed>) {
          close_stream(a.id);
        }
      },
      action);
}

void MediaEngine::open_stream(const session::StreamOpened& opened, const SignalingHints& hints) {
  media::LatchSettings latch = settings_.latch;
  latch.require_rtp = carries_rtp(opened.media_type);
  auto state = std::make_unique<StreamState>(opened.id, latch);
  auto& stream = *state;
  const auto now = SteadyClock::now();
  stream.armed[0] = stream.armed[1] = now;
  for (const bool rtcp : {false, true}) {
    const std::uint16_t offset = rtcp ? 1 : 0;
    auto& sub = stream.sub(rtcp);
    sub.caller.local = to_udp(opened.caller_local, offset);
    sub.callee.local = to_udp(opened.callee_local, offset);
    for (const Party party : {Party::caller, Party::callee}) {
      const auto& local = sub.party(party).local;
      ensure_socket(local);
      slots_[slot_key(local)] = Slot{opened.id, rtcp, party};
    }
  }
  stream.sdp[index_of(opened.offerer)] = opened.offerer_sdp;
  streams_[opened.id] = std::move(state);
  // The offerer learns the relay's port only from the answer: until then nothing it could send
  // exists, and its learning window must not run out while the callee's phone rings.
  expect(stream, opened.offerer, opened.offerer_sdp, hints.of(opened.offerer));
  // The answerer has the relay's port as soon as this offer is answered.
  const Party answerer = session::other(opened.offerer);
  expect(stream, answerer, std::nullopt, hints.of(answerer));
  open_party(stream, answerer);
  spdlog::debug("stream {} ({}) opened: caller side {}, callee side {}", opened.id,
                opened.media_type, opened.caller_local.to_string(),
                opened.callee_local.to_string());
}

bool SubStreamRecovery::operator==(const SubStreamRecovery& other) const {
  const auto same_counters = [](const datapath::FlowCounters& a, const datapath::FlowCounters& b) {
    return a.caller_packets == b.caller_packets && a.caller_bytes == b.caller_bytes &&
           a.callee_packets == b.callee_packets && a.callee_bytes == b.callee_bytes;
  };
  return installed == other.installed && same_counters(gone, other.gone) &&
         caller_packets == other.caller_packets && caller_bytes == other.caller_bytes &&
         callee_packets == other.callee_packets && callee_bytes == other.callee_bytes &&
         caller_locked == other.caller_locked && callee_locked == other.callee_locked;
}

std::optional<StreamRecovery> MediaEngine::recovery_state(StreamId id) const {
  const auto found = streams_.find(id);
  if (found == streams_.end()) {
    return std::nullopt;
  }
  StreamRecovery out;
  out.id = id;
  for (const bool rtcp : {false, true}) {
    const SubStream& sub = rtcp ? found->second->rtcp : found->second->rtp;
    auto& saved = rtcp ? out.rtcp : out.rtp;
    saved.installed = sub.installed;
    saved.gone = sub.gone;
    saved.gone.last_activity = {};
    saved.caller_packets = sub.caller.packets;
    saved.caller_bytes = sub.caller.bytes;
    saved.callee_packets = sub.callee.packets;
    saved.callee_bytes = sub.callee.bytes;
    saved.caller_locked = sub.caller.latch.locked();
    saved.callee_locked = sub.callee.latch.locked();
  }
  return out;
}

void MediaEngine::restore_stream(const session::Stream& stream, const StreamRecovery& state,
                                 const SignalingHints& hints) {
  media::LatchSettings latch = settings_.latch;
  latch.require_rtp = carries_rtp(stream.media_type);
  auto owned = std::make_unique<StreamState>(stream.id, latch);
  auto& restored = *owned;
  const auto now = SteadyClock::now();
  restored.armed[0] = restored.armed[1] = now;
  restored.on_hold = stream.on_hold();
  restored.hold_since = now;
  restored.sdp[0] = stream.caller.sdp;
  restored.sdp[1] = stream.callee.sdp;
  bool learning = false;
  for (const bool rtcp : {false, true}) {
    const std::uint16_t offset = rtcp ? 1 : 0;
    const auto& saved = rtcp ? state.rtcp : state.rtp;
    auto& sub = restored.sub(rtcp);
    sub.caller.local = to_udp(stream.caller_local, offset);
    sub.callee.local = to_udp(stream.callee_local, offset);
    sub.caller.packets = saved.caller_packets;
    sub.caller.bytes = saved.caller_bytes;
    sub.callee.packets = saved.callee_packets;
    sub.callee.bytes = saved.callee_bytes;
    sub.gone = saved.gone;
    sub.installed = saved.installed;
    for (const Party party : {Party::caller, Party::callee}) {
      auto& sub_party = sub.party(party);
      const auto& locked = party == Party::caller ? saved.caller_locked : saved.callee_locked;
      const auto expected = expectation(restored.sdp[index_of(party)], offset, hints.of(party));
      if (locked) {
        sub_party.latch.restore(expected, *locked);
      } else {
        sub_party.latch.expect(expected, now);
        sub_party.latch.open(now);
      }
      // A party whose flow is in the kernel has sent media; the no-traffic timer starts anew.
      sub_party.seen = sub.installed.has_value() || sub_party.packets > 0;
      learning = learning || sub_party.latch.window_deadline().has_value();
      ensure_socket(sub_party.local);
      slots_[slot_key(sub_party.local)] = Slot{stream.id, rtcp, party};
    }
  }
  for (const Party party : {Party::caller, Party::callee}) {
    if (const auto& rtp_lock = restored.rtp.party(party).latch.locked()) {
      restored.rtcp.party(party).latch.follow(rtp_lock->ip);
    }
  }
  streams_[stream.id] = std::move(owned);
  if (learning) {
    learning_.insert(stream.id);
  }
  auto& adopted = *streams_[stream.id];
  poll(adopted.rtp, now);
  poll(adopted.rtcp, now);
}

media::Expectation MediaEngine::expectation(const std::optional<session::Endpoint>& sdp,
                                            std::uint16_t port_offset,
                                            const std::optional<address_v4>& signaling) const {
  media::Expectation expected;
  expected.sdp = known(sdp, port_offset);
  expected.sdp_reachable = expected.sdp && routable_.routable(expected.sdp->ip);
  expected.signaling_ip = signaling;
  expected.signaling_reachable = signaling && routable_.routable(*signaling);
  return expected;
}

void MediaEngine::expect(StreamState& stream, Party party,
                         const std::optional<session::Endpoint>& sdp,
                         const std::optional<address_v4>& signaling) {
  const auto now = SteadyClock::now();
  for (const bool rtcp : {false, true}) {
    stream.sub(rtcp).party(party).latch.expect(expectation(sdp, rtcp ? 1 : 0, signaling), now);
  }
  follow_rtp(stream, party);
  reconcile(stream.rtp);
  learning_.insert(stream.id);
}

void MediaEngine::open_party(StreamState& stream, Party party) {
  const auto now = SteadyClock::now();
  for (const bool rtcp : {false, true}) {
    stream.sub(rtcp).party(party).latch.open(now);
  }
  learning_.insert(stream.id);
}

void MediaEngine::follow_rtp(StreamState& stream, Party party) {
  std::optional<address_v4> rtp_ip;
  if (const auto& rtp_lock = stream.rtp.party(party).latch.locked()) {
    rtp_ip = rtp_lock->ip;
  }
  stream.rtcp.party(party).latch.follow(rtp_ip);
  reconcile(stream.rtcp);
}

void MediaEngine::reconcile(SubStream& sub) {
  if (!sub.installed) {
    return;
  }
  const auto& caller = sub.caller.latch.locked();
  const auto& callee = sub.callee.latch.locked();
  if (!caller || !callee || to_udp(*caller) != sub.installed->caller_remote ||
      to_udp(*callee) != sub.installed->callee_remote) {
    uninstall(sub);
  }
}

void MediaEngine::latch_changed(StreamState& stream, bool rtcp, Party party,
                                media::LatchChange change) {
  ++stats_.latches;
  auto& sub = stream.sub(rtcp);
  const auto& latch = sub.party(party).latch;
  const std::string lock = latch.locked() ? latch.locked()->to_string() : std::string("nobody");
  const char* what = rtcp ? "RTCP" : "RTP";
  switch (change) {
    case media::LatchChange::takeover:
      ++stats_.takeovers;
      // A provisional lock (often a stranger who sprayed first) gave way: worth a line.
      spdlog::info("stream {} {} {} lock taken over by {} ({})", stream.id, what,
                   session::to_string(party), lock, media::to_string(latch.locked_rank()));
      break;
    case media::LatchChange::rebinding:
      ++stats_.rebindings;
      spdlog::info("stream {} {} {} lock moved to {} (NAT rebinding)", stream.id, what,
                   session::to_string(party), lock);
      break;
    default:
      spdlog::debug("stream {} {} {} latched to {} ({}, {})", stream.id, what,
                    session::to_string(party), lock, media::to_string(latch.locked_rank()),
                    media::to_string(change));
      break;
  }
  if (!rtcp) {
    follow_rtp(stream, party);
  }
  reconcile(sub);
}


void MediaEngine::reset_party(StreamState& stream, Party party) {
  for (const bool rtcp : {false, true}) {
    auto& sub = stream.sub(rtcp);
    if (sub.installed) {
      uninstall(sub);
    }
    sub.party(party).seen = false;
  }
  stream.armed[index_of(party)] = SteadyClock::now();
}

void MediaEngine::close_stream(StreamId id) {
  const auto found = streams_.find(id);
  if (found == streams_.end()) {
    return;
  }
  auto& stream = *found->second;
  for (const bool rtcp : {false, true}) {
    auto& sub = stream.sub(rtcp);
    if (sub.installed) {
      uninstall(sub);
    }
    for (const Party party : {Party::caller, Party::callee}) {
      const auto slot = slots_.find(slot_key(sub.party(party).local));
      if (slot != slots_.end() && slot->second.id == id) {
        slots_.erase(slot);
      }
    }
  }
  learning_.erase(id);
  streams_.erase(found);
}

void MediaEngine::on_packet(const datapath::MediaSockets::Packet& packet) {
  const auto slot = slots_.find(slot_key(packet.local));
  if (slot == slots_.end()) {
    ++stats_.unknown_port;
    return;
  }
  const Slot where = slot->second;
  auto found = streams_.find(where.id);
  if (found == streams_.end()) {
    ++stats_.unknown_port;
    return;
  }
  auto& stream = *found->second;
  auto& sub = stream.sub(where.rtcp);
  auto& me = sub.party(where.party);
  const auto info = media::classify(packet.data);
  const auto source = to_session(packet.source);
  // Another port of the locked IP may be a NAT rebinding, but only if the locked source fell
  // silent; with a flow installed only the kernel's counters can tell.
  // (Only for the locked SSRC, which an off-path sender does not know: no counter read per
  // forged packet.)
  if (const auto& lock = me.latch.locked();
      sub.installed && lock && lock->ip == source.ip && lock->port != source.port &&
      me.latch.locked_ssrc() == info.ssrc &&
      (info.kind == media::PacketKind::rtp || info.kind == media::PacketKind::rtcp)) {
    poll(sub, packet.received);
  }
  const auto decision = me.latch.on_packet(source, info, packet.received);
  if (decision.relatched()) {
    latch_changed(stream, where.rtcp, where.party, decision.change);
  }
  switch (decision.verdict) {
    case media::LatchVerdict::learning:
      ++stats_.learning;
      learning_.insert(stream.id);  // after forget() the window opens with this packet
      return;
    case media::LatchVerdict::stranger:
      ++stats_.strangers;
      return;
    case media::LatchVerdict::invalid:
      ++stats_.invalid;
      return;
    case media::LatchVerdict::accept:
      break;
  }
  me.last_packet = packet.received;
  ++me.packets;
  me.bytes += packet.data.size() + datapath::kIpv4UdpHeaderBytes;
  if (info.kind != media::PacketKind::stun && !me.seen) {
    me.seen = true;
    if (events_.media_seen) {
      const bool rtp = !where.rtcp && info.kind == media::PacketKind::rtp;
      events_.media_seen(stream.id, where.party,
                         rtp ? std::optional<std::uint8_t>(info.payload_type) : std::nullopt);
    }
    // media_seen does not touch engine state, but stay defensive: the stream must still exist.
    found = streams_.find(where.id);
    if (found == streams_.end()) {
      return;
    }
  }
  forward(stream, sub, where.party, packet);
  try_handoff(sub, packet.received);
}

void MediaEngine::forward(StreamState& stream, SubStream& sub, Party from,
                          const datapath::MediaSockets::Packet& packet) {
  const Party to = session::other(from);
  auto& peer = sub.party(to);
  std::optional<datapath::Endpoint> destination;
  if (const auto& locked = peer.latch.locked()) {
    destination = to_udp(*locked);
  } else if (!sub.rtcp) {
    // MediaProxy: RTP (never RTCP) may go to the SDP address until the peer latches, if routable.
    const auto sdp = known(stream.sdp[index_of(to)], 0);
    if (sdp && routable_.routable(sdp->ip)) {
      destination = to_udp(*sdp);
    }
  }
  if (!destination) {
    ++stats_.no_destination;
    return;
  }
  if (sockets_.send(peer.local, *destination, packet.data)) {
    ++stats_.relayed_packets;
  }
}

void MediaEngine::try_handoff(SubStream& sub, SteadyClock::time_point now) {
  if (sub.installed || !sub.caller.seen || !sub.callee.seen || now < sub.retry_after) {
    return;
  }
  const auto& caller = sub.caller.latch.locked();
  const auto& callee = sub.callee.latch.locked();
  if (!caller || !callee) {
    return;
  }
  const datapath::Flow flow{to_udp(*caller), sub.caller.local, sub.callee.local, to_udp(*callee)};
  auto installed = datapath_.install(flow);
  if (!installed) {
    ++stats_.handoff_errors;
    sub.retry_after = now + settings_.install_retry;
    spdlog::warn("{} hand-off of {} <-> {} failed (media stays in userspace, retry in {} s): {}",
                 datapath_.name(), caller->to_string(), callee->to_string(),
                 settings_.install_retry.count(), installed.error().message);
    return;
  }
  ++stats_.handoffs;
  sub.installed = flow;
  sub.live = {};
  if (events_.flows_changed) {
    events_.flows_changed();
  }
  spdlog::debug("{}: {} -> {}:{} | {}:{} -> {} handed off", datapath_.name(), caller->to_string(),
                sub.caller.local.address().to_string(), sub.caller.local.port(),
                sub.callee.local.address().to_string(), sub.callee.local.port(),
                callee->to_string());
}

void MediaEngine::uninstall(SubStream& sub) {
  auto removed = datapath_.remove(*sub.installed);
  if (removed) {
    add(sub.gone, removed.value());
  } else {
    add(sub.gone, sub.live);
    spdlog::debug("{} flow removal: {}", datapath_.name(), removed.error().message);
  }
  sub.installed.reset();
  sub.live = {};
  if (events_.flows_changed) {
    events_.flows_changed();
  }
}

void MediaEngine::poll(SubStream& sub, SteadyClock::time_point now) {
  if (!sub.installed) {
    return;
  }
  auto counters = datapath_.counters(*sub.installed);
  if (counters) {
    if (counters.value().caller_packets > sub.live.caller_packets) {
      sub.caller.latch.note_locked_active(now);
    }
    if (counters.value().callee_packets > sub.live.callee_packets) {
      sub.callee.latch.note_locked_active(now);
    }
    sub.live = counters.value();
    return;
  }
  // The datapath lost the flow: packets fall back to the sockets and are handed off again.
  ++stats_.flows_lost;
  spdlog::warn("{} flow lost ({}); media goes back through the relay's sockets", datapath_.name(),
               counters.error().message);
  uninstall(sub);
}

session::StreamTraffic MediaEngine::traffic(StreamId id) {
  session::StreamTraffic traffic;
  const auto found = streams_.find(id);
  if (found == streams_.end()) {
    return traffic;
  }
  auto& stream = *found->second;
  for (const bool rtcp : {false, true}) {
    auto& sub = stream.sub(rtcp);
    poll(sub);
    datapath::FlowCounters total = sub.gone;
    add(total, sub.live);
    traffic.caller_bytes += total.caller_bytes + sub.caller.bytes;
    traffic.caller_packets += total.caller_packets + sub.caller.packets;
    traffic.callee_bytes += total.callee_bytes + sub.callee.bytes;
    traffic.callee_packets += total.callee_packets + sub.callee.packets;
  }
  traffic.caller_remote = stream.rtp.caller.latch.locked();
  traffic.callee_remote = stream.rtp.callee.latch.locked();
  return traffic;
}

std::size_t MediaEngine::installed_flows() const {
  std::size_t count = 0;
  for (const auto& [id, stream] : streams_) {
    count += (stream->rtp.installed ? 1U : 0U) + (stream->rtcp.installed ? 1U : 0U);
  }
  return count;
}

std::optional<MediaEngine::Expiry> MediaEngine::check_timers(StreamState& stream,
                                                             SteadyClock::time_point now) {
  if (stream.on_hold) {
    if (now - stream.hold_since >= settings_.on_hold_timeout) {
      return Expiry{stream.id, session::ExpiryReason::on_hold, settings_.on_hold_timeout.count()};
    }
    return std::nullopt;
  }
  const auto no_traffic =
      Expiry{stream.id, session::ExpiryReason::no_traffic, settings_.stream_timeout.count()};
  // A party that sent no media since its timer was armed (MediaProxy's per-party timer).
  for (const Party party : {Party::caller, Party::callee}) {
    if (!stream.rtp.party(party).seen &&
        now - stream.armed[index_of(party)] >= settings_.stream_timeout) {
      return no_traffic;
    }
  }
  // Nothing flowed either way for stream_timeout (what the kernel timeout did for MediaProxy).
  auto last = later(stream.armed[0], stream.armed[1]);
  last = later(last, later(stream.rtp.caller.last_packet, stream.rtp.callee.last_packet));
  last = later(last, stream.rtp.live.last_activity);
  if (now - last >= settings_.stream_timeout) {
    return no_traffic;
  }
  // Idle RTCP only forgets its addresses, so later RTCP latches anew.
  auto& rtcp = stream.rtcp;
  if (rtcp.caller.latch.locked() || rtcp.callee.latch.locked()) {
    auto rtcp_last = later(stream.armed[0], stream.armed[1]);
    rtcp_last = later(rtcp_last, later(rtcp.caller.last_packet, rtcp.callee.last_packet));
    rtcp_last = later(rtcp_last, rtcp.live.last_activity);
    if (now - rtcp_last >= settings_.stream_timeout) {
      if (rtcp.installed) {
        uninstall(rtcp);
      }
      rtcp.caller.latch.forget();
      rtcp.callee.latch.forget();
      rtcp.caller.seen = rtcp.callee.seen = false;
      learning_.insert(stream.id);
    }
  }
  return std::nullopt;
}

void MediaEngine::sweep() {
  const auto now = SteadyClock::now();
  std::vector<Expiry> expired;
  for (auto& [id, stream] : streams_) {
    poll(stream->rtp, now);
    poll(stream->rtcp, now);
    if (auto expiry = check_timers(*stream, now)) {
      expired.push_back(*expiry);
    }
  }
  for (const auto& expiry : expired) {
    if (streams_.count(expiry.id) != 0 && events_.rtp_expired) {
      events_.rtp_expired(expiry.id, expiry.reason, expiry.timeout_wait);
    }
  }
}

void MediaEngine::latch_tick() {
  const auto now = SteadyClock::now();
  for (auto it = learning_.begin(); it != learning_.end();) {
    const auto found = streams_.find(*it);
    if (found == streams_.end()) {
      it = learning_.erase(it);
      continue;
    }
    bool open = false;
    auto& stream = *found->second;
    for (const bool rtcp : {false, true}) {
      for (const Party party : {Party::caller, Party::callee}) {
        auto& latch = stream.sub(rtcp).party(party).latch;
        if (const auto decision = latch.on_tick(now); decision.relatched()) {
          latch_changed(stream, rtcp, party, decision.change);
        }
        open = open || latch.window_deadline().has_value();
      }
    }
    it = open ? std::next(it) : learning_.erase(it);
  }
}

void MediaEngine::arm_sweep() {
  sweep_timer_.expires_after(settings_.poll_interval);
  sweep_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) {
      return;
    }
    sweep();
    arm_sweep();
  });
}

void MediaEngine::arm_latch_tick() {
  latch_timer_.expires_after(settings_.latch_tick);
  latch_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (error || !*alive) {
      return;
    }
    latch_tick();
    arm_latch_tick();
  });
}

}  // namespace mpx::relay::engine
