// Relay summary JSON model (see relay_summary.hpp).
#include "common/protocol/relay_summary.hpp"

#include "common/protocol/json_fields.hpp"
#include "common/protocol/python_json.hpp"

namespace mpx::protocol {

nlohmann::ordered_json to_ordered_json(const RelaySummary& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["ip"] = s.ip;
  j["version"] = s.version;
  j["status"] = s.status;
  j["uptime"] = s.uptime;
  j["session_count"] = s.session_count;
  auto counts = nlohmann::ordered_json::object();
  for (const auto& [type, count] : s.stream_count) {
    counts[type] = count;
  }
  j["stream_count"] = std::move(counts);
  j["bps_relayed"] = s.bps_relayed;
  return j;
}

std::string to_json(const RelaySummary& summary) {
  return python_json_dump(to_ordered_json(summary));
}

Result<RelaySummary> relay_summary_from_json_value(const nlohmann::json& value) {
  detail::JsonFieldReader r(value, "relay summary");
  RelaySummary s;
  r.read("ip", s.ip);
  r.read("version", s.version);
  r.read("status", s.status);
  r.read("uptime", s.uptime);
  r.read("session_count", s.session_count);
  if (const auto* counts = r.require_object("stream_count")) {
    detail::JsonFieldReader c(*counts, "relay summary stream_count");
    for (const auto& [type, count] : counts->items()) {
      c.read(type, s.stream_count[type]);
    }
    if (c.failed()) {
      return c.error();
    }
  }
  r.read("bps_relayed", s.bps_relayed);
  if (r.failed()) {
    return r.error();
  }
  return s;
}

Result<RelaySummary> relay_summary_from_json(std::string_view text) {
  auto value = detail::parse_json_text(text, "relay summary");
  if (!value) {
    return value.error();
  }
  return relay_summary_from_json_value(value.value());
}

}  // namespace mpx::protocol
