// SessionTable: the dispatcher's own memory of each call (compat spec 6.3): call_id -> the relay
// it is pinned to (by peer IP), the module's dialog_id, and whether the dispatcher ended the call
// itself (expired: the proxy's coming `remove` is answered locally). Pure bookkeeping: no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::dispatcher {

struct PinnedSession {
  std::string relay_ip;
  std::optional<std::string> dialog_id;
  std::chrono::steady_clock::time_point pinned_at{};
  bool expired = false;
  std::chrono::steady_clock::time_point expired_at{};
};

class SessionTable {
 public:
  using Clock = std::chrono::steady_clock;

  const PinnedSession* find(std::string_view call_id) const;

  // Pins (or re-pins, replacing an expired entry) call_id to relay_ip.
  void pin(const std::string& call_id, const std::string& relay_ip,
           std::optional<std::string> dialog_id, Clock::time_point now);

  // Records a dialog_id learnt after the session was pinned (use_media_proxy then engage, or a
  // first request that had none). Existing ids are kept.
  void learn_dialog_id(std::string_view call_id, const std::string& dialog_id);

  // false if call_id is unknown.
  bool mark_expired(std::string_view call_id, Clock::time_point now);
  bool erase(std::string_view call_id);

  // Non-expired sessions pinned to relay_ip before `pinned_before` (the relay's reconnection
  // check must not judge sessions created while its `sessions` answer was on the way).
  std::vector<std::string> live_sessions_on(std::string_view relay_ip,
                                            Clock::time_point pinned_before) const;

  // Forgets every session pinned to relay_ip (dead-relay cleanup); returns how many.
  std::size_t forget_relay(std::string_view relay_ip);

  // Forgets expired sessions marked before `cutoff`; returns how many.
  std::size_t purge_expired_before(Clock::time_point cutoff);

  std::size_t size() const { return sessions_.size(); }
  std::size_t count_on(std::string_view relay_ip) const;

 private:
  std::map<std::string, PinnedSession, std::less<>> sessions_;
};

}  // namespace mpx::dispatcher
