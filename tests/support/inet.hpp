// IPv4 UDP helpers shared by the lab suites (relay_lab's RtpPeer, the attack harness): a
// sockaddr_in from "ip" and port, "ip:port" of a sockaddr_in, and a UDP socket created inside a
// lab namespace and bound there.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "tests/support/netns_lab.hpp"

namespace mpx::test {

// AF_INET address of ip:port; throws std::invalid_argument when `ip` is not dotted IPv4.
sockaddr_in ipv4_sockaddr(const std::string& ip, std::uint16_t port);
// "ip:port" of `address`.
std::string endpoint_of(const sockaddr_in& address);
// A UDP socket (SOCK_CLOEXEC) created in the role's namespace and bound to ip:port (port 0: an
// ephemeral one); returns its descriptor, which stays in that namespace. Throws
// std::runtime_error (nothing left open) when socket() or bind() fails.
int bound_udp_socket(const NetnsLab& lab, const std::string& role, const std::string& ip,
                     std::uint16_t port);

}  // namespace mpx::test
