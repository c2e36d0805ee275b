// Parsers for config.ini option values: text (already trimmed, continuation lines joined with
// '\n') to typed value. On failure the error message is an optional detail naming the bad part
// (may be empty); the caller adds file, line, option and the accepted forms.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.hpp"

namespace mpx::config::detail {

// yes/no, true/false, on/off, 1/0, any case.
mpx::Result<bool> parse_bool(std::string_view text);

// Decimal integer (optional '+') in [min, max].
mpx::Result<std::uint32_t> parse_uint(std::string_view text, std::uint32_t min, std::uint32_t max);

// Whole seconds in [min, 2^31-1].
mpx::Result<Seconds> parse_seconds(std::string_view text, std::uint32_t min);

// Dotted-quad IPv4 address, strictly (no inet_aton shorthands).
mpx::Result<boost::asio::ip::address_v4> parse_ipv4(std::string_view text);
// The same; empty or `None` (any case) means unset.
mpx::Result<std::optional<boost::asio::ip::address_v4>> parse_optional_ipv4(std::string_view text);

// START:END, both even, 1024 <= START < END <= 65536.
mpx::Result<PortRange> parse_port_range(std::string_view text);

// HOST[:PORT] items separated by spaces and/or commas; HOST is an IPv4 address or a DNS name.
mpx::Result<std::vector<DispatcherAddress>> parse_dispatchers(std::string_view text);

// any | default | IPv4, optionally :PORT; any, default and 0.0.0.0 mean all addresses.
mpx::Result<ListenAddress> parse_listen_address(std::string_view text, std::uint16_t default_port);

// IPv4/PREFIX, IPv4 (= /32) or any (= 0.0.0.0/0) items separated by commas and/or spaces; the
// whole value `None` or empty means no ranges. Host bits are cleared, as MediaProxy does.
mpx::Result<std::vector<boost::asio::ip::network_v4>> parse_networks(std::string_view text);

// CRITICAL, ERROR, WARNING, INFO, DEBUG, any case.
mpx::Result<LogLevel> parse_log_level(std::string_view text);

// Comma and/or space separated subset of {database, radius}; empty or `None` means none.
mpx::Result<std::vector<AccountingBackend>> parse_accounting(std::string_view text);
// opensips | kamailio | none, case-insensitive.
mpx::Result<SipProxy> parse_sip_proxy(std::string_view text);

// conntrack | xdp | tc | userspace, any case.
mpx::Result<Datapath> parse_datapath(std::string_view text);

// strict | signalled_only | first_packet, any case.
mpx::Result<LatchingPolicy> parse_latching_policy(std::string_view text);
mpx::Result<XdpMode> parse_xdp_mode(std::string_view text);
// Network interface names separated by commas and/or spaces (Linux IFNAMSIZ: 1-15 characters,
// no '/', no whitespace); None or empty: none.
mpx::Result<std::vector<std::string>> parse_interface_names(std::string_view text);

// Text kept as written; empty or `None` (any case) means unset. Used for passports and the
// ThorNetwork domain.
mpx::Result<std::optional<std::string>> parse_optional_text(std::string_view text);

// Any text, including empty.
mpx::Result<std::string> parse_text(std::string_view text);

// Octal permission bits 0 to 0777, with or without a leading 0 ("660", "0660").
mpx::Result<std::uint32_t> parse_file_mode(std::string_view text);

// Whole milliseconds in [min, max].
mpx::Result<std::chrono::milliseconds> parse_milliseconds(std::string_view text, std::uint32_t min,
                                                          std::uint32_t max);

// A non-empty single-line path.
mpx::Result<std::filesystem::path> parse_path(std::string_view text);

// An SQL name: letters, digits and '_', not starting with a digit; `dotted` also allows
// schema.table.
mpx::Result<std::string> parse_sql_name(std::string_view text, bool dotted);

}  // namespace mpx::config::detail
