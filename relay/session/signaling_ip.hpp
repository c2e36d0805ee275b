// The `signaling_ip` header (compat spec 5.4), first matching form wins:
//   1. a JSON object {"signaling_ip": ..., "destination_ip": ..., "username": ...}, all optional;
//   2. "SRC_DST": two IPv4 addresses joined by '_';
//   3. a single IPv4 address.
// It only selects interfaces (auto_detect_interfaces) and feeds `username` into the statistics;
// it plays no part in latching or security.
#pragma once

#include "common/result.hpp"

#include <boost/asio/ip/address_v4.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mpx::relay::session {

struct SignalingAddresses {
  std::optional<boost::asio::ip::address_v4> signaling_ip;    // where the signaling came from
  std::optional<boost::asio::ip::address_v4> destination_ip;  // where it goes, if known
  std::optional<std::string> username;
  bool operator==(const SignalingAddresses&) const = default;
};

// Errors say which form was recognised and what is wrong with it, e.g.
// `signaling_ip: "destination_ip" is not an IPv4 address: "10.0.0"`.
Result<SignalingAddresses> parse_signaling_ip(std::string_view value);

}  // namespace mpx::relay::session
