// WebRtcPeer (see webrtc_peer.hpp).
#include "tests/integration/attack/webrtc_peer.hpp"

namespace mpx::test::attack {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kStunEvery = 50ms;
constexpr auto kClientHelloEvery = 500ms;

}  // namespace

WebRtcPeer::WebRtcPeer(const NetnsLab& lab, const std::string& ns_role, const std::string& ip,
                       std::uint16_t port, Role role, const Tag& tag)
    : socket_(std::make_unique<UdpSocket>(lab, ns_role, ip, port)), role_(role), tag_(tag) {}

WebRtcPeer::~WebRtcPeer() { stop(); }

void WebRtcPeer::start(const std::string& to_ip, std::uint16_t to_port,
                       std::chrono::milliseconds max_duration) {
  if (thread_.joinable()) {
    return;
  }
  thread_ =
      std::thread([this, to_ip, to_port, max_duration] { run(to_ip, to_port, max_duration); });
}

void WebRtcPeer::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

void WebRtcPeer::run(std::string to_ip, std::uint16_t to_port,
                     std::chrono::milliseconds max_duration) {
  const auto end = Clock::now() + max_duration;
  auto next_stun = Clock::now();
  auto next_hello = Clock::now();
  // Bounded in count as well as in time: no more checks than the duration holds.
  const auto max_requests = static_cast<std::uint64_t>(max_duration / kStunEvery) + 1U;
  const auto max_hellos = static_cast<std::uint64_t>(max_duration / kClientHelloEvery) + 1U;
  std::uint32_t transaction = 0;
  std::uint16_t record = 0;
  while (!stopping_ && Clock::now() < end) {
    if (role_ == Role::offerer) {
      const auto now = Clock::now();
      std::lock_guard lock(mutex_);
      if (counts_.stun_responses_received == 0 && now >= next_stun &&
          counts_.stun_requests_sent < max_requests) {
        TransactionId id{};
        std::copy(tag_.begin(), tag_.end(), id.begin());
        for (std::size_t i = 0; i < 4; ++i) {
          id[8 + i] = static_cast<std::uint8_t>(transaction >> (24 - 8 * i));
        }
        ++transaction;
        if (socket_->send_to(to_ip, to_port, stun_message(kStunBindingRequest, id, tag_))) {
          ++counts_.stun_requests_sent;
        }
        next_stun = now + kStunEvery;
      }
      if (counts_.hello_verifies_received == 0 && now >= next_hello &&
          counts_.client_hellos_sent < max_hellos) {
        if (socket_->send_to(to_ip, to_port, dtls_record(kDtlsClientHello, record++, tag_))) {
          ++counts_.client_hellos_sent;
        }
        next_hello = now + kClientHelloEvery;
      }
    }
    if (auto datagram = socket_->receive(5ms)) {
      on_datagram(*datagram);
    }
  }
}

void WebRtcPeer::on_datagram(const Datagram& datagram) {
  const auto stun = stun_type(datagram.bytes);
  const auto dtls = dtls_handshake_type(datagram.bytes);
  // Parse the peer's addresses back from "ip:port" to answer to the source.
  const auto colon = datagram.source.rfind(':');
  const std::string ip = datagram.source.substr(0, colon);
  const auto port = static_cast<std::uint16_t>(std::stoi(datagram.source.substr(colon + 1)));
  std::lock_guard lock(mutex_);
  ++sources_[datagram.source];
  if (carries_attack_marker(datagram.bytes)) {
    ++counts_.attacker_received;
  }
  if (stun == kStunBindingRequest) {
    ++counts_.stun_requests_received;
    if (role_ == Role::answerer) {
      const Bytes response =
          stun_message(kStunBindingSuccess, *stun_transaction(datagram.bytes), tag_);
      counts_.stun_responses_sent += socket_->send_to(ip, port, response) ? 1U : 0U;
    }
  } else if (stun == kStunBindingSuccess) {
    ++counts_.stun_responses_received;
  } else if (dtls == kDtlsClientHello) {
    ++counts_.client_hellos_received;
    if (role_ == Role::answerer) {
      const Bytes verify = dtls_record(kDtlsHelloVerifyRequest, 0, tag_);
      counts_.hello_verifies_sent += socket_->send_to(ip, port, verify) ? 1U : 0U;
    }
  } else if (dtls == kDtlsHelloVerifyRequest) {
    ++counts_.hello_verifies_received;
  } else {
    ++counts_.other_received;
  }
}

WebRtcCounts WebRtcPeer::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::map<std::string, std::uint64_t> WebRtcPeer::sources() const {
  std::lock_guard lock(mutex_);
  return sources_;
}

}  // namespace mpx::test::attack
