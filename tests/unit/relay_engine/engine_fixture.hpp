// Shared pieces of the relay_engine suite: loopback peers (caller / callee / attacker, each an
// RTP + RTCP socket pair on its own 127.x address), RTP and RTCP packet builders, a recording
// Datapath (wraps UserspaceDatapath, records install/remove calls, can fail installs on demand),
// free relay port ranges picked at random in a high range, and bounded pumping of an io_context.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/result.hpp"
#include "relay/session/types.hpp"
#include "userspace/datapath.hpp"
#include "userspace/socket/userspace_datapath.hpp"

namespace mpx::relay::test {

using Bytes = std::vector<std::uint8_t>;
using datapath::Endpoint;

inline Endpoint endpoint(const char* address, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address_v4(address), port);
}

inline session::Endpoint to_session(const Endpoint& e) {
  return {e.address().to_v4(), e.port()};
}

inline std::mt19937& random_engine() {
  static std::mt19937 random(static_cast<unsigned>(::getpid()) * 7919u +
                             static_cast<unsigned>(
                                 std::chrono::steady_clock::now().time_since_epoch().count()));
  return random;
}

// RTP: version 2, PT 8 (PCMA), the given SSRC and sequence number, `payload` bytes of filler.
inline Bytes rtp_packet(std::uint32_t ssrc, std::uint16_t seq, std::size_t payload = 160,
                        std::uint8_t fill = 0xd5) {
  Bytes p(12 + payload, fill);
  p[0] = 0x80;
  p[1] = 8;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  p[4] = p[5] = p[6] = p[7] = 0;  // timestamp
  p[8] = static_cast<std::uint8_t>(ssrc >> 24);
  p[9] = static_cast<std::uint8_t>(ssrc >> 16);
  p[10] = static_cast<std::uint8_t>(ssrc >> 8);
  p[11] = static_cast<std::uint8_t>(ssrc);
  return p;
}

// RTCP receiver report without report blocks (8 bytes): version 2, PT 201, sender SSRC.
inline Bytes rtcp_packet(std::uint32_t ssrc) {
  return Bytes{0x80,
               201,
               0,
               1,
               static_cast<std::uint8_t>(ssrc >> 24),
               static_cast<std::uint8_t>(ssrc >> 16),
               static_cast<std::uint8_t>(ssrc >> 8),
               static_cast<std::uint8_t>(ssrc)};
}

struct Datagram {
  Endpoint source;
  Bytes data;
};

// One UDP socket bound to `address`:`port` (port 0: kernel's choice; bound() says if it worked).
class Socket {
 public:
  Socket(const char* address, std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &bound.sin_addr);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&bound), sizeof bound) == 0;
    socklen_t length = sizeof bound;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    endpoint_ = Endpoint(boost::asio::ip::address_v4(ntohl(bound.sin_addr.s_addr)),
                         ntohs(bound.sin_port));
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool bound() const { return bound_; }
  const Endpoint& endpoint() const { return endpoint_; }

  void send(const Endpoint& to, const Bytes& data) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(to.port());
    address.sin_addr.s_addr = htonl(to.address().to_v4().to_uint());
    const auto sent = ::sendto(fd_, data.data(), data.size(), 0,
                               reinterpret_cast<const sockaddr*>(&address), sizeof address);
    EXPECT_EQ(sent, static_cast<ssize_t>(data.size()));
  }

  void collect() {
    std::uint8_t buffer[65536];
    for (;;) {
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const auto got = ::recvfrom(fd_, buffer, sizeof buffer, MSG_DONTWAIT,
                                  reinterpret_cast<sockaddr*>(&from), &length);
      if (got < 0) return;
      received_.push_back(
          Datagram{Endpoint(boost::asio::ip::address_v4(ntohl(from.sin_addr.s_addr)),
                            ntohs(from.sin_port)),
                   Bytes(buffer, buffer + got)});
    }
  }
  std::vector<Datagram>& received() { return received_; }

 private:
  int fd_ = -1;
  bool bound_ = false;
  Endpoint endpoint_;
  std::vector<Datagram> received_;
};

