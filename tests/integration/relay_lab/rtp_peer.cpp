// RtpPeer (see rtp_peer.hpp).
#include "tests/integration/relay_lab/rtp_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mpx::test::relay_lab {

namespace {

sockaddr_in make_addr(const std::string& ip, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + ip);
  }
  return addr;
}

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
  out[at] = static_cast<std::uint8_t>(value >> 8);
  out[at + 1] = static_cast<std::uint8_t>(value);
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) {
    out[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
  }
}

std::uint32_t get32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

ReceivedPacket decode(const std::uint8_t* bytes, std::size_t size, std::string source) {
  ReceivedPacket packet;
  packet.source = std::move(source);
  packet.size = size;
  if (size >= 8) {
    packet.rtcp = bytes[1] >= 200 && bytes[1] <= 204;
    packet.ssrc = get32(bytes + (packet.rtcp ? 4 : 8));
  }
  if (!packet.rtcp && size > kRtpHeader) {
    packet.fill = bytes[kRtpHeader];
  }
  return packet;
}

}  // namespace

std::string endpoint(const std::string& ip, std::uint16_t port) {
  return ip + ":" + std::to_string(port);
}

RtpPeer::RtpPeer(const NetnsLab& lab, const std::string& role, const std::string& ip,
                 std::uint16_t port)
    : ip_(ip), port_(port) {
  lab.in_ns(role, [&] { fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (fd_ < 0) {
    throw std::runtime_error("socket() failed in " + role + ": " + std::strerror(errno));
  }
  const sockaddr_in addr = make_addr(ip, port);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::runtime_error("bind " + endpoint(ip, port) + " in " + role +
                             " failed: " + std::strerror(error));
  }
  receiver_ = std::thread([this] { receive_loop(); });
}

RtpPeer::~RtpPeer() {
  stopping_ = true;
  receiver_.join();
  ::close(fd_);
}

void RtpPeer::receive_loop() {
  std::array<std::uint8_t, 2048> buffer{};
  while (!stopping_) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) {
      continue;
    }
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) {
      continue;  // an ICMP error reported on the socket, not a datagram
    }
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &from.sin_addr, text, sizeof text);
    auto packet = decode(buffer.data(), static_cast<std::size_t>(n),
                         endpoint(text, ntohs(from.sin_port)));
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(packet));
  }
}

bool RtpPeer::send_raw(const std::string& to_ip, std::uint16_t to_port,
                       const std::vector<std::uint8_t>& bytes) {
  const sockaddr_in to = make_addr(to_ip, to_port);
  return ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == static_cast<ssize_t>(bytes.size());
}

int RtpPeer::send_rtp(const std::string& to_ip, std::uint16_t to_port, int count,
                      const SendPlan& plan) {
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint8_t> packet(kRtpPacket, plan.fill);
    packet[0] = 0x80;
    packet[1] = kRtpPayloadType;
    put16(packet, 2, sequence_++);
    put32(packet, 4, timestamp_);
    timestamp_ += static_cast<std::uint32_t>(kRtpPayload);
    put32(packet, 8, plan.ssrc);
    sent += send_raw(to_ip, to_port, packet) ? 1 : 0;
    std::this_thread::sleep_for(plan.interval);
  }
  return sent;
}

int RtpPeer::send_rtcp(const std::string& to_ip, std::uint16_t to_port, int count,
                       const SendPlan& plan) {
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    std::vector<std::uint8_t> packet(kRtcpPacket, 0);
    packet[0] = 0x80;  // V=2, no padding, no report blocks
    packet[1] = kRtcpSenderReport;
    put16(packet, 2, static_cast<std::uint16_t>(kRtcpPacket / 4 - 1));
    put32(packet, 4, plan.ssrc);
    put32(packet, 8, 0xe8000000U + static_cast<std::uint32_t>(i));  // NTP seconds
    put32(packet, 16, timestamp_);
    put32(packet, 20, sequence_);
    put32(packet, 24, static_cast<std::uint32_t>(std::size_t{sequence_} * kRtpPayload));
    sent += send_raw(to_ip, to_port, packet) ? 1 : 0;
    std::this_thread::sleep_for(plan.interval);
  }
  return sent;
}

std::vector<ReceivedPacket> RtpPeer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::size_t RtpPeer::total() const {
  std::lock_guard lock(mutex_);
  return received_.size();
}

std::size_t RtpPeer::count_if(const std::function<bool(const ReceivedPacket&)>& predicate) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& packet : received_) {
    n += predicate(packet) ? 1U : 0U;
  }
  return n;
}

std::size_t RtpPeer::count_from(const std::string& source) const {
  return count_if([&](const ReceivedPacket& p) { return p.source == source; });
}

std::size_t RtpPeer::count_ssrc(std::uint32_t ssrc) const {
  return count_if([&](const ReceivedPacket& p) { return p.ssrc == ssrc; });
}

std::size_t RtpPeer::count_fill(std::uint8_t fill) const {
  return count_if([&](const ReceivedPacket& p) { return !p.rtcp && p.fill == fill; });
}

std::size_t RtpPeer::wait_from(const std::string& source, std::size_t at_least,
                               std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t n = count_from(source);
  while (n < at_least && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = count_from(source);
  }
  return n;
}

void RtpPeer::clear() {
  std::lock_guard lock(mutex_);
  received_.clear();
}

}  // namespace mpx::test::relay_lab
