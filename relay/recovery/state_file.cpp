// The relay's state file: JSON encoding and atomic file IO (see state_file.hpp).
#include "relay/recovery/state_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace mpx::relay::recovery {
namespace {

using nlohmann::json;
using session::Endpoint;
using session::TimePoint;

constexpr const char* kFormat = "mpx-relay-state";

// ---- encoding ----

std::string endpoint_text(const Endpoint& endpoint) { return endpoint.to_string(); }

std::string udp_text(const datapath::Endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::int64_t time_ns(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

template <typename T, typename F>
json optional_json(const std::optional<T>& value, F&& encode) {
  return value ? json(encode(*value)) : json(nullptr);
}

json offer_json(const std::optional<session::Offer>& offer) {
  if (!offer) {
    return nullptr;
  }
  return json{{"caller_cseq", offer->cseq.caller},
              {"callee_cseq", offer->cseq.callee},
              {"streams", offer->streams}};
}

json party_json(const session::PartyState& party) {
  return json{{"sdp", optional_json(party.sdp, endpoint_text)},
              {"on_hold", party.on_hold},
              {"ice", party.ice},
              {"codec", party.codec}};
}

json traffic_json(const session::StreamTraffic& traffic) {
  return json{{"caller_bytes", traffic.caller_bytes},
              {"callee_bytes", traffic.callee_bytes},
              {"caller_packets", traffic.caller_packets},
              {"callee_packets", traffic.callee_packets},
              {"caller_remote", optional_json(traffic.caller_remote, endpoint_text)},
              {"callee_remote", optional_json(traffic.callee_remote, endpoint_text)}};
}

json sub_json(const engine::SubStreamRecovery& sub) {
  json flow = nullptr;
  if (sub.installed) {
    flow = json{{"caller_remote", udp_text(sub.installed->caller_remote)},
                {"caller_local", udp_text(sub.installed->caller_local)},
                {"callee_local", udp_text(sub.installed->callee_local)},
                {"callee_remote", udp_text(sub.installed->callee_remote)}};
  }
  return json{{"flow", flow},
              {"gone_caller_packets", sub.gone.caller_packets},
              {"gone_caller_bytes", sub.gone.caller_bytes},
              {"gone_callee_packets", sub.gone.callee_packets},
              {"gone_callee_bytes", sub.gone.callee_bytes},
              {"caller_packets", sub.caller_packets},
              {"caller_bytes", sub.caller_bytes},
              {"callee_packets", sub.callee_packets},
              {"callee_bytes", sub.callee_bytes},
              {"caller_locked", optional_json(sub.caller_locked, endpoint_text)},
              {"callee_locked", optional_json(sub.callee_locked, endpoint_text)}};
}

json stream_json(const session::Stream& stream) {
  return json{{"id", stream.id},
              {"media_type", stream.media_type},
              {"caller_local", endpoint_text(stream.caller_local)},
              {"callee_local", endpoint_text(stream.callee_local)},
              {"has_ports", stream.has_ports},
              {"caller", party_json(stream.caller)},
              {"callee", party_json(stream.callee)},
              {"alive", stream.alive},
              {"status", stream.status},
              {"timeout_wait", stream.timeout_wait},
              {"create_time", time_ns(stream.create_time)},
              {"start_time", optional_json(stream.start_time, time_ns)},
              {"end_time", optional_json(stream.end_time, time_ns)},
              {"first_media_time", optional_json(stream.first_media_time, time_ns)},
              {"final_traffic", traffic_json(stream.final_traffic)}};
}

json ip_json(const std::optional<boost::asio::ip::address_v4>& ip) {
  return ip ? json(ip->to_string()) : json(nullptr);
}

json session_json(const RecoveredSession& recovered) {
  const auto& s = recovered.session;
  json streams = json::array();
  for (const auto& stream : s.streams) {
    streams.push_back(stream_json(stream));
  }
  json media = json::array();
  for (const auto& stream : recovered.media) {
    media.push_back(json{{"id", stream.id}, {"rtp", sub_json(stream.rtp)},
                         {"rtcp", sub_json(stream.rtcp)}});
  }
  return json{{"call_id", s.key.first},
              {"from_tag", s.key.second},
              {"origin", s.origin},
              {"from_uri", s.from_uri},
              {"to_uri", s.to_uri},
              {"to_tag", optional_json(s.to_tag, [](const std::string& v) { return v; })},
              {"caller_ua", optional_json(s.caller_ua, [](const std::string& v) { return v; })},
              {"callee_ua", optional_json(s.callee_ua, [](const std::string& v) { return v; })},
              {"signaling_ip", ip_json(s.signaling.signaling_ip)},
              {"destination_ip", ip_json(s.signaling.destination_ip)},
              {"username",
               optional_json(s.signaling.username, [](const std::string& v) { return v; })},
              {"caller_signaling_ip", ip_json(s.caller_signaling_ip)},
              {"callee_signaling_ip", ip_json(s.callee_signaling_ip)},
              {"caller_side_ip", s.caller_side_ip.to_string()},
              {"callee_side_ip", s.callee_side_ip.to_string()},
              {"start_time", optional_json(s.start_time, time_ns)},
              {"end_time", optional_json(s.end_time, time_ns)},
              {"current", offer_json(s.current)},
              {"previous", offer_json(s.previous)},
              {"streams", streams},
              {"media", media}};
}

// ---- decoding: json exceptions (missing key, wrong type) become one Error in parse_state ----

struct Bad {
  std::string what;
};

// nlohmann iterates an object's values and a lone number as if they were arrays.
const json& array_of(const json& value) {
  if (!value.is_array()) {
    throw Bad{"not an array: " + value.dump().substr(0, 80)};
  }
  return value;
}

// nlohmann converts a negative number to a huge unsigned one without complaint.
std::uint64_t unsigned_of(const json& value) {
  if (!value.is_number_unsigned()) {
    throw Bad{"not a whole number >= 0: " + value.dump()};
  }
  return value.get<std::uint64_t>();
}

boost::asio::ip::address_v4 ip_of(const std::string& text) {
  boost::system::error_code error;
  const auto ip = boost::asio::ip::make_address_v4(text, error);
  if (error) {
    throw Bad{"not an IPv4 address: \"" + text + "\""};
  }
  return ip;
}

Endpoint endpoint_of(const json& value) {
  const auto text = value.get<std::string>();
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw Bad{"not IP:port: \"" + text + "\""};
  }
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port > 65535) {
      throw Bad{"bad port in \"" + text + "\""};
    }
  } catch (const std::logic_error&) {
    throw Bad{"bad port in \"" + text + "\""};
  }
  return Endpoint{ip_of(text.substr(0, colon)), static_cast<std::uint16_t>(port)};
}

