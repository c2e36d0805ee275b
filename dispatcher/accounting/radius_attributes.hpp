// MediaProxy's RADIUS accounting attribute mapping (compat spec 8.2): which attributes an ended
// session's statistics become, by dictionary name, with their values. Pure code with no radcli in
// sight, so the mapping is unit-tested on its own; radius_client.cpp turns the list into radcli
// value pairs through the loaded dictionaries (which decide attribute numbers and vendors).
//
// Deviations from MediaProxy, each where MediaProxy would have sent something a server rejects or
// crashed: strings are cut to 253 bytes (RADIUS' limit) at a UTF-8 character boundary; empty
// strings are left out (RFC 2865 allows 1-253 octets; MediaProxy sent Sip-To-Tag '' and Media-Info
// ''); NAS-IP-Address is left out when there is no stream or its caller_local is not IPv4; octet
// sums above 32 bits are sent modulo 2^32 with Acct-{Input,Output}-Gigawords (RFC 2869) added.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/protocol/session_statistics.hpp"

namespace mpx::dispatcher {

// Acct-Status-Type value MediaProxy sends (its dictionary names it `Update`; RFC 2866 Interim-Update).
inline constexpr std::uint32_t kRadiusAcctStatusUpdate = 3;
inline constexpr std::size_t kRadiusMaxStringLength = 253;
inline constexpr std::string_view kRadiusDefaultUserName = "mediaproxy@default";

using RadiusValue = std::variant<std::string, std::uint32_t, boost::asio::ip::address_v4>;

struct RadiusAttribute {
  std::string name;  // dictionary name, e.g. "Acct-Session-Id"
  RadiusValue value;
  bool operator==(const RadiusAttribute&) const = default;
};

// The attributes of one session, in MediaProxy's order.
std::vector<RadiusAttribute> radius_attributes(const protocol::SessionStatistics& session);

// `text` cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t limit = kRadiusMaxStringLength);

// The IPv4 address of an "ip:port" text, if it is one.
std::optional<boost::asio::ip::address_v4> ipv4_of_endpoint(std::string_view endpoint);

// One line for logs: `Acct-Session-Id="abc" Acct-Session-Time=30 NAS-IP-Address=10.0.0.1`.
std::string radius_attributes_text(const std::vector<RadiusAttribute>& attributes);

}  // namespace mpx::dispatcher
