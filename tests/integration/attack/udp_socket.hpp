// UdpSocket: one UDP socket bound inside a lab namespace (the sprayer's and the WebRTC-like
// peers' sockets), with bounded waits only. Owns the descriptor; closed on destruction.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::attack {

struct Datagram {
  std::vector<std::uint8_t> bytes;
  std::string source;  // "ip:port"
  std::chrono::steady_clock::time_point arrival;
};

class UdpSocket {
 public:
  // Binds ip:port (port 0: ephemeral) in the role's namespace; throws std::runtime_error.
  UdpSocket(const NetnsLab& lab, const std::string& role, const std::string& ip,
            std::uint16_t port);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  std::uint16_t local_port() const { return port_; }
  // True when sendto() took the whole datagram.
  bool send_to(const std::string& ip, std::uint16_t port,
               std::span<const std::uint8_t> bytes) const;
  // The next datagram, waiting at most `timeout` (0: only what is already queued).
  std::optional<Datagram> receive(std::chrono::milliseconds timeout) const;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Waits (poll, at most `timeout`) until one of `fds` is readable; the readable ones.
std::vector<int> wait_readable(const std::vector<int>& fds, std::chrono::milliseconds timeout);

}  // namespace mpx::test::attack
