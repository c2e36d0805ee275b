// SessionTable (see session_table.hpp).
#include "dispatcher/session_table.hpp"

#include <iterator>

namespace mpx::dispatcher {

const PinnedSession* SessionTable::find(std::string_view call_id) const {
  const auto it = sessions_.find(call_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void SessionTable::pin(const std::string& call_id, const std::string& relay_ip,
                       std::optional<std::string> dialog_id, Clock::time_point now) {
  sessions_.insert_or_assign(call_id, PinnedSession{relay_ip, std::move(dialog_id), now, false, {}});
}

void SessionTable::learn_dialog_id(std::string_view call_id, const std::string& dialog_id) {
  const auto it = sessions_.find(call_id);
  if (it != sessions_.end() && !it->second.dialog_id) {
    it->second.dialog_id = dialog_id;
  }
}

bool SessionTable::mark_expired(std::string_view call_id, Clock::time_point now) {
  const auto it = sessions_.find(call_id);
  if (it == sessions_.end()) {
    return false;
  }
  it->second.expired = true;
  it->second.expired_at = now;
  return true;
}

bool SessionTable::erase(std::string_view call_id) {
  const auto it = sessions_.find(call_id);
  if (it == sessions_.end()) {
    return false;
  }
  sessions_.erase(it);
  return true;
}

std::vector<std::string> SessionTable::live_sessions_on(std::string_view relay_ip,
                                                        Clock::time_point pinned_before) const {
  std::vector<std::string> call_ids;
  for (const auto& [call_id, session] : sessions_) {
    if (session.relay_ip == relay_ip && !session.expired && session.pinned_at < pinned_before) {
      call_ids.push_back(call_id);
    }
  }
  return call_ids;
}

std::size_t SessionTable::forget_relay(std::string_view relay_ip) {
  return std::erase_if(sessions_, [&](const auto& entry) { return entry.second.relay_ip == relay_ip; });
}

std::size_t SessionTable::purge_expired_before(Clock::time_point cutoff) {
  return std::erase_if(sessions_, [&](const auto& entry) {
    return entry.second.expired && entry.second.expired_at < cutoff;
  });
}

std::size_t SessionTable::count_on(std::string_view relay_ip) const {
  std::size_t count = 0;
  for (const auto& [call_id, session] : sessions_) {
    if (session.relay_ip == relay_ip) {
      ++count;
    }
  }
  return count;
}

}  // namespace mpx::dispatcher
