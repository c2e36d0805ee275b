// The session statistics JSON (compat spec 3.4): what the relay sends in the `remove` reply, in
// `expired` and (as an array) in the `sessions` reply, and what the dispatcher stores in the
// accounting `info` blob after adding its own keys. Consumers (CDRTool, the web page) read it
// by key name, so names, types and MediaProxy's key order are kept exactly.
//
// to_json writes one line with Python's separators (python_json.hpp). The *_from_json decoders
// accept any JSON number for float fields and only JSON integers for integer fields, and
// IGNORE keys they do not know: mpx may add extension keys, and older/newer peers may too.
// Counters are 64-bit (MediaProxy's are 32-bit and wrap at 4 GiB).
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mpx::protocol {

struct StreamStatistics {
  std::string media_type;     // "audio", "video", "image", ...
  std::string status;         // "active", "on hold", "closed", "rejected", "no-traffic timeout",
                              // "on hold timeout", "conntrack timeout", "unselected ICE candidate"
  std::int64_t timeout_wait = 0;  // seconds waited before the expiry, else 0
  std::string caller_codec = "Unknown";
  std::string callee_codec = "Unknown";
  std::int64_t start_time = 0;  // seconds relative to the session's start_time
  std::int64_t end_time = 0;
  std::optional<double> post_dial_delay;  // seconds; null if no media was ever seen
  std::uint64_t caller_bytes = 0;
  std::uint64_t callee_bytes = 0;
  std::uint64_t caller_packets = 0;
  std::uint64_t callee_packets = 0;
  std::string caller_local;  // "ip:port" of the relay's RTP socket on each side
  std::string callee_local;
  std::string caller_remote = "Unknown";  // learnt RTP endpoint "ip:port", or "Unknown"
  std::string callee_remote = "Unknown";
  bool operator==(const StreamStatistics&) const = default;
};

// Keys the dispatcher adds before accounting; never sent by a relay.
struct DispatcherAnnotations {
  std::optional<std::string> dialog_id;  // null when the module sent none (use_media_proxy)
  bool timed_out = false;
  // Only on the `expired` path. Its presence also selects MediaProxy's key order of that path:
  // "timed_out", "dialog_id", "all_streams_ice"; without it: "dialog_id", "timed_out".
  std::optional<bool> all_streams_ice;
  bool operator==(const DispatcherAnnotations&) const = default;
};

struct SessionStatistics {
  std::string call_id;
  std::string from_tag;  // of the party that created the relay session
  std::string from_uri;
  std::optional<std::string> to_tag;
  std::string to_uri;
  std::optional<double> start_time;  // UNIX epoch seconds of the first answer; null: never answered
  std::int64_t duration = 0;         // seconds; 0 if never answered
  std::string caller_ua = "Unknown";
  std::string callee_ua = "Unknown";
  std::optional<std::string> username;
  std::vector<StreamStatistics> streams;  // answered streams only, by start_time
  // Present iff the dispatcher annotated the record (decoded when any of its keys is present;
  // then "timed_out" is required).
  std::optional<DispatcherAnnotations> dispatcher;
  bool operator==(const SessionStatistics&) const = default;
};

// The ordered JSON value (for embedding in a bigger document) and its one-line text.
nlohmann::ordered_json to_ordered_json(const StreamStatistics& stream);
nlohmann::ordered_json to_ordered_json(const SessionStatistics& session);
std::string to_json(const SessionStatistics& session);
// The `sessions` reply payload: a JSON array of session objects ("[]" when empty).
std::string to_json(std::span<const SessionStatistics> sessions);

// Decoders. Errors name the object and key: `session statistics streams[1]: key "caller_bytes"
// must be a non-negative integer (got string)`.
Result<SessionStatistics> session_statistics_from_json(std::string_view text);
Result<SessionStatistics> session_statistics_from_json_value(const nlohmann::json& value);
Result<std::vector<SessionStatistics>> session_list_from_json(std::string_view text);

}  // namespace mpx::protocol
