// Sprayer (see sprayer.hpp).
#include "tests/integration/attack/sprayer.hpp"

#include <algorithm>
#include <random>

namespace mpx::test::attack {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// At most this many packets per wake-up: after a scheduling hiccup the sender catches up in
// small bursts instead of one flood.
constexpr std::uint64_t kMaxBurst = 32;

}  // namespace

Sprayer::Sprayer(const NetnsLab& lab, SprayerOptions options) : options_(std::move(options)) {
  for (const auto port : options_.local_ports) {
    sockets_.push_back(std::make_unique<UdpSocket>(lab, options_.role, options_.local_ip, port));
  }
}

Sprayer::~Sprayer() { stop(); }

void Sprayer::start() {
  if (sender_.joinable() || receiver_.joinable()) {
    return;
  }
  started_ = last_sent_ = Clock::now();
  receiving_ = true;
  receiver_ = std::thread([this] { receive_loop(); });
  sender_ = std::thread([this] { send_loop(); });
}

void Sprayer::stop() {
  stopping_ = true;
  if (sender_.joinable()) {
    sender_.join();
  }
  // A last look for packets still on their way back.
  std::this_thread::sleep_for(50ms);
  receiving_ = false;
  if (receiver_.joinable()) {
    receiver_.join();
  }
}

void Sprayer::send_loop() {
  std::mt19937 random(options_.seed);
  const std::uint64_t ports = options_.last_port - options_.first_port + 1U;
  const auto rate = static_cast<std::uint64_t>(std::max(1, options_.packets_per_second));
  const std::uint64_t max_packets =
      rate * static_cast<std::uint64_t>(options_.max_duration.count()) / 1000U;
  const Clock::time_point start = started_;
  std::uint64_t index = 0;
  while (!stopping_ && index < max_packets) {
    const auto elapsed = Clock::now() - start;
    if (elapsed >= options_.max_duration) {
      break;
    }
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    const std::uint64_t due = std::min<std::uint64_t>(
        max_packets, static_cast<std::uint64_t>(micros) * rate / 1000000U + 1U);
    for (std::uint64_t burst = 0; index < due && burst < kMaxBurst; ++burst, ++index) {
      // 5 kinds and 102 ports are coprime: every port gets every kind within 510 packets.
      const auto kind = static_cast<SprayKind>(index % kSprayKinds);
      const auto port = static_cast<std::uint16_t>(options_.first_port + index % ports);
      const auto& socket = *sockets_[(index / ports) % sockets_.size()];
      const Bytes packet =
          attacker_packet(kind, random, options_.parties.caller_ssrc, options_.parties.callee_ssrc);
      if (!socket.send_to(options_.target_ip, port, packet)) {
        ++failures_;
        continue;
      }
      std::lock_guard lock(mutex_);
      ++sent_by_kind_[static_cast<std::size_t>(kind)];
      ++sent_by_port_[port];
      last_sent_ = Clock::now();
    }
    std::this_thread::sleep_for(500us);
  }
}

void Sprayer::receive_loop() {
  std::vector<int> fds;
  std::map<int, const UdpSocket*> by_fd;
  for (const auto& socket : sockets_) {
    fds.push_back(socket->fd());
    by_fd[socket->fd()] = socket.get();
  }
  while (receiving_) {
    for (const int fd : wait_readable(fds, 20ms)) {
      // Drain what is queued on this socket (bounded: at most 256 per wake-up).
      for (int i = 0; i < 256; ++i) {
        auto datagram = by_fd[fd]->receive(0ms);
        if (!datagram) {
          break;
        }
        const Origin origin = origin_of(datagram->bytes, options_.parties);
        std::lock_guard lock(mutex_);
        switch (origin) {
          case Origin::caller:
            ++received_.caller;
            break;
          case Origin::callee:
            ++received_.callee;
            break;
          case Origin::attacker:
            ++received_.own;
            break;
          case Origin::unknown:
            ++received_.unknown;
            break;
        }
        ++received_by_source_[datagram->source];
      }
    }
  }
}

std::uint64_t Sprayer::sent() const {
  std::uint64_t total = 0;
  for (const auto n : sent_by_kind()) {
    total += n;
  }
  return total;
}

std::array<std::uint64_t, kSprayKinds> Sprayer::sent_by_kind() const {
  std::lock_guard lock(mutex_);
  return sent_by_kind_;
}

std::map<std::uint16_t, std::uint64_t> Sprayer::sent_by_port() const {
  std::lock_guard lock(mutex_);
  return sent_by_port_;
}

std::chrono::milliseconds Sprayer::sending_time() const {
  std::lock_guard lock(mutex_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(last_sent_ - started_);
}

SprayerReceived Sprayer::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::map<std::string, std::uint64_t> Sprayer::received_by_source() const {
  std::lock_guard lock(mutex_);
  return received_by_source_;
}

}  // namespace mpx::test::attack
