// WebRtcPeer: a WebRTC-like endpoint that speaks only ICE connectivity checks and the start of
// a DTLS handshake on its media socket, as a browser does before any RTP. The offering side
// sends STUN binding requests (every 50 ms) until it gets a STUN success response, and a DTLS
// ClientHello (every 500 ms) until it gets a DTLS handshake record back. The answering side
// sends nothing of its own: it answers each STUN binding request with a binding success (same
// transaction id) and each ClientHello with a HelloVerifyRequest, to the request's source.
// Both count what crossed each way and record every packet's source.
//
// Bounded: one thread, stopped by stop() or after max_duration; waits are 5 ms polls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tests/integration/attack/attack_packets.hpp"
#include "tests/integration/attack/udp_socket.hpp"
#include "tests/support/netns_lab.hpp"

namespace mpx::test::attack {

struct WebRtcCounts {
  std::uint64_t stun_requests_sent = 0;
  std::uint64_t client_hellos_sent = 0;
  std::uint64_t stun_responses_sent = 0;
  std::uint64_t hello_verifies_sent = 0;
  std::uint64_t stun_requests_received = 0;
  std::uint64_t client_hellos_received = 0;
  std::uint64_t stun_responses_received = 0;
  std::uint64_t hello_verifies_received = 0;
  std::uint64_t attacker_received = 0;  // marked packets (also counted below)
  std::uint64_t other_received = 0;     // anything not counted above
  std::uint64_t sent() const {
    return stun_requests_sent + client_hellos_sent + stun_responses_sent + hello_verifies_sent;
  }
  std::uint64_t received() const {
    return stun_requests_received + client_hellos_received + stun_responses_received +
           hello_verifies_received + other_received;
  }
};

class WebRtcPeer {
 public:
  enum class Role { offerer, answerer };

  WebRtcPeer(const NetnsLab& lab, const std::string& ns_role, const std::string& ip,
             std::uint16_t port, Role role, const Tag& tag);
  ~WebRtcPeer();  // stop()
  WebRtcPeer(const WebRtcPeer&) = delete;
  WebRtcPeer& operator=(const WebRtcPeer&) = delete;

  // Starts the thread. The offerer sends its checks to to_ip:to_port; the answerer ignores them.
  void start(const std::string& to_ip, std::uint16_t to_port,
             std::chrono::milliseconds max_duration = std::chrono::seconds(10));
  void stop();

  WebRtcCounts counts() const;
  // Received packets by source "ip:port".
  std::map<std::string, std::uint64_t> sources() const;
  std::uint16_t port() const { return socket_->local_port(); }

 private:
  void run(std::string to_ip, std::uint16_t to_port, std::chrono::milliseconds max_duration);
  void on_datagram(const Datagram& datagram);

  std::unique_ptr<UdpSocket> socket_;
  Role role_;
  Tag tag_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  WebRtcCounts counts_;
  std::map<std::string, std::uint64_t> sources_;
  std::thread thread_;
};

}  // namespace mpx::test::attack
