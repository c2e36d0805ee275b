// Session statistics JSON model (see session_statistics.hpp).
#include "common/protocol/session_statistics.hpp"

#include "common/protocol/json_fields.hpp"
#include "common/protocol/python_json.hpp"

namespace mpx::protocol {
namespace {

using detail::JsonFieldReader;

nlohmann::ordered_json nullable(const std::optional<std::string>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json nullable(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

Result<StreamStatistics> stream_from_json(const nlohmann::json& value, std::string where) {
  JsonFieldReader r(value, std::move(where));
  StreamStatistics s;
  r.read("media_type", s.media_type);
  r.read("status", s.status);
  r.read("timeout_wait", s.timeout_wait);
  r.read("caller_codec", s.caller_codec);
  r.read("callee_codec", s.callee_codec);
  r.read("start_time", s.start_time);
  r.read("end_time", s.end_time);
  r.read("post_dial_delay", s.post_dial_delay);
  r.read("caller_bytes", s.caller_bytes);
  r.read("callee_bytes", s.callee_bytes);
  r.read("caller_packets", s.caller_packets);
  r.read("callee_packets", s.callee_packets);
  r.read("caller_local", s.caller_local);
  r.read("callee_local", s.callee_local);
  r.read("caller_remote", s.caller_remote);
  r.read("callee_remote", s.callee_remote);
  if (r.failed()) {
    return r.error();
  }
  return s;
}

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

nlohmann::ordered_json to_ordered_json(const StreamStatistics& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["media_type"] = s.media_type;
  j["status"] = s.status;
  j["timeout_wait"] = s.timeout_wait;
  j["caller_codec"] = s.caller_codec;
  j["callee_codec"] = s.callee_codec;
  j["start_time"] = s.start_time;
  j["end_time"] = s.end_time;
  j["post_dial_delay"] = nullable(s.post_dial_delay);
  j["caller_bytes"] = s.caller_bytes;
  j["callee_bytes"] = s.callee_bytes;
  j["caller_packets"] = s.caller_packets;
  j["callee_packets"] = s.callee_packets;
  j["caller_local"] = s.caller_local;
  j["callee_local"] = s.callee_local;
  j["caller_remote"] = s.caller_remote;
  j["callee_remote"] = s.callee_remote;
  return j;
}

nlohmann::ordered_json to_ordered_json(const SessionStatistics& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["call_id"] = s.call_id;
  j["from_tag"] = s.from_tag;
  j["from_uri"] = s.from_uri;
  j["to_tag"] = nullable(s.to_tag);
  j["to_uri"] = s.to_uri;
  j["start_time"] = nullable(s.start_time);
  j["duration"] = s.duration;
  j["caller_ua"] = s.caller_ua;
  j["callee_ua"] = s.callee_ua;
  j["username"] = nullable(s.username);
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
      j["dialog_id"] = nullable(a.dialog_id);
      j["all_streams_ice"] = *a.all_streams_ice;
    } else {
      j["dialog_id"] = nullable(a.dialog_id);
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
  r.read("call_id", s.call_id);
  r.read("from_tag", s.from_tag);
  r.read("from_uri", s.from_uri);
  r.read("to_tag", s.to_tag);
  r.read("to_uri", s.to_uri);
  r.read("start_time", s.start_time);
  r.read("duration", s.duration);
  r.read("caller_ua", s.caller_ua);
  r.read("callee_ua", s.callee_ua);
  r.read("username", s.username);
  if (const auto* streams = r.require_array("streams")) {
    std::size_t index = 0;
    for (const auto& item : *streams) {
      auto stream = stream_from_json(item, "session statistics streams[" +
                                               std::to_string(index++) + "]");
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
  auto value = detail::parse_json_text(text, "session statistics");
  if (!value) {
    return value.error();
  }
  return session_statistics_from_json_value(value.value());
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
