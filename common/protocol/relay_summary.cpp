// Relay summary JSON model (see relay_summary.hpp).
#include "common/protocol/relay_summary.hpp"

#include "common/protocol/json_field_table.hpp"
#include "common/protocol/python_json.hpp"

namespace mpx::protocol {
namespace {

using detail::JsonField;

// MediaProxy's key order.
constexpr std::tuple kSummaryFields{
    JsonField{"ip", &RelaySummary::ip},
    JsonField{"version", &RelaySummary::version},
    JsonField{"status", &RelaySummary::status},
    JsonField{"uptime", &RelaySummary::uptime},
    JsonField{"session_count", &RelaySummary::session_count},
    JsonField{"stream_count", &RelaySummary::stream_count},
    JsonField{"bps_relayed", &RelaySummary::bps_relayed},
};

}  // namespace

nlohmann::ordered_json to_ordered_json(const RelaySummary& summary) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  detail::write_fields(summary, kSummaryFields, j);
  return j;
}

std::string to_json(const RelaySummary& summary) {
  return python_json_dump(to_ordered_json(summary));
}

Result<RelaySummary> relay_summary_from_json_value(const nlohmann::json& value) {
  return detail::read_object<RelaySummary>(value, "relay summary", kSummaryFields);
}

Result<RelaySummary> relay_summary_from_json(std::string_view text) {
  return detail::decode_json_text(text, "relay summary", relay_summary_from_json_value);
}

}  // namespace mpx::protocol
