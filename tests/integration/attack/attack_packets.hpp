// The bytes the attack scenarios put on the wire, and how a receiver tells whose they are.
// Owns the packet formats (STUN binding request/success, DTLS ClientHello / HelloVerifyRequest
// records, "other" bytes; RTP and RTCP sender reports are the relay lab's, rtp_peer.hpp), the
// attacker's marker, and the classification of a received datagram by origin (caller, callee,
// attacker, unknown).
//
// Every attacker payload is recognizable whatever the relay does to its headers: RTP carries
// the fill byte 0xaa in every payload byte, every other kind carries kAttackMarker inside its
// payload (RTCP: the NTP timestamp; STUN: the transaction id and the SOFTWARE attribute; DTLS:
// the ClientHello random; other: right after the first byte). The legitimate WebRTC-like peers
// tag their STUN messages and DTLS randoms/cookies with their own 4-byte tag the same way.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "tests/integration/relay_lab/rtp_peer.hpp"

namespace mpx::test::attack {

using Bytes = std::vector<std::uint8_t>;
using Tag = std::array<std::uint8_t, 4>;
using TransactionId = std::array<std::uint8_t, 12>;

inline constexpr std::uint8_t kAttackerFill = 0xaa;
inline constexpr Tag kAttackMarker{0xa7, 0x7a, 0xc4, 0xed};
// Tags of the legitimate WebRTC-like peers ("CALR", "CALE").
inline constexpr Tag kCallerTag{0x43, 0x41, 0x4c, 0x52};
inline constexpr Tag kCalleeTag{0x43, 0x41, 0x4c, 0x45};

inline constexpr std::uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr std::uint16_t kStunBindingRequest = 0x0001;
inline constexpr std::uint16_t kStunBindingSuccess = 0x0101;
inline constexpr std::uint8_t kDtlsHandshake = 22;
inline constexpr std::uint8_t kDtlsClientHello = 1;
inline constexpr std::uint8_t kDtlsHelloVerifyRequest = 3;

// The kinds the sprayer cycles through (RFC 7983 demultiplexing classes).
enum class SprayKind { rtp, rtcp, stun, dtls, other };
inline constexpr std::size_t kSprayKinds = 5;
std::string_view to_string(SprayKind kind);

// RTP version 2, PT 8 (PCMA), 160 payload bytes of `fill`; RTCP sender report without report
// blocks (28 bytes). The relay lab's RtpPeer sends the same bytes.
using relay_lab::rtcp_sender_report;
using relay_lab::rtp_packet;
// STUN binding request / success response (RFC 5389 header, 20 bytes) with a SOFTWARE
// attribute whose value starts with the SENDER's tag (a response carries the requester's
// transaction id, so the id alone does not say who sent it).
Bytes stun_message(std::uint16_t type, const TransactionId& transaction, const Tag& sender);
// The sender tag of a stun_message(), when `bytes` is one.
std::optional<Tag> stun_sender(std::span<const std::uint8_t> bytes);
// A DTLS 1.2 handshake record: ClientHello (type 1) or HelloVerifyRequest (type 3) whose random
// (ClientHello) or cookie (HelloVerifyRequest) starts with `tag`.
Bytes dtls_record(std::uint8_t handshake_type, std::uint16_t record_sequence, const Tag& tag);
// Datagram of the RFC 7983 class "other": a first byte outside 0-3, 16-19, 20-63, 64-79 and
// 128-191, then kAttackMarker, then random bytes (24..63 bytes in all).
Bytes other_packet(std::mt19937& random);

// One attacker packet of `kind`: random SSRC (never `avoid_ssrc_a`/`_b`, the legitimate ones),
// random sequence numbers and transaction ids, always marked.
Bytes attacker_packet(SprayKind kind, std::mt19937& random, std::uint32_t avoid_ssrc_a,
                      std::uint32_t avoid_ssrc_b);

// Parsing what arrived.
bool is_rtp(std::span<const std::uint8_t> bytes);
bool is_rtcp(std::span<const std::uint8_t> bytes);
std::optional<std::uint32_t> ssrc_of(std::span<const std::uint8_t> bytes);  // RTP or RTCP
// The STUN message type when `bytes` is a STUN message (first byte 0-3, cookie at offset 4).
std::optional<std::uint16_t> stun_type(std::span<const std::uint8_t> bytes);
std::optional<TransactionId> stun_transaction(std::span<const std::uint8_t> bytes);
// The handshake type when `bytes` is a DTLS handshake record (first byte 22, version 0xfefd).
std::optional<std::uint8_t> dtls_handshake_type(std::span<const std::uint8_t> bytes);
bool contains_tag(std::span<const std::uint8_t> bytes, const Tag& tag);
// True for anything the attacker sent: RTP with fill 0xaa, or kAttackMarker anywhere.
bool carries_attack_marker(std::span<const std::uint8_t> bytes);

// Whose packet a receiver holds: by the attacker's marker first, then by the legitimate
// parties' SSRC or RTP fill byte, or their WebRTC tag.
enum class Origin { caller, callee, attacker, unknown };
std::string_view to_string(Origin origin);
struct Parties {
  std::uint32_t caller_ssrc = 0;
  std::uint8_t caller_fill = 0;
  std::uint32_t callee_ssrc = 0;
  std::uint8_t callee_fill = 0;
};
Origin origin_of(std::span<const std::uint8_t> bytes, const Parties& parties);

}  // namespace mpx::test::attack
