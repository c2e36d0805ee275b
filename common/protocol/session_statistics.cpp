// Session statistics JSON model (see session_statistics.hpp).
#include "common/protocol/session_statistics.hpp"

#include "common/protocol/json_field_table.hpp"
#include "common/protocol/python_json.hpp"

namespace mpx::protocol {
namespace {

using detail::JsonField;
using detail::JsonFieldReader;
using detail::json_value;

// MediaProxy's key order, for both objects.
constexpr std::tuple kStreamFields{
    JsonField{"media_type", &StreamStatistics::media_type},
    JsonField{"status", &StreamStatistics::status},
    JsonField{"timeout_wait", &StreamStatistics::timeout_wait},
    JsonField{"caller_codec", &StreamStatistics::caller_codec},
    JsonField{"callee_codec", &StreamStatistics::callee_codec},
    JsonField{"start_time", &StreamStatistics::start_time},
    JsonField{"end_time", &StreamStatistics::end_time},
    JsonField{"post_dial_delay", &StreamStatistics::post_dial_delay},
    JsonField{"caller_bytes", &StreamStatistics::caller_bytes},
    JsonField{"callee_bytes", &StreamStatistics::callee_bytes},
    JsonField{"caller_packets", &StreamStatistics::caller_packets},
    JsonField{"callee_packets", &StreamStatistics::callee_packets},
    JsonField{"caller_local", &StreamStatistics::caller_local},
    JsonField{"callee_local", &StreamStatistics::callee_local},
    JsonField{"caller_remote", &StreamStatistics::caller_remote},
    JsonField{"callee_remote", &StreamStatistics::callee_remote},
};

// The session's keys before "streams"; the dispatcher's annotations follow it.
constexpr std::tuple kSessionFields{
    JsonField{"call_id", &SessionStatistics::call_id},
    JsonField{"from_tag", &SessionStatistics::from_tag},
    JsonField{"from_uri", &SessionStatistics::from_uri},
    JsonField{"to_tag", &SessionStatistics::to_tag},
    JsonField{"to_uri", &SessionStatistics::to_uri},
    JsonField{"start_time", &SessionStatistics::start_time},
    JsonField{"duration", &SessionStatistics::duration},
    JsonField{"caller_ua", &SessionStatistics::caller_ua},
    JsonField{"callee_ua", &SessionStatistics::callee_ua},
    JsonField{"username", &SessionStatistics::username},
};

void read_annotations(JsonFieldReader& r, SessionStatistics& s) {
  const auto* dialog_id = r.find("dialog_id");
  const auto* timed_out = r.find("timed_out");
  const auto* all_streams_ice = r.find("all_streams_ice");
  if (dialog_id == nullptr && timed_out == nullptr && all_streams_ice == nullptr) {
    return;
  }
  DispatcherAnnotations a;
  if (dialog_id != nullptr) {
    r.read("dialog_id", a.dialog_id);
  }
  r.read("timed_out", a.timed_out);
  if (all_streams_ice != nullptr) {
    bool value = false;
    r.read("all_streams_ice", value);
    a.all_streams_ice = value;
  }
  s.dispatcher = std::move(a);
}

}  // namespace

nlohmann::ordered_json to_ordered_json(const StreamStatistics& stream) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  detail::write_fields(stream, kStreamFields, j);
  return j;
}

nlohmann::ordered_json to_ordered_json(const SessionStatistics& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  detail::write_fields(s, kSessionFields, j);
  auto streams = nlohmann::ordered_json::array();
  for (const auto& stream : s.streams) {
    streams.push_back(to_ordered_json(stream));
  }
  j["streams"] = std::move(streams);
  if (s.dispatcher) {
    const auto& a = *s.dispatcher;
    // MediaProxy's dispatcher inserts these in a different order on its two paths.
    if (a.all_streams_ice) {
      j["timed_out"] = a.timed_out;
      j["dialog_id"] = json_value(a.dialog_id);
      j["all_streams_ice"] = *a.all_streams_ice;
    } else {
      j["dialog_id"] = json_value(a.dialog_id);
      j["timed_out"] = a.timed_out;
    }
  }
  return j;
}

std::string to_json(const SessionStatistics& session) {
  return python_json_dump(to_ordered_json(session));
}

std::string to_json(std::span<const SessionStatistics> sessions) {
  auto array = nlohmann::ordered_json::array();
  for (const auto& session : sessions) {
    array.push_back(to_ordered_json(session));
  }
  return python_json_dump(array);
}

Result<SessionStatistics> session_statistics_from_json_value(const nlohmann::json& value) {
  JsonFieldReader r(value, "session statistics");
  SessionStatistics s;
  detail::read_fields(r, kSessionFields, s);
  if (const auto* streams = r.require_array("streams")) {
    std::size_t index = 0;
    for (const auto& item : *streams) {
      auto stream = detail::read_object<StreamStatistics>(
          item, "session statistics streams[" + std::to_string(index++) + "]", kStreamFields);
      if (!stream) {
        return stream.error();
      }
      s.streams.push_back(std::move(stream.value()));
    }
  }
  read_annotations(r, s);
  if (r.failed()) {
    return r.error();
  }
  return s;
}

Result<SessionStatistics> session_statistics_from_json(std::string_view text) {
  return detail::decode_json_text(text, "session statistics", session_statistics_from_json_value);
}

Result<std::vector<SessionStatistics>> session_list_from_json(std::string_view text) {
  auto value = detail::parse_json_text(text, "session list");
  if (!value) {
    return value.error();
  }
  if (!value.value().is_array()) {
    return Error{std::string{"session list must be a JSON array (got "} +
                 value.value().type_name() + ")"};
  }
  std::vector<SessionStatistics> sessions;
  std::size_t index = 0;
  for (const auto& item : value.value()) {
    auto session = session_statistics_from_json_value(item);
    if (!session) {
      return Error{"session list [" + std::to_string(index) + "]: " + session.error().message};
    }
    sessions.push_back(std::move(session.value()));
    ++index;
  }
  return sessions;
}

}  // namespace mpx::protocol
