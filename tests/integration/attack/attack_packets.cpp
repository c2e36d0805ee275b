// Packet formats and origin classification of the attack scenarios (see attack_packets.hpp).
#include "tests/integration/attack/attack_packets.hpp"

#include <algorithm>

#include "tests/support/big_endian.hpp"

namespace mpx::test::attack {
namespace {

using relay_lab::kRtpHeader;

constexpr std::uint16_t kStunSoftware = 0x8022;
constexpr std::size_t kStunHeader = 20;
constexpr std::size_t kDtlsRecordHeader = 13;
constexpr std::size_t kDtlsHandshakeHeader = 12;

std::uint32_t random_ssrc(std::mt19937& random, std::uint32_t avoid_a, std::uint32_t avoid_b) {
  std::uint32_t ssrc = 0;
  do {
    ssrc = static_cast<std::uint32_t>(random());
  } while (ssrc == avoid_a || ssrc == avoid_b);
  return ssrc;
}

// A first byte RFC 7983 leaves to "other": 4-15, 80-127 or 192-255.
std::uint8_t other_first_byte(std::mt19937& random) {
  constexpr int kChoices = 12 + 48 + 64;
  const int pick = std::uniform_int_distribution<int>(0, kChoices - 1)(random);
  if (pick < 12) {
    return static_cast<std::uint8_t>(4 + pick);
  }
  if (pick < 12 + 48) {
    return static_cast<std::uint8_t>(80 + pick - 12);
  }
  return static_cast<std::uint8_t>(192 + pick - 60);
}

}  // namespace

std::string_view to_string(SprayKind kind) {
  switch (kind) {
    case SprayKind::rtp:
      return "rtp";
    case SprayKind::rtcp:
      return "rtcp";
    case SprayKind::stun:
      return "stun";
    case SprayKind::dtls:
      return "dtls";
    case SprayKind::other:
      return "other";
  }
  return "?";
}

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::caller:
      return "caller";
    case Origin::callee:
      return "callee";
    case Origin::attacker:
      return "attacker";
    case Origin::unknown:
      return "unknown";
  }
  return "?";
}

Bytes stun_message(std::uint16_t type, const TransactionId& transaction, const Tag& sender) {
  static constexpr std::array<std::uint8_t, 4> kSoftware{'-', 'l', 'a', 'b'};
  constexpr std::size_t kValue = 8;  // the sender's tag, then kSoftware
  Bytes message(kStunHeader + 4 + kValue, 0);
  put16(message, 0, type);
  put16(message, 2, static_cast<std::uint16_t>(4 + kValue));
  put32(message, 4, kStunMagicCookie);
  std::copy(transaction.begin(), transaction.end(), message.begin() + 8);
  put16(message, kStunHeader, kStunSoftware);
  put16(message, kStunHeader + 2, static_cast<std::uint16_t>(kValue));
  std::copy(sender.begin(), sender.end(), message.begin() + kStunHeader + 4);
  std::copy(kSoftware.begin(), kSoftware.end(), message.begin() + kStunHeader + 8);
  return message;
}

std::optional<Tag> stun_sender(std::span<const std::uint8_t> bytes) {
  if (!stun_type(bytes) || bytes.size() < kStunHeader + 8 ||
      get16(bytes, kStunHeader) != kStunSoftware) {
    return std::nullopt;
  }
  Tag tag{};
  std::copy(bytes.begin() + kStunHeader + 4, bytes.begin() + kStunHeader + 8, tag.begin());
  return tag;
}

Bytes dtls_record(std::uint8_t handshake_type, std::uint16_t record_sequence, const Tag& tag) {
  Bytes body;
  if (handshake_type == kDtlsHelloVerifyRequest) {
    body = {0xfe, 0xff, 16};  // server_version (DTLS 1.0, as RFC 6347 asks), cookie length
    body.insert(body.end(), tag.begin(), tag.end());
    body.resize(body.size() + 12, 0x5a);
  } else {
    body = {0xfe, 0xfd};                              // client_version DTLS 1.2
    body.insert(body.end(), tag.begin(), tag.end());  // random: tag first
    body.resize(2 + 32, 0x3c);
    body.insert(body.end(), {0,                 // session id length
                             0,                 // cookie length
                             0, 2, 0xc0, 0x2b,  // one cipher suite
                             1, 0});            // one compression method: null
  }
  Bytes record(kDtlsRecordHeader + kDtlsHandshakeHeader + body.size(), 0);
  record[0] = kDtlsHandshake;
  record[1] = 0xfe;
  record[2] = 0xfd;
  put16(record, 9, record_sequence);  // epoch 0, 48-bit sequence number: the low 16 bits
  put16(record, 11, static_cast<std::uint16_t>(kDtlsHandshakeHeader + body.size()));
  record[13] = handshake_type;
  put24(record, 14, static_cast<std::uint32_t>(body.size()));  // length
  put16(record, 17, 0);                                        // message_seq
  put24(record, 19, 0);                                        // fragment_offset
  put24(record, 22, static_cast<std::uint32_t>(body.size()));  // fragment_length
  std::copy(body.begin(), body.end(), record.begin() + kDtlsRecordHeader + kDtlsHandshakeHeader);
  return record;
}

