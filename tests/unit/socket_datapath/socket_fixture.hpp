// Test fixture of the socket datapath suite: an io_context driving MediaSockets whose Receiver
// records punted packets, loopback "peers" (plain non-blocking UDP sockets on 127.x addresses
// with kernel-chosen ports) standing for the SIP endpoints, relay ports picked from a high
// range with retry, and bounded pumping of the io_context.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "userspace/socket/media_sockets.hpp"

namespace mpx::datapath::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

inline Endpoint endpoint(const char* address, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address_v4(address), port);
}

struct Datagram {
  Endpoint source;
  Bytes data;
};

// A remote endpoint (caller, callee, stranger): a UDP socket bound to `address`:0.
class Peer {
 public:
  explicit Peer(const char* address) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    const int buffer = 4 * 1024 * 1024;  // capped by rmem_max; the tests pace their bursts
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    ::inet_pton(AF_INET, address, &bound.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&bound), sizeof bound), 0);
    socklen_t length = sizeof bound;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length);
    endpoint_ = Endpoint(boost::asio::ip::address_v4(ntohl(bound.sin_addr.s_addr)),
                         ntohs(bound.sin_port));
  }
  ~Peer() { ::close(fd_); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  void send(const Endpoint& to, std::span<const std::uint8_t> data) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(to.port());
    address.sin_addr.s_addr = htonl(to.address().to_v4().to_uint());
    const auto sent = ::sendto(fd_, data.data(), data.size(), 0,
                               reinterpret_cast<const sockaddr*>(&address), sizeof address);
    EXPECT_EQ(sent, static_cast<ssize_t>(data.size()));
  }
  void send(const Endpoint& to, const std::string& text) const { send(to, bytes_of(text)); }

  // Reads every datagram waiting into received().
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
  Endpoint endpoint_;
  std::vector<Datagram> received_;
};

struct Punted {
  Endpoint local;
  Endpoint source;
  Bytes data;
  std::chrono::steady_clock::time_point received;
};

class SocketTest : public ::testing::Test {
 protected:
  SocketTest()
      : sockets_(io_.get_executor(), [this](const MediaSockets::Packet& packet) {
          punted_.push_back(Punted{packet.local, packet.source,
                                   Bytes(packet.data.begin(), packet.data.end()),
                                   packet.received});
          if (on_punt_) on_punt_(packet);
        }) {}

  // Opens a relay socket on `address` at a free port of a high range (retrying busy ones).
  Endpoint open_relay_port(const char* address = "127.0.0.1") {
    static std::mt19937 random(static_cast<unsigned>(::getpid()) * 7919u);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(40000 + random() % 20000);
      const Endpoint local = endpoint(address, port);
      auto opened = sockets_.open(local);
      if (opened) return local;
      if (opened.error().message.find("Address already in use") == std::string::npos) {
        ADD_FAILURE() << opened.error().message;
        break;
      }
    }
    ADD_FAILURE() << "no free relay port on " << address;
    return endpoint(address, 0);
  }

  // Runs the io_context (and lets the peers collect) until `done` or two seconds passed.
  bool pump_until(const std::function<bool()>& done, std::vector<Peer*> peers = {}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_for(std::chrono::milliseconds(1));
      for (Peer* peer : peers) peer->collect();
      if (done()) return true;
    }
    return done();
  }

  // Runs the io_context for `duration` (to show that something does NOT happen).
  void pump_for(std::chrono::milliseconds duration, std::vector<Peer*> peers = {}) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_for(std::chrono::milliseconds(1));
    }
    for (Peer* peer : peers) peer->collect();
  }

  boost::asio::io_context io_;
  std::vector<Punted> punted_;
  std::function<void(const MediaSockets::Packet&)> on_punt_;
  MediaSockets sockets_;
};

}  // namespace mpx::datapath::test
