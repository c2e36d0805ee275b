// Delivery figures (see delivery.hpp).
#include "tests/integration/attack/delivery.hpp"

#include <set>

#include "tests/integration/attack/attack_packets.hpp"

namespace mpx::test::attack {

Delivery delivery_of(const MediaSource& source, const relay_lab::RtpPeer& receiver,
                     std::chrono::milliseconds from) {
  const MediaPlan& plan = source.plan();
  std::set<std::uint16_t> arrived;
  std::optional<Clock::time_point> first;
  for (const auto& packet : receiver.received()) {
    if (packet.rtcp || packet.ssrc != plan.ssrc || packet.fill != plan.fill) {
      continue;
    }
    arrived.insert(packet.sequence);
    if (!first || packet.arrival < *first) {
      first = packet.arrival;
    }
  }
  Delivery delivery;
  const Clock::time_point cut_off = source.started() + from;
  // Sequence numbers are unique while a source sends fewer than 65536 packets (21 minutes at
  // 50 packets/s), far beyond any scenario.
  for (const auto& sent : source.sent_rtp()) {
    if (sent.at < cut_off) {
      continue;
    }
    ++delivery.counted;
    delivery.delivered += arrived.count(sent.sequence);
  }
  if (first) {
    delivery.first_ms =
        std::chrono::duration<double, std::milli>(*first - source.started()).count();
  }
  return delivery;
}

std::size_t rtcp_received(const relay_lab::RtpPeer& receiver, std::uint32_t ssrc) {
  return receiver.count_if(
      [&](const relay_lab::ReceivedPacket& p) { return p.rtcp && p.ssrc == ssrc; });
}

std::size_t foreign_sources(const relay_lab::RtpPeer& peer, const std::string& expected_source) {
  return peer.count_if(
      [&](const relay_lab::ReceivedPacket& p) { return p.source != expected_source; });
}

std::size_t legit_packets(const relay_lab::RtpPeer& peer, const Parties& parties) {
  return peer.count_if([&](const relay_lab::ReceivedPacket& p) {
    const Origin origin = origin_of(p.bytes, parties);
    return origin == Origin::caller || origin == Origin::callee;
  });
}

std::size_t attacker_packets(const relay_lab::RtpPeer& peer) {
  return peer.count_if(
      [](const relay_lab::ReceivedPacket& p) { return carries_attack_marker(p.bytes); });
}

}  // namespace mpx::test::attack
