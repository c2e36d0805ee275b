// The dispatcher's rules for what a relay said (compat spec 2.5, 3.3, 6.4): which `update`
// payloads may go to the module (never `None`, never garbage: those become `error`), and how a
// session's final statistics are annotated before accounting and whether its dialog is ended.
// Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/protocol/session_statistics.hpp"

namespace mpx::dispatcher {

enum class UpdatePayload {
  ports,      // "<ip> <port> ...": pass through unchanged
  error,      // "error": the relay refused; a new session tries the next relay
  halting,    // "halting": the relay is shutting down; mark its link, try the next relay
  none,       // "None" (OpenSIPS issue #242): answer `error`; another relay would say the same
  malformed,  // anything else (empty, not an IPv4 address, a bad port): answer `error`
};

UpdatePayload classify_update_payload(std::string_view payload);

// Spec 6.3: what a `remove` answer adds to the statistics: dialog_id, timed_out = false.
// Returns whether accounting applies (the call was answered: start_time set).
bool annotate_removed(protocol::SessionStatistics& stats,
                      const std::optional<std::string>& dialog_id);

struct ExpiredDecision {
  bool account = false;     // start_time set: record the statistics
  bool end_dialog = false;  // ask the proxy to hang up (then keep the session as expired)
};

// Spec 6.4: all_streams_ice (vacuously true without streams), timed_out = !all_streams_ice,
// dialog_id; hang up when there is a dialog_id, the call was answered and not every stream was an
// unselected ICE candidate (ICE media went elsewhere: the call may be fine).
ExpiredDecision annotate_expired(protocol::SessionStatistics& stats,
                                 const std::optional<std::string>& dialog_id);

}  // namespace mpx::dispatcher