datapath::Endpoint udp_of(const json& value) {
  const auto endpoint = endpoint_of(value);
  return {endpoint.ip, endpoint.port};
}

std::optional<Endpoint> optional_endpoint(const json& value) {
  return value.is_null() ? std::nullopt : std::optional<Endpoint>(endpoint_of(value));
}

std::optional<boost::asio::ip::address_v4> optional_ip(const json& value) {
  if (value.is_null()) {
    return std::nullopt;
  }
  return ip_of(value.get<std::string>());
}

std::optional<std::string> optional_string(const json& value) {
  return value.is_null() ? std::nullopt : std::optional<std::string>(value.get<std::string>());
}

TimePoint time_of(const json& value) {
  return TimePoint(std::chrono::duration_cast<session::Clock::duration>(
      std::chrono::nanoseconds(value.get<std::int64_t>())));
}

std::optional<TimePoint> optional_time(const json& value) {
  return value.is_null() ? std::nullopt : std::optional<TimePoint>(time_of(value));
}

std::optional<session::Offer> offer_of(const json& value) {
  if (value.is_null()) {
    return std::nullopt;
  }
  session::Offer offer;
  offer.cseq.caller = unsigned_of(value.at("caller_cseq"));
  offer.cseq.callee = unsigned_of(value.at("callee_cseq"));
  for (const auto& id : array_of(value.at("streams"))) {
    offer.streams.push_back(unsigned_of(id));
  }
  return offer;
}

session::PartyState party_of(const json& value) {
  session::PartyState party;
  party.sdp = optional_endpoint(value.at("sdp"));
  party.on_hold = value.at("on_hold").get<bool>();
  party.ice = value.at("ice").get<bool>();
  party.codec = value.at("codec").get<std::string>();
  return party;
}

