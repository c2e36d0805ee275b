// Value parsers for config.ini options. Where MediaProxy was lenient by accident (inet_aton
// shorthands, silently dropped list items) these are strict: a value mpx cannot use fully is an
// error at start-up rather than a surprise later.
#include "common/config/value_parsers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/config/diagnostics.hpp"

namespace mpx::config::detail {
namespace {

constexpr std::string_view list_separators = ", \t\n\r\f\v";
constexpr std::uint32_t max_seconds = std::numeric_limits<std::int32_t>::max();

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    };
    return lower(x) == lower(y);
  });
}

bool is_none(std::string_view text) { return iequals(text, "none"); }

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\n\r\f\v";
  const auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

// Items separated by any run of commas and blanks (MediaProxy's `\s*,\s*|\s+`); empty items
// skipped.
std::vector<std::string_view> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto start = text.find_first_not_of(list_separators, i);
    if (start == std::string_view::npos) {
      break;
    }
    auto end = text.find_first_of(list_separators, start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    items.push_back(text.substr(start, end - start));
    i = end;
  }
  return items;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_like_ipv4(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  if (name.back() == '.') {
    name.remove_suffix(1);  // fully qualified
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('.', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    const auto label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63) {
      return false;
    }
    for (const char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
      if (!ok) {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

mpx::Result<std::uint16_t> parse_port(std::string_view text) {
  auto port = parse_uint(text, 1, 65535);
  if (!port) {
    return mpx::Error{fmt::format("port '{}' is not 1-65535", printable(text, 40))};
  }
  return static_cast<std::uint16_t>(port.value());
}

}  // namespace

mpx::Result<bool> parse_bool(std::string_view text) {
  for (const auto word : {"yes", "true", "on", "1"}) {
    if (iequals(text, word)) {
      return true;
    }
  }
  for (const auto word : {"no", "false", "off", "0"}) {
    if (iequals(text, word)) {
      return false;
    }
  }
  return mpx::Error{""};
}

mpx::Result<std::uint32_t> parse_uint(std::string_view text, std::uint32_t min, std::uint32_t max) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  if (!all_digits(text)) {
    return mpx::Error{""};
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return mpx::Error{""};
  }
  return static_cast<std::uint32_t>(value);
}

mpx::Result<Seconds> parse_seconds(std::string_view text, std::uint32_t min) {
  auto value = parse_uint(text, min, max_seconds);
  if (!value) {
    return value.error();
  }
  return Seconds{value.value()};
}

mpx::Result<boost::asio::ip::address_v4> parse_ipv4(std::string_view text) {
  // The character check also keeps an embedded NUL from ending the C string early.
  if (!looks_like_ipv4(text)) {
    return mpx::Error{""};
  }
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address_v4(std::string(text), error);
  if (error) {
    return mpx::Error{""};
  }
  return address;
}

mpx::Result<std::optional<boost::asio::ip::address_v4>> parse_optional_ipv4(std::string_view text) {
  if (text.empty() || is_none(text)) {
    return std::optional<boost::asio::ip::address_v4>{};
  }
  auto address = parse_ipv4(text);
  if (!address) {
    return address.error();
  }
  return std::optional{address.value()};
}

mpx::Result<PortRange> parse_port_range(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return mpx::Error{""};
  }
  auto start = parse_uint(trim(text.substr(0, colon)), 1024, 65536);
  auto end = parse_uint(trim(text.substr(colon + 1)), 1024, 65536);
  if (!start || !end || start.value() % 2 != 0 || end.value() % 2 != 0 ||
      start.value() >= end.value()) {
    return mpx::Error{""};
  }
  return PortRange{start.value(), end.value()};
}

mpx::Result<std::vector<DispatcherAddress>> parse_dispatchers(std::string_view text) {
  std::vector<DispatcherAddress> dispatchers;
  for (const auto item : split_list(text)) {
    DispatcherAddress address;
    auto host = item;
    const auto colon = item.rfind(':');
    if (colon != std::string_view::npos) {
      host = item.substr(0, colon);
      auto port = parse_port(item.substr(colon + 1));
      if (!port) {
        return mpx::Error{fmt::format("'{}': {}", printable(item, 80), port.error().message)};
      }
      address.port = port.value();
    }
    const bool valid_host =
        looks_like_ipv4(host) ? parse_ipv4(host).has_value() : is_dns_name(host);
    if (!valid_host) {
      return mpx::Error{
          fmt::format("'{}' is not an IPv4 address or DNS name", printable(host, 80))};
    }
    address.host = std::string(host);
    dispatchers.push_back(std::move(address));
  }
  return dispatchers;
}

mpx::Result<ListenAddress> parse_listen_address(std::string_view text, std::uint16_t default_port) {
  if (iequals(text, "default")) {
    return ListenAddress{std::nullopt, default_port};
  }
  ListenAddress listen{std::nullopt, default_port};
  auto host = text;
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    host = text.substr(0, colon);
    auto port = parse_port(text.substr(colon + 1));
    if (!port) {
      return port.error();
    }
    listen.port = port.value();
  }
  if (iequals(host, "any")) {
    return listen;
  }
  auto address = parse_ipv4(host);
  if (!address) {
    return mpx::Error{fmt::format("'{}' is not an IPv4 address", printable(host, 80))};
  }
  if (!address.value().is_unspecified()) {
    listen.ip = address.value();
  }
  return listen;
}

