// The media port pool (compat spec 5.3): pairs (p, p+1) for even p in [start, end); a stream
// takes two pairs, caller side first. FIFO: allocation takes from the head, freed pairs go to
// the tail, so a port is not reused while late packets of its last call may still arrive. A
// pair the IO layer cannot bind is set aside on a "bad" list, which is handed back to the pool
// once it is longer than the free list (the failure may have been transient).
#pragma once

#include "common/config/config.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_set>
#include <utility>

namespace mpx::relay::session {

class PortPool {
 public:
  // Called with the even port of a pair about to be handed out: the IO layer binds (and may keep)
  // both sockets and answers whether it could. Default: always true.
  using BindPair = std::function<bool(std::uint16_t rtp_port)>;
  // Called when a handed-out pair goes back to the pool (close the sockets kept by BindPair).
  using ReleasePair = std::function<void(std::uint16_t rtp_port)>;

  explicit PortPool(const config::PortRange& range, BindPair bind = {}, ReleasePair release = {});

  // One pair; error "all allocated ports are being used" when no pair can be had.
  Result<std::uint16_t> allocate_pair();
  // Two pairs (caller side, callee side) for a stream, or none at all.
  Result<std::pair<std::uint16_t, std::uint16_t>> allocate_stream();
  // Takes this very pair (a restarted relay re-adopting a session's ports): an error if the
  // port is not an even port of the range, already in use, or cannot be bound.
  Result<void> claim(std::uint16_t rtp_port);
  // Returns a handed-out pair to the tail. Ignores a port that is not in use (no double free).
  void release_pair(std::uint16_t rtp_port);
  // Puts a pair that was handed out but never used back at the head, undoing a failed multi-pair
  // allocation (undo in reverse order to restore the original order).
  void unallocate(std::uint16_t rtp_port);

  std::size_t free_count() const { return free_.size(); }
  std::size_t in_use_count() const { return in_use_.size(); }
  std::size_t bad_count() const { return bad_.size(); }
  bool in_use(std::uint16_t rtp_port) const { return in_use_.contains(rtp_port); }

 private:
  std::deque<std::uint16_t> free_;
  std::deque<std::uint16_t> bad_;
  std::unordered_set<std::uint16_t> in_use_;
  BindPair bind_;
  ReleasePair release_;
};

inline constexpr const char* kPortsExhausted = "all allocated ports are being used";

}  // namespace mpx::relay::session