session::StreamTraffic traffic_of(const json& value) {
  session::StreamTraffic traffic;
  traffic.caller_bytes = unsigned_of(value.at("caller_bytes"));
  traffic.callee_bytes = unsigned_of(value.at("callee_bytes"));
  traffic.caller_packets = unsigned_of(value.at("caller_packets"));
  traffic.callee_packets = unsigned_of(value.at("callee_packets"));
  traffic.caller_remote = optional_endpoint(value.at("caller_remote"));
  traffic.callee_remote = optional_endpoint(value.at("callee_remote"));
  return traffic;
}

engine::SubStreamRecovery sub_of(const json& value) {
  engine::SubStreamRecovery sub;
  if (const auto& flow = value.at("flow"); !flow.is_null()) {
    sub.installed =
        datapath::Flow{udp_of(flow.at("caller_remote")), udp_of(flow.at("caller_local")),
                       udp_of(flow.at("callee_local")), udp_of(flow.at("callee_remote"))};
  }
  sub.gone.caller_packets = unsigned_of(value.at("gone_caller_packets"));
  sub.gone.caller_bytes = unsigned_of(value.at("gone_caller_bytes"));
  sub.gone.callee_packets = unsigned_of(value.at("gone_callee_packets"));
  sub.gone.callee_bytes = unsigned_of(value.at("gone_callee_bytes"));
  sub.caller_packets = unsigned_of(value.at("caller_packets"));
  sub.caller_bytes = unsigned_of(value.at("caller_bytes"));
  sub.callee_packets = unsigned_of(value.at("callee_packets"));
  sub.callee_bytes = unsigned_of(value.at("callee_bytes"));
  sub.caller_locked = optional_endpoint(value.at("caller_locked"));
  sub.callee_locked = optional_endpoint(value.at("callee_locked"));
  return sub;
}

session::Stream stream_of(const json& value) {
  session::Stream stream;
  stream.id = unsigned_of(value.at("id"));
  stream.media_type = value.at("media_type").get<std::string>();
  stream.caller_local = endpoint_of(value.at("caller_local"));
  stream.callee_local = endpoint_of(value.at("callee_local"));
  stream.has_ports = value.at("has_ports").get<bool>();
  stream.caller = party_of(value.at("caller"));
  stream.callee = party_of(value.at("callee"));
  stream.alive = value.at("alive").get<bool>();
  stream.status = value.at("status").get<std::string>();
  stream.timeout_wait = value.at("timeout_wait").get<std::int64_t>();
  stream.create_time = time_of(value.at("create_time"));
  stream.start_time = optional_time(value.at("start_time"));
  stream.end_time = optional_time(value.at("end_time"));
  stream.first_media_time = optional_time(value.at("first_media_time"));
  stream.final_traffic = traffic_of(value.at("final_traffic"));
  return stream;
}

RecoveredSession session_of(const json& value) {
  RecoveredSession out;
  auto& s = out.session;
  s.key = {value.at("call_id").get<std::string>(), value.at("from_tag").get<std::string>()};
  s.origin = value.at("origin").get<std::string>();
  s.from_uri = value.at("from_uri").get<std::string>();
  s.to_uri = value.at("to_uri").get<std::string>();
  s.to_tag = optional_string(value.at("to_tag"));
  s.caller_ua = optional_string(value.at("caller_ua"));
  s.callee_ua = optional_string(value.at("callee_ua"));
  s.signaling.signaling_ip = optional_ip(value.at("signaling_ip"));
  s.signaling.destination_ip = optional_ip(value.at("destination_ip"));
  s.signaling.username = optional_string(value.at("username"));
  s.caller_signaling_ip = optional_ip(value.at("caller_signaling_ip"));
  s.callee_signaling_ip = optional_ip(value.at("callee_signaling_ip"));
  s.caller_side_ip = ip_of(value.at("caller_side_ip").get<std::string>());
  s.callee_side_ip = ip_of(value.at("callee_side_ip").get<std::string>());
  s.start_time = optional_time(value.at("start_time"));
  s.end_time = optional_time(value.at("end_time"));
  s.current = offer_of(value.at("current"));
  s.previous = offer_of(value.at("previous"));
  for (const auto& stream : array_of(value.at("streams"))) {
    s.streams.push_back(stream_of(stream));
  }
  for (const auto& media : array_of(value.at("media"))) {
    engine::StreamRecovery stream;
    stream.id = unsigned_of(media.at("id"));
    stream.rtp = sub_of(media.at("rtp"));
    stream.rtcp = sub_of(media.at("rtcp"));
    out.media.push_back(stream);
  }
  for (std::size_t i = 0; i < s.streams.size(); ++i) {
    for (std::size_t j = i + 1; j < s.streams.size(); ++j) {
      if (s.streams[i].id == s.streams[j].id) {
        throw Bad{"session " + s.key.first + ": stream " + std::to_string(s.streams[i].id) +
                  " appears twice"};
      }
    }
  }
  // The offers and the media must name streams of this session.
  const auto known = [&](session::StreamId id) {
    for (const auto& stream : s.streams) {
      if (stream.id == id) {
        return true;
      }
    }
    return false;
  };
  for (const auto* offer : {&s.current, &s.previous}) {
    if (*offer) {
      for (const auto id : (*offer)->streams) {
        if (!known(id)) {
          throw Bad{"session " + s.key.first + ": an offer names unknown stream " +
                    std::to_string(id)};
        }
      }
    }
  }
  for (const auto& media : out.media) {
    if (!known(media.id)) {
      throw Bad{"session " + s.key.first + ": media for unknown stream " +
                std::to_string(media.id)};
    }
  }
  return out;
}

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

