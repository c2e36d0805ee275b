// IPv4 UDP helpers (see inet.hpp).
#include "tests/support/inet.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mpx::test {

sockaddr_in ipv4_sockaddr(const std::string& ip, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + ip);
  }
  return address;
}

std::string endpoint_of(const sockaddr_in& address) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
}

int bound_udp_socket(const NetnsLab& lab, const std::string& role, const std::string& ip,
                     std::uint16_t port) {
  const sockaddr_in address = ipv4_sockaddr(ip, port);
  int fd = -1;
  lab.in_ns(role, [&] { fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (fd < 0) {
    throw std::runtime_error("socket() failed in " + role + ": " + std::strerror(errno));
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("bind " + ip + ":" + std::to_string(port) + " in " + role +
                             " failed: " + std::strerror(error));
  }
  return fd;
}

}  // namespace mpx::test
