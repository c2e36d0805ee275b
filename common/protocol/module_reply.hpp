// Protocol A replies (dispatcher -> OpenSIPS module, compat spec 2.5): one line each. The
// dispatcher never sends MediaProxy's `None` (OpenSIPS issue #242): it answers `error` instead.
#pragma once

#include <boost/asio/ip/address_v4.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace mpx::protocol {

inline constexpr std::string_view kRemovedReply = "removed\r\n";
inline constexpr std::string_view kErrorReply = "error\r\n";

// "<ip> <p1> ... <pN>": the relay's `update` payload, one port per stream of the relevant offer
// (0 for a closed or rejected stream). No line terminator.
std::string format_ports(const boost::asio::ip::address_v4& ip,
                         std::span<const std::uint16_t> ports);

// The same followed by "\r\n": the module's success reply line.
std::string format_ports_reply(const boost::asio::ip::address_v4& ip,
                               std::span<const std::uint16_t> ports);

}  // namespace mpx::protocol
