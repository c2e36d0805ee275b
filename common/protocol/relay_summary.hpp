// The relay summary JSON (compat spec 3.5): the `summary` reply payload, and each element of the
// management interface's `summary` array. to_json keeps MediaProxy's key order on one line with
// Python's separators; relay_summary_from_json ignores keys it does not know (mpx extensions).
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mpx::protocol {

struct RelaySummary {
  std::string ip;                  // Relay.relay_ip (not advertised_ip)
  std::string version;             // e.g. "4.1.2"
  std::string status = "active";   // "active" or "halting"
  std::int64_t uptime = 0;         // seconds
  std::uint64_t session_count = 0;
  std::map<std::string, std::uint64_t> stream_count;  // alive streams per media type
  double bps_relayed = 0;          // 8 * bytes / sampling period (written as a float: 0.0)
  bool operator==(const RelaySummary&) const = default;
};

nlohmann::ordered_json to_ordered_json(const RelaySummary& summary);
std::string to_json(const RelaySummary& summary);

// Errors name the key: `relay summary: key "stream_count" must be an object (got array)`.
Result<RelaySummary> relay_summary_from_json(std::string_view text);
Result<RelaySummary> relay_summary_from_json_value(const nlohmann::json& value);

}  // namespace mpx::protocol
