// endpoint_key: IPv4 UDP endpoints packed into one integer ((address << 16) | port, host order),
// the key of the socket and flow tables, and the conversions between asio endpoints, packed keys
// and sockaddr_in used on the recvmmsg/sendmmsg path. Also the "ip:port" text of error messages.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "userspace/datapath.hpp"

namespace mpx::datapath::socket_detail {

using EndpointKey = std::uint64_t;

// The caller must have checked endpoint.address().is_v4().
EndpointKey key_of(const Endpoint& endpoint);
EndpointKey key_of(const sockaddr_in& address);
sockaddr_in sockaddr_of(const Endpoint& endpoint);
Endpoint endpoint_of(const sockaddr_in& address);

// "203.0.113.1:40000" (asio's formatting, no exceptions).
std::string endpoint_text(const Endpoint& endpoint);
// "10.1.0.10:5000 -> 203.0.113.1:40000 / 203.0.113.1:40002 -> 10.2.0.20:6000"
std::string flow_text(const Flow& flow);

// One leg of a flow as seen by a relay socket: the local socket and the remote peer.
struct LegKey {
  EndpointKey local = 0;
  EndpointKey remote = 0;
  friend bool operator==(const LegKey&, const LegKey&) = default;
  friend bool operator<(const LegKey& a, const LegKey& b) {
    return a.local != b.local ? a.local < b.local : a.remote < b.remote;
  }
};

struct LegKeyHash {
  std::size_t operator()(const LegKey& key) const noexcept {
    // 48-bit keys: multiply-xorshift mixing is enough for an unordered_map's buckets.
    std::uint64_t h = key.local * 0x9E3779B97F4A7C15ULL ^ key.remote;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return static_cast<std::size_t>(h);
  }
};

}  // namespace mpx::datapath::socket_detail
