// Sprayer: the off-path attacker of the attack scenarios. From a few UDP sockets on the
// attacker's address it sends, at a target rate, round-robin over EVERY port of the relay's
// range, cycling through the RFC 7983 packet kinds (RTP, RTCP sender report, STUN binding
// request, DTLS ClientHello, other), each one marked (attack_packets.hpp). A receiver thread
// counts everything that comes back to those sockets, classified by origin: the legitimate
// caller's or callee's media (bleed), its own bytes reflected, or other.
//
// Bounded: the send thread stops at stop(), after max_duration, or after
// max_duration x rate packets, whichever comes first; every wait is a bounded poll.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/attack/attack_packets.hpp"
#include "tests/integration/attack/udp_socket.hpp"
#include "tests/support/netns_lab.hpp"

namespace mpx::test::attack {

struct SprayerOptions {
  int packets_per_second = 3000;
  std::string target_ip = LabAddresses::kRelayPublic;
  std::uint16_t first_port = 40000;  // the lab relay's whole range (port_range 40000:40100)
  std::uint16_t last_port = 40101;
  std::string role = "attacker";
  std::string local_ip = LabAddresses::kAttacker;
  std::vector<std::uint16_t> local_ports{7000, 7001, 7002, 7003};
  std::chrono::milliseconds max_duration{30000};  // hard stop
  std::uint32_t seed = 0x5eed;
  Parties parties;  // the legitimate media, to classify what comes back
};

struct SprayerReceived {
  std::uint64_t caller = 0;   // legitimate caller media (bleed)
  std::uint64_t callee = 0;   // legitimate callee media (bleed)
  std::uint64_t own = 0;      // the sprayer's own packets reflected back
  std::uint64_t unknown = 0;  // anything else
  std::uint64_t total() const { return caller + callee + own + unknown; }
};

class Sprayer {
 public:
  Sprayer(const NetnsLab& lab, SprayerOptions options);
  ~Sprayer();  // stop()
  Sprayer(const Sprayer&) = delete;
  Sprayer& operator=(const Sprayer&) = delete;

  void start();
  // Stops sending and receiving (joins both threads); idempotent.
  void stop();

  std::uint64_t sent() const;
  std::array<std::uint64_t, kSprayKinds> sent_by_kind() const;
  std::uint64_t send_failures() const { return failures_; }
  // How many packets each relay port was sent (the harness test checks the coverage).
  std::map<std::uint16_t, std::uint64_t> sent_by_port() const;
  // From start() to the last packet sent.
  std::chrono::milliseconds sending_time() const;
  SprayerReceived received() const;
  // What came back, by source "ip:port" (to say where bled media came from).
  std::map<std::string, std::uint64_t> received_by_source() const;
  const SprayerOptions& options() const { return options_; }

 private:
  void send_loop();
  void receive_loop();

  SprayerOptions options_;
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> receiving_{false};
  std::atomic<std::uint64_t> failures_{0};
  mutable std::mutex mutex_;
  std::array<std::uint64_t, kSprayKinds> sent_by_kind_{};
  std::map<std::uint16_t, std::uint64_t> sent_by_port_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_sent_;
  SprayerReceived received_;
  std::map<std::string, std::uint64_t> received_by_source_;
  std::thread sender_;
  std::thread receiver_;
};

}  // namespace mpx::test::attack
