// Reply rules (see reply_rules.hpp).
#include "dispatcher/reply_rules.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace mpx::dispatcher {
namespace {

bool is_port(std::string_view token) {
  if (token.empty() || token.size() > 5 ||
      !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  unsigned value = 0;
  std::from_chars(token.data(), token.data() + token.size(), value);
  return value <= 65535;
}

}  // namespace

UpdatePayload classify_update_payload(std::string_view payload) {
  if (payload == "error") {
    return UpdatePayload::error;
  }
  if (payload == "halting") {
    return UpdatePayload::halting;
  }
  if (payload == "None") {
    return UpdatePayload::none;
  }
  // Tokens separated by single spaces, as the relay writes them; the module tokenises on any
  // whitespace, but anything else here means the relay is not speaking the protocol.
  std::size_t start = 0;
  bool first = true;
  while (true) {
    const auto space = payload.find(' ', start);
    const auto token = payload.substr(start, space == std::string_view::npos ? payload.npos
                                                                             : space - start);
    if (first) {
      boost::system::error_code error;
      const std::string ip(token);
      if (token.empty() || std::count(token.begin(), token.end(), '.') != 3) {
        return UpdatePayload::malformed;
      }
      boost::asio::ip::make_address_v4(ip, error);
      if (error) {
        return UpdatePayload::malformed;
      }
      first = false;
    } else if (!is_port(token)) {
      return UpdatePayload::malformed;
    }
    if (space == std::string_view::npos) {
      break;
    }
    start = space + 1;
  }
  return UpdatePayload::ports;
}

bool annotate_removed(protocol::SessionStatistics& stats,
                      const std::optional<std::string>& dialog_id) {
  stats.dispatcher = protocol::DispatcherAnnotations{dialog_id, false, std::nullopt};
  return stats.start_time.has_value();
}

ExpiredDecision annotate_expired(protocol::SessionStatistics& stats,
                                 const std::optional<std::string>& dialog_id) {
  const bool all_ice = std::all_of(stats.streams.begin(), stats.streams.end(), [](const auto& s) {
    return s.status == "unselected ICE candidate";
  });
  stats.dispatcher = protocol::DispatcherAnnotations{dialog_id, !all_ice, all_ice};
  ExpiredDecision decision;
  decision.account = stats.start_time.has_value();
  decision.end_dialog = dialog_id.has_value() && stats.start_time.has_value() && !all_ice;
  return decision;
}

}  // namespace mpx::dispatcher
