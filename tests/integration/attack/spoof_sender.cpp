// SpoofSender (see spoof_sender.hpp).
#include "tests/integration/attack/spoof_sender.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tests/support/big_endian.hpp"
#include "tests/support/inet.hpp"

namespace mpx::test::attack {
namespace {

constexpr std::size_t kIpHeader = 20;
constexpr std::size_t kUdpHeader = 8;

// The address in host byte order; throws std::invalid_argument when not dotted IPv4.
std::uint32_t address(const std::string& ip) {
  return ntohl(ipv4_sockaddr(ip, 0).sin_addr.s_addr);
}

// RFC 1071 ones' complement sum of 16-bit words, folded.
std::uint32_t add_words(std::uint32_t sum, std::span<const std::uint8_t> bytes) {
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  }
  if (bytes.size() % 2 != 0) {
    sum += static_cast<std::uint32_t>(bytes.back() << 8);
  }
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffffU) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

std::vector<std::uint8_t> forged_udp_datagram(const std::string& source_ip,
                                              std::uint16_t source_port,
                                              const std::string& destination_ip,
                                              std::uint16_t destination_port,
                                              std::span<const std::uint8_t> payload) {
  const std::uint32_t source = address(source_ip);
  const std::uint32_t destination = address(destination_ip);
  const std::size_t udp_length = kUdpHeader + payload.size();
  std::vector<std::uint8_t> datagram(kIpHeader + udp_length, 0);
  datagram[0] = 0x45;  // IPv4, 5 words of header
  put16(datagram, 2, static_cast<std::uint16_t>(datagram.size()));
  datagram[8] = 64;  // TTL
  datagram[9] = IPPROTO_UDP;
  put32(datagram, 12, source);
  put32(datagram, 16, destination);
  put16(datagram, 10, fold(add_words(0, {datagram.data(), kIpHeader})));

  put16(datagram, kIpHeader, source_port);
  put16(datagram, kIpHeader + 2, destination_port);
  put16(datagram, kIpHeader + 4, static_cast<std::uint16_t>(udp_length));
  std::memcpy(datagram.data() + kIpHeader + kUdpHeader, payload.data(), payload.size());
  // The UDP checksum covers the pseudo-header (addresses, protocol, length) as well.
  std::uint32_t sum = (source >> 16) + (source & 0xffffU) + (destination >> 16) +
                      (destination & 0xffffU) + IPPROTO_UDP +
                      static_cast<std::uint32_t>(udp_length);
  sum = add_words(sum, {datagram.data() + kIpHeader, udp_length});
  std::uint16_t checksum = fold(sum);
  if (checksum == 0) {
    checksum = 0xffff;  // 0 means "no checksum" in UDP over IPv4
  }
  put16(datagram, kIpHeader + 6, checksum);
  return datagram;
}

SpoofSender::SpoofSender(const NetnsLab& lab, const std::string& role) {
  lab.in_ns(role, [&] { fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW); });
  if (fd_ < 0) {
    throw std::runtime_error("raw socket in " + role + " failed: " + std::strerror(errno));
  }
}

SpoofSender::~SpoofSender() { ::close(fd_); }

bool SpoofSender::send(const std::string& source_ip, std::uint16_t source_port,
                       const std::string& destination_ip, std::uint16_t destination_port,
                       std::span<const std::uint8_t> payload) {
  const auto datagram =
      forged_udp_datagram(source_ip, source_port, destination_ip, destination_port, payload);
  const sockaddr_in to = ipv4_sockaddr(destination_ip, 0);
  const bool ok =
      ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to) == static_cast<ssize_t>(datagram.size());
  if (ok) {
    ++sent_;
  }
  return ok;
}

}  // namespace mpx::test::attack
