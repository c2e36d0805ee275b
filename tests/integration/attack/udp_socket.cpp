// UdpSocket (see udp_socket.hpp).
#include "tests/integration/attack/udp_socket.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

#include "tests/support/inet.hpp"

namespace mpx::test::attack {

UdpSocket::UdpSocket(const NetnsLab& lab, const std::string& role, const std::string& ip,
                     std::uint16_t port)
    : fd_(bound_udp_socket(lab, role, ip, port)) {
  // A large receive buffer: a receiver thread may fall behind a spray for a moment, and a
  // datagram dropped by the socket would go uncounted.
  const int buffer = 4 << 20;
  (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  sockaddr_in bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.sin_port);
}

UdpSocket::~UdpSocket() { ::close(fd_); }

bool UdpSocket::send_to(const std::string& ip, std::uint16_t port,
                        std::span<const std::uint8_t> bytes) const {
  const sockaddr_in to = ipv4_sockaddr(ip, port);
  return ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof to) == static_cast<ssize_t>(bytes.size());
}

std::optional<Datagram> UdpSocket::receive(std::chrono::milliseconds timeout) const {
  if (timeout.count() > 0 && wait_readable({fd_}, timeout).empty()) {
    return std::nullopt;
  }
  std::array<std::uint8_t, 2048> buffer{};
  sockaddr_in from{};
  socklen_t length = sizeof from;
  const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &length);
  if (n < 0) {
    return std::nullopt;  // nothing queued, or an ICMP error reported on the socket
  }
  Datagram datagram;
  datagram.bytes.assign(buffer.begin(), buffer.begin() + n);
  datagram.source = endpoint_of(from);
  datagram.arrival = std::chrono::steady_clock::now();
  return datagram;
}

std::vector<int> wait_readable(const std::vector<int>& fds, std::chrono::milliseconds timeout) {
  std::vector<pollfd> polled;
  polled.reserve(fds.size());
  for (const int fd : fds) {
    polled.push_back({fd, POLLIN, 0});
  }
  std::vector<int> ready;
  if (::poll(polled.data(), polled.size(), static_cast<int>(timeout.count())) <= 0) {
    return ready;
  }
  for (const auto& p : polled) {
    if ((p.revents & (POLLIN | POLLERR)) != 0) {
      ready.push_back(p.fd);
    }
  }
  return ready;
}

}  // namespace mpx::test::attack
