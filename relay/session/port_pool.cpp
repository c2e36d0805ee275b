// Port pool (see port_pool.hpp).
#include "relay/session/port_pool.hpp"

#include <algorithm>
#include <string>

namespace mpx::relay::session {

PortPool::PortPool(const config::PortRange& range, BindPair bind, ReleasePair release)
    : bind_(std::move(bind)), release_(std::move(release)) {
  // end may be 65536, so iterate in 32 bits; the last pair is (end - 2, end - 1).
  for (std::uint32_t port = range.start; port + 1 < range.end && port <= 65534; port += 2) {
    free_.push_back(static_cast<std::uint16_t>(port));
  }
}

Result<void> PortPool::claim(std::uint16_t rtp_port) {
  if (in_use_.contains(rtp_port)) {
    return Error{"port " + std::to_string(rtp_port) + " is already in use"};
  }
  auto* from = &free_;
  auto found = std::find(free_.begin(), free_.end(), rtp_port);
  if (found == free_.end()) {
    from = &bad_;
    found = std::find(bad_.begin(), bad_.end(), rtp_port);
    if (found == bad_.end()) {
      return Error{"port " + std::to_string(rtp_port) + " is not a pair of the port range"};
    }
  }
  if (bind_ && !bind_(rtp_port)) {
    return Error{"port pair " + std::to_string(rtp_port) + " cannot be bound"};
  }
  from->erase(found);
  in_use_.insert(rtp_port);
  return outcome::success();
}

Result<std::uint16_t> PortPool::allocate_pair() {
  // Every pair known at the start is tried at most once per call, so a host where nothing binds
  // answers an error instead of spinning.
  std::size_t attempts_left = free_.size() + bad_.size();
  while (attempts_left > 0) {
    if (bad_.size() > free_.size()) {
      free_.insert(free_.end(), bad_.begin(), bad_.end());
      bad_.clear();
    }
    if (free_.empty()) {
      break;
    }
    --attempts_left;
    const std::uint16_t port = free_.front();
    free_.pop_front();
    if (bind_ && !bind_(port)) {
      bad_.push_back(port);
      continue;
    }
    in_use_.insert(port);
    return port;
  }
  return Error{kPortsExhausted};
}

Result<std::pair<std::uint16_t, std::uint16_t>> PortPool::allocate_stream() {
  auto caller = allocate_pair();
  if (!caller) {
    return caller.error();
  }
  auto callee = allocate_pair();
  if (!callee) {
    unallocate(caller.value());
    return callee.error();
  }
  return std::pair{caller.value(), callee.value()};
}

void PortPool::release_pair(std::uint16_t rtp_port) {
  if (in_use_.erase(rtp_port) == 0) {
    return;
  }
  if (release_) {
    release_(rtp_port);
  }
  free_.push_back(rtp_port);
}

void PortPool::unallocate(std::uint16_t rtp_port) {
  if (in_use_.erase(rtp_port) == 0) {
    return;
  }
  if (release_) {
    release_(rtp_port);
  }
  free_.push_front(rtp_port);
}

}  // namespace mpx::relay::session
