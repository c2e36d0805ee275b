// Sessions and summary tables (see views.hpp). Every value is read through the accessors below,
// which tolerate absent keys and unexpected types, because the JSON comes from relays of any
// version (MediaProxy's or mpx's) via the dispatcher.
#include "tools/mpxctl/views.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "tools/mpxctl/table.hpp"
#include "tools/mpxctl/units.hpp"

namespace mpx::mpxctl {
namespace {

using nlohmann::json;

constexpr const char* kMissing = "-";

const json* field(const json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Compact JSON text, with invalid UTF-8 replaced instead of dump()'s exception.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Counts print exactly; a float (a counter beyond 64 bits arrives as one) prints compactly.
std::string number_text(const json& value) {
  if (value.is_number_unsigned()) {
    return std::to_string(value.get<std::uint64_t>());
  }
  if (value.is_number_integer()) {
    return std::to_string(value.get<std::int64_t>());
  }
  const double number = value.get<double>();
  return std::abs(number) < 1e15 && number == std::trunc(number)
             ? fmt::format("{:.0f}", number)
             : fmt::format("{:.6g}", number);
}

std::string text(const json& object, const char* key) {
  const json* value = field(object, key);
  if (value == nullptr || value->is_null()) {
    return kMissing;
  }
  if (value->is_string()) {
    return value->get_ref<const std::string&>();
  }
  if (value->is_number()) {
    return number_text(*value);
  }
  return dump(*value);
}

std::optional<double> number(const json& object, const char* key) {
  const json* value = field(object, key);
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  return value->get<double>();
}

// A counter; a value of another type is shown as it is rather than hidden.
std::string count(const json& object, const char* key) { return text(object, key); }

std::string bytes(const json& object, const char* key) {
  const auto value = number(object, key);
  return value ? format_bytes(*value) : kMissing;
}

std::string duration(const json& object, const char* key) {
  const auto value = number(object, key);
  return value ? format_duration(*value) : kMissing;
}

std::string codecs(const json& stream) {
  const json* caller = field(stream, "caller_codec");
  const json* callee = field(stream, "callee_codec");
  if (caller == nullptr && callee == nullptr) {
    return kMissing;
  }
  return text(stream, "caller_codec") + "/" + text(stream, "callee_codec");
}

Table sessions_table() {
  return Table({{"CALL ID"},
                {"FROM"},
                {"TO"},
                {"DURATION", Align::right},
                {"MEDIA"},
                {"STATUS"},
                {"CODECS"},
                {"CALLER REMOTE"},
                {"CALLER LOCAL"},
                {"CALLEE LOCAL"},
                {"CALLEE REMOTE"},
                {"FROM CALLER", Align::right},
                {"FROM CALLEE", Align::right}});
}

struct SessionCounts {
  std::size_t sessions = 0;
  std::size_t streams = 0;
};

SessionCounts fill_sessions(Table& table, const json& sessions) {
  SessionCounts counts;
  if (!sessions.is_array()) {
    table.add_row({"(not a list: " + dump(sessions) + ")"});
    return counts;
  }
  for (const auto& session : sessions) {
    ++counts.sessions;
    if (!session.is_object()) {
      table.add_row({"(not a session: " + dump(session) + ")"});
      continue;
    }
    const std::vector<std::string> head{text(session, "call_id"), text(session, "from_uri"),
                                        text(session, "to_uri"), duration(session, "duration")};
    const json* streams = field(session, "streams");
    if (streams == nullptr || !streams->is_array() || streams->empty()) {
      table.add_row(head);
      continue;
    }
    bool first = true;
    for (const auto& stream : *streams) {
      ++counts.streams;
      std::vector<std::string> row =
          first ? head : std::vector<std::string>{"", "", "", ""};
      first = false;
      row.insert(row.end(),
                 {text(stream, "media_type"), text(stream, "status"), codecs(stream),
                  text(stream, "caller_remote"), text(stream, "caller_local"),
                  text(stream, "callee_local"), text(stream, "callee_remote"),
                  bytes(stream, "caller_bytes"), bytes(stream, "callee_bytes")});
      table.add_row(row);
    }
  }
  return counts;
}

std::string stream_counts(const json& relay) {
  const json* counts = field(relay, "stream_count");
  if (counts == nullptr || !counts->is_object()) {
    return counts == nullptr || counts->is_null() ? kMissing : dump(*counts);
  }
  if (counts->empty()) {
    return "0";
  }
  std::string out;
  for (const auto& [type, value] : counts->items()) {
    if (!out.empty()) {
      out += ", ";
    }
    out += type + " " + (value.is_number() ? number_text(value) : dump(value));
  }
  return out;
}

// The sum of the datapath's "dropped_*" counters, saturating rather than wrapping.
std::string dropped_total(const json& datapath) {
  std::uint64_t total = 0;
  bool any = false;
  for (const auto& [key, value] : datapath.items()) {
    if (key.rfind("dropped_", 0) != 0 || !value.is_number_integer()) {
      continue;
    }
    any = true;
    const std::uint64_t add =
        value.is_number_unsigned() ? value.get<std::uint64_t>()
        : value.get<std::int64_t>() > 0 ? static_cast<std::uint64_t>(value.get<std::int64_t>())
                                        : 0;
    total = add > std::numeric_limits<std::uint64_t>::max() - total
                ? std::numeric_limits<std::uint64_t>::max()
                : total + add;
  }
  return any ? std::to_string(total) : kMissing;
}

Table summary_table() {
  return Table({{"IP"},
                {"VERSION"},
                {"STATUS"},
                {"UPTIME", Align::right},
                {"SESSIONS", Align::right},
                {"STREAMS"},
                {"LOAD", Align::right},
                {"RELAYED", Align::right},
                {"DATAPATH"},
                {"FLOWS", Align::right},
                {"DROPPED", Align::right}});
}

// "datapath of 192.0.2.1 (tc): handoffs 3, handoff errors 0, ..." for each relay that has one.
std::string datapath_lines(const json& relays) {
  static constexpr std::array<const char*, 13> kOrder{
      "flows",           "handoffs",         "handoff_errors",    "flows_lost",
      "relayed_packets", "latched",          "lock_takeovers",    "lock_rebindings",
      "dropped_learning", "dropped_strangers", "dropped_invalid", "dropped_no_destination",
      "dropped_unknown_port"};
  std::string out;
  for (const auto& relay : relays) {
    const json* datapath = field(relay, "datapath");
    if (datapath == nullptr || !datapath->is_object()) {
      continue;
    }
    std::vector<std::string> parts;
    const auto add = [&](const std::string& key, const json& value) {
      std::string label = key;
      for (char& c : label) {
        c = c == '_' ? ' ' : c;
      }
      parts.push_back(label + " " + (value.is_number() ? number_text(value) : dump(value)));
    };
    for (const char* key : kOrder) {
      if (const json* value = field(*datapath, key)) {
        add(key, *value);
      }
    }
    for (const auto& [key, value] : datapath->items()) {  // keys of a newer relay
      bool known = key == "name";
      for (const char* k : kOrder) {
        known = known || key == k;
      }
      if (!known) {
        add(key, value);
      }
    }
    std::string line = fmt::format("datapath of {} ({}):", text(relay, "ip"),
                                   text(*datapath, "name"));
    for (std::size_t i = 0; i < parts.size(); ++i) {
      line += (i == 0 ? " " : ", ") + parts[i];
    }
    out += display_text(line) + "\n";
  }
  return out;
}

std::string datapath_name(const json* datapath) {
  if (datapath == nullptr) {
    return kMissing;
  }
  return datapath->is_object() ? text(*datapath, "name") : dump(*datapath);
}

std::size_t fill_summary(Table& table, const json& relays) {
  if (!relays.is_array()) {
    table.add_row({"(not a list: " + dump(relays) + ")"});
    return 0;
  }
  for (const auto& relay : relays) {
    if (!relay.is_object()) {
      table.add_row({"(not a relay: " + dump(relay) + ")"});
      continue;
    }
    const json* datapath = field(relay, "datapath");
    const json empty = json::object();
    const json& path = datapath != nullptr && datapath->is_object() ? *datapath : empty;
    const auto bps = number(relay, "bps_relayed");
    table.add_row({text(relay, "ip"), text(relay, "version"), text(relay, "status"),
                   duration(relay, "uptime"), count(relay, "session_count"),
                   stream_counts(relay), count(relay, "load"),
                   bps ? format_bps(*bps) : kMissing, datapath_name(datapath),
                   count(path, "flows"), datapath ? dropped_total(path) : kMissing});
  }
  return relays.size();
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

std::string render_sessions(const json& sessions) {
  if (sessions.is_array() && sessions.empty()) {
    return "no sessions\n";
  }
  Table table = sessions_table();
  const auto counts = fill_sessions(table, sessions);
  return table.render() + plural(counts.sessions, "session", "sessions") + ", " +
         plural(counts.streams, "stream", "streams") + "\n";
}

std::string render_summary(const json& relays) {
  if (relays.is_array() && relays.empty()) {
    return "no relays connected\n";
  }
  Table table = summary_table();
  const std::size_t count = fill_summary(table, relays);
  std::string out = table.render() + plural(count, "relay", "relays") + "\n";
  if (relays.is_array()) {
    const std::string datapaths = datapath_lines(relays);
    if (!datapaths.empty()) {
      out += "\n" + datapaths;
    }
  }
  return out;
}

std::string render_top(std::string_view title, const json& relays, const json& sessions) {
  return display_text(title) + "\n\nRELAYS\n" + render_summary(relays) + "\nSESSIONS\n" +
         render_sessions(sessions);
}

}  // namespace mpx::mpxctl