Bytes other_packet(std::mt19937& random) {
  const auto size = static_cast<std::size_t>(std::uniform_int_distribution<int>(24, 63)(random));
  Bytes packet(size, 0);
  packet[0] = other_first_byte(random);
  std::copy(kAttackMarker.begin(), kAttackMarker.end(), packet.begin() + 1);
  for (std::size_t i = 1 + kAttackMarker.size(); i < size; ++i) {
    packet[i] = static_cast<std::uint8_t>(random());
  }
  return packet;
}

Bytes attacker_packet(SprayKind kind, std::mt19937& random, std::uint32_t avoid_ssrc_a,
                      std::uint32_t avoid_ssrc_b) {
  switch (kind) {
    case SprayKind::rtp:
      return rtp_packet(random_ssrc(random, avoid_ssrc_a, avoid_ssrc_b),
                        static_cast<std::uint16_t>(random()), static_cast<std::uint32_t>(random()),
                        kAttackerFill);
    case SprayKind::rtcp: {
      std::uint32_t marker = 0;
      for (const auto byte : kAttackMarker) {
        marker = (marker << 8) | byte;
      }
      return rtcp_sender_report(random_ssrc(random, avoid_ssrc_a, avoid_ssrc_b), marker,
                                static_cast<std::uint32_t>(random()), 0, 0);
    }
    case SprayKind::stun: {
      TransactionId id{};
      std::copy(kAttackMarker.begin(), kAttackMarker.end(), id.begin());
      for (std::size_t i = kAttackMarker.size(); i < id.size(); ++i) {
        id[i] = static_cast<std::uint8_t>(random());
      }
      return stun_message(kStunBindingRequest, id, kAttackMarker);
    }
    case SprayKind::dtls:
      return dtls_record(kDtlsClientHello, static_cast<std::uint16_t>(random()), kAttackMarker);
    case SprayKind::other:
      return other_packet(random);
  }
  return {};
}

bool is_rtp(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= kRtpHeader && bytes[0] >= 128 && bytes[0] <= 191 &&
         !(bytes[1] >= 192 && bytes[1] <= 223);
}

bool is_rtcp(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 8 && bytes[0] >= 128 && bytes[0] <= 191 && bytes[1] >= 192 &&
         bytes[1] <= 223;
}

std::optional<std::uint32_t> ssrc_of(std::span<const std::uint8_t> bytes) {
  if (is_rtcp(bytes)) {
    return get32(bytes, 4);
  }
  if (is_rtp(bytes)) {
    return get32(bytes, 8);
  }
  return std::nullopt;
}

std::optional<std::uint16_t> stun_type(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kStunHeader || bytes[0] > 3 || get32(bytes, 4) != kStunMagicCookie) {
    return std::nullopt;
  }
  return get16(bytes, 0);
}

std::optional<TransactionId> stun_transaction(std::span<const std::uint8_t> bytes) {
  if (!stun_type(bytes)) {
    return std::nullopt;
  }
  TransactionId id{};
  std::copy(bytes.begin() + 8, bytes.begin() + 20, id.begin());
  return id;
}

std::optional<std::uint8_t> dtls_handshake_type(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kDtlsRecordHeader + 1 || bytes[0] != kDtlsHandshake || bytes[1] != 0xfe ||
      bytes[2] != 0xfd) {
    return std::nullopt;
  }
  return bytes[kDtlsRecordHeader];
}

bool contains_tag(std::span<const std::uint8_t> bytes, const Tag& tag) {
  return std::search(bytes.begin(), bytes.end(), tag.begin(), tag.end()) != bytes.end();
}

bool carries_attack_marker(std::span<const std::uint8_t> bytes) {
  if (is_rtp(bytes) && bytes.size() > kRtpHeader && bytes[kRtpHeader] == kAttackerFill) {
    return true;
  }
  return contains_tag(bytes, kAttackMarker);
}

Origin origin_of(std::span<const std::uint8_t> bytes, const Parties& parties) {
  if (carries_attack_marker(bytes)) {
    return Origin::attacker;
  }
  if (is_rtp(bytes) || is_rtcp(bytes)) {
    const std::uint32_t ssrc = *ssrc_of(bytes);
    const bool rtp_fill = is_rtp(bytes) && bytes.size() > kRtpHeader;
    if (ssrc == parties.caller_ssrc || (rtp_fill && bytes[kRtpHeader] == parties.caller_fill)) {
      return Origin::caller;
    }
    if (ssrc == parties.callee_ssrc || (rtp_fill && bytes[kRtpHeader] == parties.callee_fill)) {
      return Origin::callee;
    }
    return Origin::unknown;
  }
  if (const auto sender = stun_sender(bytes)) {
    return *sender == kCallerTag   ? Origin::caller
           : *sender == kCalleeTag ? Origin::callee
                                   : Origin::unknown;
  }
  if (dtls_handshake_type(bytes)) {
    if (contains_tag(bytes, kCallerTag)) {
      return Origin::caller;
    }
    if (contains_tag(bytes, kCalleeTag)) {
      return Origin::callee;
    }
  }
  return Origin::unknown;
}

}  // namespace mpx::test::attack