mpx::Result<std::vector<boost::asio::ip::network_v4>> parse_networks(std::string_view text) {
  std::vector<boost::asio::ip::network_v4> networks;
  if (is_none(text)) {
    return networks;
  }
  for (const auto item : split_list(text)) {
    if (iequals(item, "any")) {
      networks.emplace_back(boost::asio::ip::address_v4::any(), 0);
      continue;
    }
    const auto slash = item.find('/');
    auto address = parse_ipv4(item.substr(0, slash));
    if (!address) {
      return mpx::Error{fmt::format("'{}' is not a network", printable(item, 80))};
    }
    std::uint32_t prefix = 32;
    if (slash != std::string_view::npos) {
      auto bits = parse_uint(item.substr(slash + 1), 0, 32);
      if (!bits) {
        return mpx::Error{
            fmt::format("'{}' has a prefix length outside 0-32", printable(item, 80))};
      }
      prefix = bits.value();
    }
    networks.push_back(
        boost::asio::ip::network_v4(address.value(), static_cast<unsigned short>(prefix))
            .canonical());
  }
  return networks;
}

mpx::Result<LogLevel> parse_log_level(std::string_view text) {
  for (const auto level :
       {LogLevel::critical, LogLevel::error, LogLevel::warning, LogLevel::info, LogLevel::debug}) {
    if (iequals(text, to_string(level))) {
      return level;
    }
  }
  return mpx::Error{""};
}

mpx::Result<std::vector<AccountingBackend>> parse_accounting(std::string_view text) {
  std::vector<AccountingBackend> backends;
  if (is_none(text)) {
    return backends;
  }
  for (const auto item : split_list(text)) {
    AccountingBackend backend{};
    if (item == "database") {
      backend = AccountingBackend::database;
    } else if (item == "radius") {
      backend = AccountingBackend::radius;
    } else {
      return mpx::Error{fmt::format("unknown backend '{}'", printable(item, 80))};
    }
    if (std::find(backends.begin(), backends.end(), backend) == backends.end()) {
      backends.push_back(backend);
    }
  }
  return backends;
}

mpx::Result<Datapath> parse_datapath(std::string_view text) {
  for (const auto datapath :
       {Datapath::conntrack, Datapath::xdp, Datapath::tc, Datapath::userspace}) {
    if (iequals(text, to_string(datapath))) {
      return datapath;
    }
  }
  return mpx::Error{""};
}

mpx::Result<LatchingPolicy> parse_latching_policy(std::string_view text) {
  for (const auto policy : {LatchingPolicy::strict, LatchingPolicy::signalled_only,
                            LatchingPolicy::first_packet}) {
    if (iequals(text, to_string(policy))) {
      return policy;
    }
  }
  return mpx::Error{""};
}

mpx::Result<XdpMode> parse_xdp_mode(std::string_view text) {
  for (const auto mode : {XdpMode::native, XdpMode::generic}) {
    if (iequals(text, to_string(mode))) {
      return mode;
    }
  }
  return mpx::Error{""};
}

mpx::Result<std::vector<std::string>> parse_interface_names(std::string_view text) {
  std::vector<std::string> names;
  if (is_none(text)) {
    return names;
  }
  for (const auto item : split_list(text)) {
    const bool usable = !item.empty() && item.size() <= 15 && item != "." && item != ".." &&
                        item.find_first_of("/:") == std::string_view::npos;
    if (!usable) {
      return mpx::Error{fmt::format("'{}' is not an interface name", printable(item, 80))};
    }
    names.emplace_back(item);
  }
  return names;
}

mpx::Result<SipProxy> parse_sip_proxy(std::string_view text) {
  for (const auto proxy : {SipProxy::opensips, SipProxy::kamailio, SipProxy::none}) {
    if (iequals(text, to_string(proxy))) {
      return proxy;
    }
  }
  return mpx::Error{""};
}

mpx::Result<std::optional<std::string>> parse_optional_text(std::string_view text) {
  if (text.empty() || is_none(text)) {
    return std::optional<std::string>{};
  }
  return std::optional<std::string>{std::string(text)};
}

mpx::Result<std::string> parse_text(std::string_view text) { return std::string(text); }

mpx::Result<std::uint32_t> parse_file_mode(std::string_view text) {
  if (text.empty() || text.size() > 4 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; })) {
    return mpx::Error{""};
  }
  std::uint32_t mode = 0;
  for (const char c : text) {
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (mode > 0777) {
    return mpx::Error{fmt::format("{:o} has bits beyond 0777", mode)};
  }
  return mode;
}

mpx::Result<std::chrono::milliseconds> parse_milliseconds(std::string_view text,
                                                          std::uint32_t min, std::uint32_t max) {
  auto value = parse_uint(text, min, max);
  if (!value) {
    return value.error();
  }
  return std::chrono::milliseconds{value.value()};
}

mpx::Result<std::filesystem::path> parse_path(std::string_view text) {
  if (text.empty() || text.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos) {
    return mpx::Error{""};
  }
  return std::filesystem::path(text);
}

mpx::Result<std::string> parse_sql_name(std::string_view text, bool dotted) {
  const auto is_part = [](std::string_view part) {
    if (part.empty() || (part.front() >= '0' && part.front() <= '9')) {
      return false;
    }
    return std::all_of(part.begin(), part.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
  };
  const auto dot = dotted ? text.find('.') : std::string_view::npos;
  const bool valid = dot == std::string_view::npos
                         ? is_part(text)
                         : is_part(text.substr(0, dot)) && is_part(text.substr(dot + 1));
  if (!valid) {
    return mpx::Error{""};
  }
  return std::string(text);
}

}  // namespace mpx::config::detail
