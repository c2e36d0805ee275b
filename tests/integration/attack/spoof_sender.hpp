// SpoofSender: UDP datagrams with a forged IPv4 source address and port, sent from a raw socket
// (IPPROTO_RAW, so IP_HDRINCL) inside a lab namespace (the attacker's). The relay's rp_filter is
// 0, so it accepts them as if they came from that source: the scenarios use it to forge packets
// "from" an endpoint's IP on another port. Owns the raw socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::attack {

// The whole IPv4 + UDP datagram (IP header without options, TTL 64, DF clear; the IP and UDP
// checksums filled in).
std::vector<std::uint8_t> forged_udp_datagram(const std::string& source_ip,
                                              std::uint16_t source_port,
                                              const std::string& destination_ip,
                                              std::uint16_t destination_port,
                                              std::span<const std::uint8_t> payload);

class SpoofSender {
 public:
  // Opens the raw socket in the role's namespace; throws std::runtime_error.
  explicit SpoofSender(const NetnsLab& lab, const std::string& role = "attacker");
  ~SpoofSender();
  SpoofSender(const SpoofSender&) = delete;
  SpoofSender& operator=(const SpoofSender&) = delete;

  // True when the kernel took the datagram. Thread-safe.
  bool send(const std::string& source_ip, std::uint16_t source_port,
            const std::string& destination_ip, std::uint16_t destination_port,
            std::span<const std::uint8_t> payload);
  std::uint64_t sent() const { return sent_; }

 private:
  int fd_ = -1;
  std::atomic<std::uint64_t> sent_{0};
};

}  // namespace mpx::test::attack