std::string to_json(const RelayState& state) {
  json sessions = json::array();
  for (const auto& session : state.sessions) {
    sessions.push_back(session_json(session));
  }
  const json document{{"format", kFormat},
                      {"version", kStateFormatVersion},
                      {"datapath", state.datapath},
                      {"sessions", sessions}};
  return document.dump();
}

Result<RelayState> parse_state(std::string_view text) {
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return Error{"not a JSON document (truncated or corrupt)"};
  }
  try {
    if (!document.is_object() || document.value("format", std::string()) != kFormat) {
      return Error{std::string("not an mpx relay state file (no \"format\": \"") + kFormat +
                   "\")"};
    }
    if (const int version = document.at("version").get<int>(); version != kStateFormatVersion) {
      return Error{"state format version " + std::to_string(version) + " is not supported (" +
                   std::to_string(kStateFormatVersion) + ")"};
    }
    RelayState state;
    state.datapath = document.at("datapath").get<std::string>();
    for (const auto& session : array_of(document.at("sessions"))) {
      state.sessions.push_back(session_of(session));
    }
    return state;
  } catch (const Bad& bad) {
    return Error{bad.what};
  } catch (const json::exception& error) {
    return Error{std::string("bad state document: ") + error.what()};
  }
}

Result<void> write_state_file(const std::filesystem::path& path, const RelayState& state) {
  const std::string text = to_json(state);
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"cannot create " + temporary.string() + ": " + errno_text(errno)};
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return Error{"cannot write " + temporary.string() + ": " + errno_text(error)};
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    return Error{"cannot fsync " + temporary.string() + ": " + errno_text(error)};
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return Error{"cannot rename " + temporary.string() + " to " + path.string() + ": " +
                 errno_text(error)};
  }
  // The rename itself must survive a power loss.
  const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return outcome::success();
}

Result<std::optional<RelayState>> read_state_file(const std::filesystem::path& path,
                                                  std::size_t max_bytes) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    if (error) {
      return Error{"cannot read " + path.string() + ": " + error.message()};
    }
    return std::optional<RelayState>();
  }
  const auto size = std::filesystem::file_size(path, error);
  if (error) {
    return Error{"cannot read " + path.string() + ": " + error.message()};
  }
  if (size > max_bytes) {
    return Error{path.string() + " is " + std::to_string(size) + " bytes, more than the " +
                 std::to_string(max_bytes) + " a state file may have"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{"cannot open " + path.string()};
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_state(text.str());
  if (!parsed) {
    return Error{path.string() + ": " + parsed.error().message};
  }
  return std::optional<RelayState>(std::move(parsed).value());
}

Result<void> remove_state_file(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::remove(path, error);
  if (error) {
    return Error{"cannot remove " + path.string() + ": " + error.message()};
  }
  return outcome::success();
}

}  // namespace mpx::relay::recovery
