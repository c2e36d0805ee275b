// Network namespaces for the forwarder's BPF_PROG_TEST_RUN fixtures. bpf_fib_lookup resolves in
// the namespace of the thread that runs the test (XDP: the ingress device's; TC: current's), so
// a test that wants a known fib result moves its thread into a fresh namespace for its lifetime:
//   - FreshNetns: empty (loopback only, IPv4 forwarding off): every lookup is FWD_DISABLED.
//   - ForwardingNetns: a relay-like host built with `ip` (children inherit the thread's
//     namespace), forwarding on:
//
//       in0 10.1.0.1/24 (02:00:0a:01:00:01) -- caller 10.1.0.10 (02:00:0a:01:00:0a), static
//       out0 10.2.0.1/24 (02:00:0a:02:00:01, MTU 1000) -- callee 10.2.0.20 (02:00:0a:02:00:14),
//            static; 10.2.0.30 has no neighbour entry
//       lo 203.0.113.1/32 (the relay's public address)
//       unreachable 198.18.0.0/15; nothing else is routed (no default route)
//
// Both switch the thread back on destruction; the namespace disappears with its last user.
#pragma once

#include <cstdint>
#include <string>

#include "tests/bpf/packet_builder.hpp"

namespace mpx::test {

class FreshNetns {
 public:
  // Throws std::runtime_error when unshare/setns fail (needs CAP_SYS_ADMIN).
  FreshNetns();
  ~FreshNetns();
  FreshNetns(const FreshNetns&) = delete;
  FreshNetns& operator=(const FreshNetns&) = delete;

 private:
  int original_ = -1;
};

struct ForwardingHost {
  static constexpr Ipv4Address kRelayPublic{203, 0, 113, 1};
  static constexpr Ipv4Address kCaller{10, 1, 0, 10};
  static constexpr Ipv4Address kCallee{10, 2, 0, 20};
  static constexpr Ipv4Address kCalleeNoNeighbour{10, 2, 0, 30};
  static constexpr Ipv4Address kUnreachable{198, 18, 0, 5};
  static constexpr Ipv4Address kUnrouted{192, 0, 2, 99};
  static constexpr MacAddress kIn0Mac{0x02, 0x00, 0x0a, 0x01, 0x00, 0x01};
  static constexpr MacAddress kCallerMac{0x02, 0x00, 0x0a, 0x01, 0x00, 0x0a};
  static constexpr MacAddress kOut0Mac{0x02, 0x00, 0x0a, 0x02, 0x00, 0x01};
  static constexpr MacAddress kCalleeMac{0x02, 0x00, 0x0a, 0x02, 0x00, 0x14};
  static constexpr std::uint32_t kOut0Mtu = 1000;
};

class ForwardingNetns {
 public:
  // Throws std::runtime_error with the failing command's output.
  ForwardingNetns();

  std::uint32_t in0() const { return in0_; }
  std::uint32_t out0() const { return out0_; }

 private:
  FreshNetns netns_;
  std::uint32_t in0_ = 0;
  std::uint32_t out0_ = 0;
};

}  // namespace mpx::test
