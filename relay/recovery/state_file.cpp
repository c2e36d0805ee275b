// The relay's state file: JSON encoding and atomic file IO (see state_file.hpp).
#include "relay/recovery/state_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>
#include <system_error>
#include <tuple>

namespace mpx::relay::recovery {
namespace {

using nlohmann::json;
using session::Endpoint;
using session::TimePoint;

constexpr const char* kFormat = "mpx-relay-state";

// Reading throws Bad for a value nlohmann accepts but the relay cannot use, and lets nlohmann's
// own exceptions (missing key, wrong JSON type) through: parse_state turns either into one Error.
struct Bad {
  std::string what;
};

// ---- checks nlohmann does not make ----

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

// ---- every member type's JSON form: encode() writes it, decode() reads it ----

// The objects, defined by their field tables below.
json encode(const session::Offer& offer);
json encode(const session::PartyState& party);
json encode(const session::StreamTraffic& traffic);
json encode(const datapath::Flow& flow);
json encode(const engine::SubStreamRecovery& sub);
json encode(const session::Stream& stream);
json encode(const engine::StreamRecovery& media);
json encode(const RecoveredSession& recovered);
void decode(const json& value, session::Offer& offer);
void decode(const json& value, session::PartyState& party);
void decode(const json& value, session::StreamTraffic& traffic);
void decode(const json& value, datapath::Flow& flow);
void decode(const json& value, engine::SubStreamRecovery& sub);
void decode(const json& value, session::Stream& stream);
void decode(const json& value, engine::StreamRecovery& media);
void decode(const json& value, RecoveredSession& recovered);

json encode(const std::string& text) { return text; }
json encode(bool flag) { return flag; }
json encode(std::int64_t number) { return number; }
json encode(std::uint64_t number) { return number; }
json encode(const boost::asio::ip::address_v4& ip) { return ip.to_string(); }
json encode(const Endpoint& endpoint) { return endpoint.to_string(); }
json encode(const datapath::Endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}
// Nanoseconds since the epoch: the times survive to the nanosecond.
json encode(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

void decode(const json& value, std::string& text) { text = value.get<std::string>(); }
void decode(const json& value, bool& flag) { flag = value.get<bool>(); }
void decode(const json& value, std::int64_t& number) { number = value.get<std::int64_t>(); }
void decode(const json& value, std::uint64_t& number) { number = unsigned_of(value); }
void decode(const json& value, boost::asio::ip::address_v4& ip) {
  ip = ip_of(value.get<std::string>());
}
void decode(const json& value, Endpoint& endpoint) { endpoint = endpoint_of(value); }
void decode(const json& value, datapath::Endpoint& endpoint) {
  const auto parsed = endpoint_of(value);
  endpoint = {parsed.ip, parsed.port};
}
void decode(const json& value, TimePoint& time) {
  time = TimePoint(std::chrono::duration_cast<session::Clock::duration>(
      std::chrono::nanoseconds(value.get<std::int64_t>())));
}

// An absent value is null.
template <class T>
json encode(const std::optional<T>& value) {
  return value ? encode(*value) : json(nullptr);
}
template <class T>
void decode(const json& value, std::optional<T>& out) {
  if (value.is_null()) {
    out.reset();
    return;
  }
  T item{};
  decode(value, item);
  out = std::move(item);
}

template <class T>
json encode(const std::vector<T>& items) {
  json array = json::array();
  for (const auto& item : items) {
    array.push_back(encode(item));
  }
  return array;
}
template <class T>
void decode(const json& value, std::vector<T>& out) {
  for (const auto& element : array_of(value)) {
    T item{};
    decode(element, item);
    out.push_back(std::move(item));
  }
}

// ---- the objects as tables: one table per struct drives both encode() and decode() ----

// One key of an object and the member it holds: a data member pointer, or nested() for a member
// of an inner struct that the JSON keeps flat.
template <class Access>
struct Field {
  const char* key;
  Access member;
};
template <class Access>
Field(const char*, Access) -> Field<Access>;

template <class Outer, class Inner, class Member>
constexpr auto nested(Inner Outer::*inner, Member Inner::*member) {
  return [inner, member](auto& outer) -> auto& { return outer.*inner.*member; };
}

// nlohmann::json sorts an object's keys when it writes them, so the table's order does not
// change the file; it is the order decode() reads the keys in, which decides the key an error
// names when several are wrong.
template <class Struct, class Table>
json encode_object(const Struct& in, const Table& table) {
  json object = json::object();
  std::apply(
      [&](const auto&... field) {
        ((object[field.key] = encode(std::invoke(field.member, in))), ...);
      },
      table);
  return object;
}

template <class Struct, class Table>
void decode_object(const json& object, const Table& table, Struct& out) {
  std::apply(
      [&](const auto&... field) {
        (decode(object.at(field.key), std::invoke(field.member, out)), ...);
      },
      table);
}

constexpr std::tuple kOfferFields{
    Field{"caller_cseq", nested(&session::Offer::cseq, &session::CseqPair::caller)},
    Field{"callee_cseq", nested(&session::Offer::cseq, &session::CseqPair::callee)},
    Field{"streams", &session::Offer::streams},
};

constexpr std::tuple kPartyFields{
    Field{"sdp", &session::PartyState::sdp},
    Field{"on_hold", &session::PartyState::on_hold},
    Field{"ice", &session::PartyState::ice},
    Field{"codec", &session::PartyState::codec},
};

constexpr std::tuple kTrafficFields{
    Field{"caller_bytes", &session::StreamTraffic::caller_bytes},
    Field{"callee_bytes", &session::StreamTraffic::callee_bytes},
    Field{"caller_packets", &session::StreamTraffic::caller_packets},
    Field{"callee_packets", &session::StreamTraffic::callee_packets},
    Field{"caller_remote", &session::StreamTraffic::caller_remote},
    Field{"callee_remote", &session::StreamTraffic::callee_remote},
};

constexpr std::tuple kFlowFields{
    Field{"caller_remote", &datapath::Flow::caller_remote},
    Field{"caller_local", &datapath::Flow::caller_local},
    Field{"callee_local", &datapath::Flow::callee_local},
    Field{"callee_remote", &datapath::Flow::callee_remote},
};

// The counters of the flows already removed are kept flat, with a "gone_" prefix.
constexpr std::tuple kSubStreamFields{
    Field{"flow", &engine::SubStreamRecovery::installed},
    Field{"gone_caller_packets",
          nested(&engine::SubStreamRecovery::gone, &datapath::FlowCounters::caller_packets)},
    Field{"gone_caller_bytes",
          nested(&engine::SubStreamRecovery::gone, &datapath::FlowCounters::caller_bytes)},
    Field{"gone_callee_packets",
          nested(&engine::SubStreamRecovery::gone, &datapath::FlowCounters::callee_packets)},
    Field{"gone_callee_bytes",
          nested(&engine::SubStreamRecovery::gone, &datapath::FlowCounters::callee_bytes)},
    Field{"caller_packets", &engine::SubStreamRecovery::caller_packets},
    Field{"caller_bytes", &engine::SubStreamRecovery::caller_bytes},
    Field{"callee_packets", &engine::SubStreamRecovery::callee_packets},
    Field{"callee_bytes", &engine::SubStreamRecovery::callee_bytes},
    Field{"caller_locked", &engine::SubStreamRecovery::caller_locked},
    Field{"callee_locked", &engine::SubStreamRecovery::callee_locked},
};

constexpr std::tuple kStreamFields{
    Field{"id", &session::Stream::id},
    Field{"media_type", &session::Stream::media_type},
    Field{"caller_local", &session::Stream::caller_local},
    Field{"callee_local", &session::Stream::callee_local},
    Field{"has_ports", &session::Stream::has_ports},
    Field{"caller", &session::Stream::caller},
    Field{"callee", &session::Stream::callee},
    Field{"alive", &session::Stream::alive},
    Field{"status", &session::Stream::status},
    Field{"timeout_wait", &session::Stream::timeout_wait},
    Field{"create_time", &session::Stream::create_time},
    Field{"start_time", &session::Stream::start_time},
    Field{"end_time", &session::Stream::end_time},
    Field{"first_media_time", &session::Stream::first_media_time},
    Field{"final_traffic", &session::Stream::final_traffic},
};

constexpr std::tuple kMediaFields{
    Field{"id", &engine::StreamRecovery::id},
    Field{"rtp", &engine::StreamRecovery::rtp},
    Field{"rtcp", &engine::StreamRecovery::rtcp},
};

// A session object holds these keys of the snapshot, then "media".
constexpr std::tuple kSessionFields{
    Field{"call_id", nested(&session::SessionSnapshot::key, &session::SessionKey::first)},
    Field{"from_tag", nested(&session::SessionSnapshot::key, &session::SessionKey::second)},
    Field{"origin", &session::SessionSnapshot::origin},
    Field{"from_uri", &session::SessionSnapshot::from_uri},
    Field{"to_uri", &session::SessionSnapshot::to_uri},
    Field{"to_tag", &session::SessionSnapshot::to_tag},
    Field{"caller_ua", &session::SessionSnapshot::caller_ua},
    Field{"callee_ua", &session::SessionSnapshot::callee_ua},
    Field{"signaling_ip", nested(&session::SessionSnapshot::signaling,
                                 &session::SignalingAddresses::signaling_ip)},
    Field{"destination_ip", nested(&session::SessionSnapshot::signaling,
                                   &session::SignalingAddresses::destination_ip)},
    Field{"username", nested(&session::SessionSnapshot::signaling,
                             &session::SignalingAddresses::username)},
    Field{"caller_signaling_ip", &session::SessionSnapshot::caller_signaling_ip},
    Field{"callee_signaling_ip", &session::SessionSnapshot::callee_signaling_ip},
    Field{"caller_side_ip", &session::SessionSnapshot::caller_side_ip},
    Field{"callee_side_ip", &session::SessionSnapshot::callee_side_ip},
    Field{"start_time", &session::SessionSnapshot::start_time},
    Field{"end_time", &session::SessionSnapshot::end_time},
    Field{"current", &session::SessionSnapshot::current},
    Field{"previous", &session::SessionSnapshot::previous},
    Field{"streams", &session::SessionSnapshot::streams},
};

json encode(const session::Offer& offer) { return encode_object(offer, kOfferFields); }
json encode(const session::PartyState& party) { return encode_object(party, kPartyFields); }
json encode(const session::StreamTraffic& traffic) {
  return encode_object(traffic, kTrafficFields);
}
json encode(const datapath::Flow& flow) { return encode_object(flow, kFlowFields); }
json encode(const engine::SubStreamRecovery& sub) { return encode_object(sub, kSubStreamFields); }
json encode(const session::Stream& stream) { return encode_object(stream, kStreamFields); }
json encode(const engine::StreamRecovery& media) { return encode_object(media, kMediaFields); }
json encode(const RecoveredSession& recovered) {
  json object = encode_object(recovered.session, kSessionFields);
  object["media"] = encode(recovered.media);
  return object;
}

void decode(const json& value, session::Offer& offer) { decode_object(value, kOfferFields, offer); }
void decode(const json& value, session::PartyState& party) {
  decode_object(value, kPartyFields, party);
}
void decode(const json& value, session::StreamTraffic& traffic) {
  decode_object(value, kTrafficFields, traffic);
}
void decode(const json& value, datapath::Flow& flow) { decode_object(value, kFlowFields, flow); }
void decode(const json& value, engine::SubStreamRecovery& sub) {
  decode_object(value, kSubStreamFields, sub);
}
void decode(const json& value, session::Stream& stream) {
  decode_object(value, kStreamFields, stream);
}
void decode(const json& value, engine::StreamRecovery& media) {
  decode_object(value, kMediaFields, media);
}

// A session's streams are unique, and its offers and media name only them.
void check_stream_references(const RecoveredSession& recovered) {
  const auto& s = recovered.session;
  for (std::size_t i = 0; i < s.streams.size(); ++i) {
    for (std::size_t j = i + 1; j < s.streams.size(); ++j) {
      if (s.streams[i].id == s.streams[j].id) {
        throw Bad{"session " + s.key.first + ": stream " + std::to_string(s.streams[i].id) +
                  " appears twice"};
      }
    }
  }
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
  for (const auto& media : recovered.media) {
    if (!known(media.id)) {
      throw Bad{"session " + s.key.first + ": media for unknown stream " +
                std::to_string(media.id)};
    }
  }
}

void decode(const json& value, RecoveredSession& recovered) {
  decode_object(value, kSessionFields, recovered.session);
  decode(value.at("media"), recovered.media);
  check_stream_references(recovered);
}

std::string errno_text(int error) { return std::strerror(error); }

}  // namespace

std::string to_json(const RelayState& state) {
  const json document{{"format", kFormat},
                      {"version", kStateFormatVersion},
                      {"datapath", state.datapath},
                      {"sessions", encode(state.sessions)}};
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
    decode(document.at("datapath"), state.datapath);
    decode(document.at("sessions"), state.sessions);
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
