// What the legitimate endpoints got, computed from what a MediaSource sent and what an RtpPeer
// received: the delivered fraction of the RTP packets sent from some time after the media
// start, the first delivery (ms after the media start), the RTCP that arrived, and the packets
// that came from a source other than the relay port the endpoint talks to. Pure computation
// over the recorded packets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tests/integration/attack/attack_packets.hpp"
#include "tests/integration/attack/media_source.hpp"
#include "tests/integration/relay_lab/rtp_peer.hpp"

namespace mpx::test::attack {

struct Delivery {
  std::size_t counted = 0;         // RTP packets sent at or after the cut-off
  std::size_t delivered = 0;       // of those, how many arrived (by SSRC, fill and sequence number)
  std::optional<double> first_ms;  // first arrival of any of the source's RTP, after its start
  std::size_t lost() const { return counted - delivered; }
  // 1.0 when nothing was counted (nothing to lose).
  double fraction() const {
    return counted == 0 ? 1.0 : static_cast<double>(delivered) / static_cast<double>(counted);
  }
};

// Delivery of `source`'s RTP to `receiver`, counting the packets sent at least `from` after the
// source started.
Delivery delivery_of(const MediaSource& source, const relay_lab::RtpPeer& receiver,
                     std::chrono::milliseconds from);

// RTCP sender reports with `ssrc` that `receiver` got.
std::size_t rtcp_received(const relay_lab::RtpPeer& receiver, std::uint32_t ssrc);

// Packets `peer` received from anywhere but `expected_source` ("ip:port").
std::size_t foreign_sources(const relay_lab::RtpPeer& peer, const std::string& expected_source);

// Packets `peer` received that carry the attacker's marker.
std::size_t attacker_packets(const relay_lab::RtpPeer& peer);
// Packets `peer` received from the legitimate caller or callee (origin_of, by SSRC or fill).
std::size_t legit_packets(const relay_lab::RtpPeer& peer, const Parties& parties);

}  // namespace mpx::test::attack
