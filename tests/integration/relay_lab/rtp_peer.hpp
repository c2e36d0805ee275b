// RtpPeer: one UDP endpoint of a call inside a lab namespace (a caller's or callee's RTP or RTCP
// socket, or the attacker's). It sends RTP (version 2, PT 8, 160-byte payload) or RTCP sender
// reports (built by rtp_packet() and rtcp_sender_report(), which the attack harness uses too),
// and a receiver thread records every datagram that arrives (source, SSRC, payload fill
// byte, sequence number, arrival time and the bytes themselves) so tests can count what the relay
// delivered, by source, by sender and by time. Every wait is bounded.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/netns_lab.hpp"

namespace mpx::test::relay_lab {

inline constexpr std::size_t kRtpPayload = 160;
inline constexpr std::size_t kRtpHeader = 12;
inline constexpr std::size_t kRtpPacket = kRtpHeader + kRtpPayload;  // 172
inline constexpr std::size_t kRtcpPacket = 28;                      // SR without report blocks
inline constexpr std::size_t kIpUdpHeaders = 28;
inline constexpr std::uint8_t kRtpPayloadType = 8;  // PCMA: the relay reports "G711a"
inline constexpr std::uint8_t kRtcpSenderReport = 200;

struct ReceivedPacket {
  std::string source;  // "ip:port"
  std::size_t size = 0;
  bool rtcp = false;       // second byte is an RTCP packet type (200..204)
  std::uint32_t ssrc = 0;  // RTP SSRC, or the RTCP sender SSRC
  std::uint8_t fill = 0;   // first payload byte of RTP (the sender's marker), 0 for RTCP
  std::uint16_t sequence = 0;  // RTP sequence number, 0 for RTCP
  std::chrono::steady_clock::time_point arrival;  // when the receiver thread read it
  std::vector<std::uint8_t> bytes;                // the datagram as received
};

struct SendPlan {
  std::uint32_t ssrc = 0x11111111;
  std::uint8_t fill = 0xd5;  // every RTP payload byte; lets a receiver tell senders apart
  std::chrono::microseconds interval{3000};
};

class RtpPeer {
 public:
  // Binds ip:port in the role's namespace (throws std::runtime_error on failure) and starts the
  // receiver thread.
  RtpPeer(const NetnsLab& lab, const std::string& role, const std::string& ip,
          std::uint16_t port);
  ~RtpPeer();
  RtpPeer(const RtpPeer&) = delete;
  RtpPeer& operator=(const RtpPeer&) = delete;

  const std::string& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }

  // Sends `count` RTP packets to ip:port, sequence numbers continuing from the previous call;
  // returns how many sendto() accepted.
  int send_rtp(const std::string& to_ip, std::uint16_t to_port, int count, const SendPlan& plan);
  // Sends `count` RTCP sender reports (28 bytes) carrying plan.ssrc.
  int send_rtcp(const std::string& to_ip, std::uint16_t to_port, int count, const SendPlan& plan);
  // One datagram of arbitrary bytes (no pacing); true if sendto() accepted it.
  bool send_raw(const std::string& to_ip, std::uint16_t to_port, const std::vector<std::uint8_t>& bytes);

  std::vector<ReceivedPacket> received() const;
  std::size_t total() const;
  std::size_t count_from(const std::string& source) const;
  std::size_t count_ssrc(std::uint32_t ssrc) const;
  std::size_t count_fill(std::uint8_t fill) const;
  std::size_t count_if(const std::function<bool(const ReceivedPacket&)>& predicate) const;
  // Polls until `count_from(source) >= at_least` or the timeout passed; returns the last count.
  std::size_t wait_from(const std::string& source, std::size_t at_least,
                        std::chrono::milliseconds timeout) const;
  void clear();

 private:
  void receive_loop();

  std::string ip_;
  std::uint16_t port_ = 0;
  int fd_ = -1;
  std::uint16_t sequence_ = 0;
  std::uint32_t timestamp_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<ReceivedPacket> received_;
  std::thread receiver_;
};

// RTP version 2, PT 8 (PCMA), kRtpPayload bytes of `fill` (what send_rtp sends).
std::vector<std::uint8_t> rtp_packet(std::uint32_t ssrc, std::uint16_t sequence,
                                     std::uint32_t timestamp, std::uint8_t fill);
// An RTCP sender report without report blocks (kRtcpPacket bytes; what send_rtcp sends);
// `ntp_seconds` is the NTP timestamp's most significant word, the least significant one is 0.
std::vector<std::uint8_t> rtcp_sender_report(std::uint32_t ssrc, std::uint32_t ntp_seconds,
                                             std::uint32_t rtp_timestamp, std::uint32_t packets,
                                             std::uint32_t octets);

// "ip:port".
std::string endpoint(const std::string& ip, std::uint16_t port);

}  // namespace mpx::test::relay_lab