// A SIP endpoint's media: RTP on an even port, RTCP on the next one, both on `address`.
class Peer {
 public:
  explicit Peer(const char* address) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(20000 + 2 * (random_engine()() % 9000));
      auto rtp = std::make_unique<Socket>(address, port);
      auto rtcp = std::make_unique<Socket>(address, static_cast<std::uint16_t>(port + 1));
      if (rtp->bound() && rtcp->bound()) {
        rtp_ = std::move(rtp);
        rtcp_ = std::move(rtcp);
        return;
      }
    }
    ADD_FAILURE() << "no free port pair on " << address;
    rtp_ = std::make_unique<Socket>(address, 0);
    rtcp_ = std::make_unique<Socket>(address, 0);
  }
  Socket& rtp() { return *rtp_; }
  Socket& rtcp() { return *rtcp_; }
  const Endpoint& rtp_endpoint() const { return rtp_->endpoint(); }
  const Endpoint& rtcp_endpoint() const { return rtcp_->endpoint(); }
  void collect() {
    rtp_->collect();
    rtcp_->collect();
  }
  std::size_t received_count() const { return rtp_->received().size() + rtcp_->received().size(); }

 private:
  std::unique_ptr<Socket> rtp_;
  std::unique_ptr<Socket> rtcp_;
};

// A relay port range of `pairs` free pairs on 127.0.0.1 (probed with throw-away sockets).
inline config::PortRange free_range(std::uint32_t pairs) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto start = static_cast<std::uint32_t>(47000 + 2 * (random_engine()() % 6000));
    bool all_free = true;
    for (std::uint32_t port = start; port < start + 2 * pairs && all_free; ++port) {
      Socket probe("127.0.0.1", static_cast<std::uint16_t>(port));
      all_free = probe.bound();
    }
    if (all_free) return config::PortRange{start, start + 2 * pairs};
  }
  ADD_FAILURE() << "no free relay port range";
  return config::PortRange{47000, 47000 + 2 * pairs};
}

// A test double of the Datapath interface: forwards to UserspaceDatapath, records install and
// remove calls (successful or not), and fails installs while fail_installs is set.
class RecordingDatapath final : public datapath::Datapath {
 public:
  explicit RecordingDatapath(datapath::MediaSockets& sockets) : inner_(sockets) {}

  std::string name() const override { return "recording-userspace"; }
  Result<void> install(const datapath::Flow& flow) override {
    install_attempts.push_back(flow);
    if (fail_installs) return Error{"install refused by the test"};
    auto done = inner_.install(flow);
    if (done) installs.push_back(flow);
    return done;
  }
  Result<datapath::FlowCounters> remove(const datapath::Flow& flow) override {
    removes.push_back(flow);
    return inner_.remove(flow);
  }
  Result<datapath::FlowCounters> counters(const datapath::Flow& flow) override {
    return inner_.counters(flow);
  }
  std::vector<datapath::Flow> flows() const override { return inner_.flows(); }

  bool fail_installs = false;
  std::vector<datapath::Flow> install_attempts;
  std::vector<datapath::Flow> installs;  // successful ones
  std::vector<datapath::Flow> removes;

 private:
  datapath::UserspaceDatapath inner_;
};

// Runs `io` (and lets the peers collect) until `done` or `limit` passed; true if done.
inline bool pump_until(boost::asio::io_context& io, const std::function<bool()>& done,
                       std::vector<Peer*> peers = {},
                       std::chrono::milliseconds limit = std::chrono::milliseconds(2000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(1));
    for (Peer* peer : peers) peer->collect();
    if (done()) return true;
  }
  return done();
}

// Runs `io` for `duration` (to show that something does NOT happen).
inline void pump_for(boost::asio::io_context& io, std::chrono::milliseconds duration,
                     std::vector<Peer*> peers = {}) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_for(std::chrono::milliseconds(1));
    for (Peer* peer : peers) peer->collect();
  }
}

}  // namespace mpx::relay::test
