// MediaProxy's RADIUS attribute mapping (compat spec 8.2), transcribed from its radius.py.
#include "dispatcher/accounting/radius_attributes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace mpx::dispatcher {

namespace {

constexpr std::uint64_t kLow32 = 0xffffffffULL;

std::uint32_t clamp_u32(std::int64_t value) {
  if (value < 0) {
    return 0;
  }
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(value), kLow32));
}

void add_string(std::vector<RadiusAttribute>& out, std::string name, std::string_view value) {
  if (value.empty()) {
    return;
  }
  out.push_back({std::move(name), truncate_utf8(value)});
}

void add_octets(std::vector<RadiusAttribute>& out, const char* octets_name,
                const char* gigawords_name, std::uint64_t total) {
  out.push_back({octets_name, static_cast<std::uint32_t>(total & kLow32)});
  if (total > kLow32) {
    out.push_back({gigawords_name, static_cast<std::uint32_t>(total >> 32U)});
  }
}

std::string join(const auto& items) {
  std::string joined;
  for (const auto& item : items) {
    if (!joined.empty()) {
      joined += ", ";
    }
    joined += item;
  }
  return joined;
}

}  // namespace

std::string truncate_utf8(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return std::string(text);
  }
  std::size_t cut = limit;
  // Step back over continuation bytes (10xxxxxx) so the cut lands before a sequence's lead byte.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
    --cut;
  }
  return std::string(text.substr(0, cut));
}

std::optional<boost::asio::ip::address_v4> ipv4_of_endpoint(std::string_view endpoint) {
  const auto colon = endpoint.rfind(':');
  const auto host = colon == std::string_view::npos ? endpoint : endpoint.substr(0, colon);
  boost::system::error_code error;
  auto address = boost::asio::ip::make_address_v4(std::string(host), error);
  if (error) {
    return std::nullopt;
  }
  return address;
}

std::vector<RadiusAttribute> radius_attributes(const protocol::SessionStatistics& session) {
  std::vector<RadiusAttribute> out;
  out.push_back({"Acct-Status-Type", kRadiusAcctStatusUpdate});
  add_string(out, "User-Name",
             session.username && !session.username->empty() ? std::string_view(*session.username)
                                                             : kRadiusDefaultUserName);
  add_string(out, "Acct-Session-Id", session.call_id);
  out.push_back({"Acct-Session-Time", clamp_u32(session.duration)});
  std::uint64_t caller_bytes = 0;
  std::uint64_t callee_bytes = 0;
  for (const auto& stream : session.streams) {
    caller_bytes += stream.caller_bytes;
    callee_bytes += stream.callee_bytes;
  }
  add_octets(out, "Acct-Input-Octets", "Acct-Input-Gigawords", caller_bytes);
  add_octets(out, "Acct-Output-Octets", "Acct-Output-Gigawords", callee_bytes);
  add_string(out, "Sip-From-Tag", session.from_tag);
  add_string(out, "Sip-To-Tag", session.to_tag.value_or(""));
  if (!session.streams.empty()) {
    if (auto nas = ipv4_of_endpoint(session.streams.front().caller_local)) {
      out.push_back({"NAS-IP-Address", *nas});
    }
  }
  add_string(out, "Sip-User-Agents", session.caller_ua + "+" + session.callee_ua);
  std::set<std::string> applications;
  std::vector<std::string> codecs;
  for (const auto& stream : session.streams) {
    if (stream.start_time != stream.end_time) {
      applications.insert(stream.media_type);
    }
    codecs.push_back(stream.caller_codec);
  }
  add_string(out, "Sip-Applications", join(applications));
  add_string(out, "Media-Codecs", join(codecs));
  const bool timed_out = session.dispatcher && session.dispatcher->timed_out;
  const bool all_ice = session.dispatcher && session.dispatcher->all_streams_ice.value_or(false);
  if (all_ice) {
    add_string(out, "Media-Info", "ICE session");
  } else if (timed_out) {
    add_string(out, "Media-Info", "timeout");
  }
  for (const auto& stream : session.streams) {
    if (stream.post_dial_delay) {
      const double delay = *stream.post_dial_delay;
      // int() of Python truncates; negative or absurd values cannot be sent as an unsigned 32-bit.
      const auto seconds = delay > 0 && delay < 4294967295.0 ? static_cast<std::uint32_t>(delay) : 0U;
      out.push_back({"Acct-Delay-Time", seconds});
      break;
    }
  }
  return out;
}

std::string radius_attributes_text(const std::vector<RadiusAttribute>& attributes) {
  std::string text;
  for (const auto& attribute : attributes) {
    if (!text.empty()) {
      text += ' ';
    }
    text += attribute.name;
    text += '=';
    if (const auto* s = std::get_if<std::string>(&attribute.value)) {
      text += nlohmann::json(*s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else if (const auto* n = std::get_if<std::uint32_t>(&attribute.value)) {
      text += std::to_string(*n);
    } else {
      text += std::get<boost::asio::ip::address_v4>(attribute.value).to_string();
    }
  }
  return text;
}

}  // namespace mpx::dispatcher
