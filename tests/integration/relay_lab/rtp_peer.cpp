// RtpPeer (see rtp_peer.hpp).
#include "tests/integration/relay_lab/rtp_peer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "tests/support/big_endian.hpp"
#include "tests/support/inet.hpp"

namespace mpx::test::relay_lab {

namespace {

ReceivedPacket decode(const std::uint8_t* bytes, std::size_t size, std::string source) {
  ReceivedPacket packet;
  packet.source = std::move(source);
  packet.size = size;
  if (size >= 8) {
    packet.rtcp = bytes[1] >= 200 && bytes[1] <= 204;
    packet.ssrc = get32({bytes, size}, packet.rtcp ? 4 : 8);
  }
  if (!packet.rtcp && size > kRtpHeader) {
    packet.fill = bytes[kRtpHeader];
  }
  if (!packet.rtcp && size >= 4) {
    packet.sequence = get16({bytes, size}, 2);
  }
  packet.arrival = std::chrono::steady_clock::now();
  packet.bytes.assign(bytes, bytes + size);
  return packet;
}

}  // namespace

std::vector<std::uint8_t> rtp_packet(std::uint32_t ssrc, std::uint16_t sequence,
                                     std::uint32_t timestamp, std::uint8_t fill) {
  std::vector<std::uint8_t> packet(kRtpPacket, fill);
  packet[0] = 0x80;
  packet[1] = kRtpPayloadType;
  put16(packet, 2, sequence);
  put32(packet, 4, timestamp);
  put32(packet, 8, ssrc);
  return packet;
}

std::vector<std::uint8_t> rtcp_sender_report(std::uint32_t ssrc, std::uint32_t ntp_seconds,
                                             std::uint32_t rtp_timestamp, std::uint32_t packets,
                                             std::uint32_t octets) {
  std::vector<std::uint8_t> packet(kRtcpPacket, 0);
  packet[0] = 0x80;  // V=2, no padding, no report blocks
  packet[1] = kRtcpSenderReport;
  put16(packet, 2, static_cast<std::uint16_t>(kRtcpPacket / 4 - 1));
  put32(packet, 4, ssrc);
  put32(packet, 8, ntp_seconds);
  put32(packet, 16, rtp_timestamp);
  put32(packet, 20, packets);
  put32(packet, 24, octets);
  return packet;
}

std::string endpoint(const std::string& ip, std::uint16_t port) {
  return ip + ":" + std::to_string(port);
}

RtpPeer::RtpPeer(const NetnsLab& lab, const std::string& role, const std::string& ip,
                 std::uint16_t port)
    : ip_(ip), port_(port) {
  fd_ = bound_udp_socket(lab, role, ip, port);
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
    auto packet = decode(buffer.data(), static_cast<std::size_t>(n), endpoint_of(from));
    std::lock_guard lock(mutex_);
    received_.push_back(std::move(packet));
  }
}

bool RtpPeer::send_raw(const std::string& to_ip, std::uint16_t to_port,
                       const std::vector<std::uint8_t>& bytes) {
  const sockaddr_in to = ipv4_sockaddr(to_ip, to_port);
  return ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == static_cast<ssize_t>(bytes.size());
}

int RtpPeer::send_rtp(const std::string& to_ip, std::uint16_t to_port, int count,
                      const SendPlan& plan) {
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    const auto packet = rtp_packet(plan.ssrc, sequence_++, timestamp_, plan.fill);
    timestamp_ += static_cast<std::uint32_t>(kRtpPayload);
    sent += send_raw(to_ip, to_port, packet) ? 1 : 0;
    std::this_thread::sleep_for(plan.interval);
  }
  return sent;
}

int RtpPeer::send_rtcp(const std::string& to_ip, std::uint16_t to_port, int count,
                       const SendPlan& plan) {
  int sent = 0;
  for (int i = 0; i < count; ++i) {
    const auto packet = rtcp_sender_report(
        plan.ssrc, 0xe8000000U + static_cast<std::uint32_t>(i), timestamp_, sequence_,
        static_cast<std::uint32_t>(std::size_t{sequence_} * kRtpPayload));
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
