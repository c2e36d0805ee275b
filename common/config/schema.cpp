// The option table (mediaproxy-compat.md §7.2-7.8, plus mpx's own options marked "mpx").
#include "common/config/schema.hpp"

#include <array>
#include <utility>

#include "common/config/value_parsers.hpp"

namespace mpx::config::detail {
namespace {

// A setter that runs `parse` and assigns its value to config.*section.*field.
template <class Section, class Field, class Parser>
OptionSetter store(Section Config::*section, Field Section::*field, Parser parse) {
  return [section, field, parse](Config& config, std::string_view text) -> mpx::Result<void> {
    auto parsed = parse(text);
    if (!parsed) {
      return parsed.error();
    }
    (config.*section).*field = std::move(parsed).value();
    return mpx::outcome::success();
  };
}

auto seconds_from(std::uint32_t min) {
  return [min](std::string_view text) { return parse_seconds(text, min); };
}

auto listen_with_port(std::uint16_t port) {
  return [port](std::string_view text) { return parse_listen_address(text, port); };
}

// mpx's optional endpoints: "none" (the default) turns them off.
auto optional_listen(std::uint16_t port) {
  return [port](std::string_view text) -> mpx::Result<std::optional<ListenAddress>> {
    if (text.empty() || text == "none" || text == "None") {
      return std::optional<ListenAddress>{};
    }
    auto address = parse_listen_address(text, port);
    if (!address) {
      return address.error();
    }
    return std::optional<ListenAddress>{address.value()};
  };
}

auto sql_name(bool dotted) {
  return [dotted](std::string_view text) { return parse_sql_name(text, dotted); };
}

constexpr std::array<std::string_view, 8> sections{"Relay",    "Dispatcher",  "TLS",
                                                   "Database", "Radius",      "OpenSIPS",
                                                   "ThorNetwork", "Kamailio"};

constexpr std::string_view seconds_positive = "a whole number of seconds, 1 to 2147483647";
constexpr std::string_view boolean = "yes, no, true, false, on, off, 1, 0";
constexpr std::string_view passport =
    "None, or AN:VALUE items separated by commas (AN one of C, ST, L, CN, O, OU, EMAIL)";
constexpr std::string_view log_levels = "CRITICAL, ERROR, WARNING, INFO, DEBUG";
constexpr std::string_view optional_ip =
    "an IPv4 address (dotted quad), or empty/None for the default";
constexpr std::string_view listen =
    "any, default or an IPv4 address, optionally followed by :PORT (1-65535)";
constexpr std::string_view optional_listen_text =
    "none, any or an IPv4 address, optionally followed by :PORT (1-65535)";
constexpr std::string_view path = "a non-empty path";
constexpr std::string_view column = "an SQL name: letters, digits and _, not starting with a digit";

std::vector<OptionSpec> make_table() {
  using R = RelayConfig;
  using D = DispatcherConfig;
  const auto relay = &Config::relay;
  const auto dispatcher = &Config::dispatcher;
  const auto database = &Config::database;
  return {
      // [Relay]
      {"Relay", "dispatchers", "",
       "HOST[:PORT] items separated by spaces and/or commas (HOST an IPv4 address or DNS name, "
       "PORT 1-65535, default 25060)",
       false, store(relay, &R::dispatchers, parse_dispatchers)},
      {"Relay", "passport", "None", passport, false,
       store(relay, &R::passport, parse_optional_text)},
      {"Relay", "relay_ip", "", optional_ip, false,
       store(relay, &R::relay_ip, parse_optional_ipv4)},
      {"Relay", "advertised_ip", "", optional_ip, false,
       store(relay, &R::advertised_ip, parse_optional_ipv4)},
      {"Relay", "auto_detect_interfaces", "no", boolean, false,
       store(relay, &R::auto_detect_interfaces, parse_bool)},
      {"Relay", "port_range", "40000:60000", "START:END, both even, 1024 <= START < END <= 65536",
       false, store(relay, &R::port_range, parse_port_range)},
      {"Relay", "log_level", "INFO", log_levels, false,
       store(relay, &R::log_level, parse_log_level)},
      {"Relay", "stream_timeout", "90", seconds_positive, false,
       store(relay, &R::stream_timeout, seconds_from(1))},
      {"Relay", "on_hold_timeout", "7200", seconds_positive, false,
       store(relay, &R::on_hold_timeout, seconds_from(1))},
      {"Relay", "dns_check_interval", "60", seconds_positive, false,
       store(relay, &R::dns_check_interval, seconds_from(1))},
      {"Relay", "reconnect_delay", "10", seconds_positive, false,
       store(relay, &R::reconnect_delay, seconds_from(1))},
      {"Relay", "traffic_sampling_period", "15",
       "a whole number of seconds, 0 to 2147483647 (0 disables sampling)", false,
       store(relay, &R::traffic_sampling_period, seconds_from(0))},
      {"Relay", "routable_private_ranges", "",
       "None, or IPv4/PREFIX, IPv4 or any items separated by commas and/or spaces", false,
       store(relay, &R::routable_private_ranges, parse_networks)},
      {"Relay", "keepalive_interval", "10", seconds_positive, true,
       store(relay, &R::keepalive_interval, seconds_from(1))},
      {"Relay", "userspace_transmit_every", "1", "a whole number, 1 to 4294967295", true,
       store(relay, &R::userspace_transmit_every,
             [](std::string_view text) { return parse_uint(text, 1, 4294967295U); })},
      {"Relay", "datapath", "conntrack", "conntrack, xdp, tc, userspace", false,
       store(relay, &R::datapath, parse_datapath)},  // mpx
      {"Relay", "latching", "strict",
       "strict, signalled_only (never an unsignalled source) or first_packet (MediaProxy's: the "
       "first datagram from anyone is latched)",
       false,
       store(relay, &R::latching, parse_latching_policy)},  // mpx
      {"Relay", "latching_window_ms", "1000",
       "a whole number of milliseconds, 0 to 10000 (the learning window of strict latching)",
       false,
       store(relay, &R::latching_window,
             [](std::string_view text) { return parse_milliseconds(text, 0, 10000); })},  // mpx
      {"Relay", "listen_metrics", "none", optional_listen_text, false,
       store(relay, &R::listen_metrics, optional_listen(25063))},  // mpx
      {"Relay", "bpf_interfaces", "", "None, or interface names separated by commas and/or spaces",
       false, store(relay, &R::bpf_interfaces, parse_interface_names)},  // mpx
      {"Relay", "xdp_mode", "native", "native or generic", false,
       store(relay, &R::xdp_mode, parse_xdp_mode)},  // mpx
      {"Relay", "bpf_pin_path", "/sys/fs/bpf/mpx-relay",
       "a non-empty path on a bpffs (the eBPF datapath's maps are pinned there)", false,
       store(relay, &R::bpf_pin_path, parse_path)},  // mpx
      {"Relay", "state_file", "relay-state.json",
       "a non-empty path (relative: in the runtime directory)", false,
       store(relay, &R::state_file, parse_path)},  // mpx

      // [Dispatcher]
      {"Dispatcher", "socket_path", "dispatcher.sock",
       "a non-empty path (relative: in the runtime directory)", false,
       store(dispatcher, &D::socket_path, parse_path)},
      {"Dispatcher", "listen", "any", listen, false,
       store(dispatcher, &D::listen, listen_with_port(25060))},
      {"Dispatcher", "listen_management", "any", listen, false,
       store(dispatcher, &D::listen_management, listen_with_port(25061))},
      {"Dispatcher", "management_use_tls", "yes", boolean, false,
       store(dispatcher, &D::management_use_tls, parse_bool)},
      {"Dispatcher", "passport", "None", passport, false,
       store(dispatcher, &D::passport, parse_optional_text)},
      {"Dispatcher", "management_passport", "None", passport, false,
       store(dispatcher, &D::management_passport, parse_optional_text)},
      {"Dispatcher", "log_level", "INFO", log_levels, false,
       store(dispatcher, &D::log_level, parse_log_level)},
      {"Dispatcher", "relay_timeout", "5", seconds_positive, false,
       store(dispatcher, &D::relay_timeout, seconds_from(1))},
      {"Dispatcher", "accounting", "",
       "None, or database and/or radius (lowercase) separated by commas", false,
       store(dispatcher, &D::accounting, parse_accounting)},
      {"Dispatcher", "relay_recover_interval", "60", seconds_positive, true,
       store(dispatcher, &D::relay_recover_interval, seconds_from(1))},
      {"Dispatcher", "cleanup_dead_relays_after", "43200", seconds_positive, true,
       store(dispatcher, &D::cleanup_dead_relays_after, seconds_from(1))},
      {"Dispatcher", "cleanup_expired_sessions_after", "86400", seconds_positive, true,
       store(dispatcher, &D::cleanup_expired_sessions_after, seconds_from(1))},
      {"Dispatcher", "socket_mode", "0660", "octal permission bits, 0 to 0777 (e.g. 0660)", false,
       store(dispatcher, &D::socket_mode, parse_file_mode)},  // mpx
      {"Dispatcher", "socket_owner", "None", "None, a user name or a numeric uid", false,
       store(dispatcher, &D::socket_owner, parse_optional_text)},  // mpx
      {"Dispatcher", "socket_group", "None", "None, a group name or a numeric gid", false,
       store(dispatcher, &D::socket_group, parse_optional_text)},  // mpx
      {"Dispatcher", "answer_budget_ms", "300",
       "a whole number of milliseconds, 50 to 450 (the module waits 500)", false,
       store(dispatcher, &D::answer_budget,
             [](std::string_view text) { return parse_milliseconds(text, 50, 450); })},  // mpx
      {"Dispatcher", "sip_proxy", "opensips",
       "opensips, kamailio or none (who ends dialogs whose media died)", false,
       store(dispatcher, &D::sip_proxy, parse_sip_proxy)},  // mpx
      {"Dispatcher", "dialog_end_timeout", "3", seconds_positive, false,
       store(dispatcher, &D::dialog_end_timeout, seconds_from(1))},  // mpx
      {"Dispatcher", "listen_metrics", "none", optional_listen_text, false,
       store(dispatcher, &D::listen_metrics, optional_listen(25062))},  // mpx
      {"Dispatcher", "accounting_spool_dir", "accounting-spool",
       "a non-empty path (relative: in the runtime directory)", false,
       store(dispatcher, &D::accounting_spool_dir, parse_path)},  // mpx
      {"Dispatcher", "accounting_spool_max_records", "100000", "a whole number, 1 to 100000000",
       false,
       store(dispatcher, &D::accounting_spool_max_records,
             [](std::string_view text) { return parse_uint(text, 1, 100000000U); })},  // mpx

      // [TLS]
      {"TLS", "certs_path", "tls", "a non-empty path (relative: in the configuration directory)",
       false, store(&Config::tls, &TlsConfig::certs_path, parse_path)},
      {"TLS", "verify_interval", "300", seconds_positive, false,
       store(&Config::tls, &TlsConfig::verify_interval, seconds_from(1))},

      // [Database]
      {"Database", "dburi", "", "a database URI such as mysql://user:password@host/database", false,
       store(database, &DatabaseConfig::dburi, parse_text)},
      {"Database", "sessions_table", "media_sessions",
       "an SQL name: letters, digits and _, not starting with a digit, optionally SCHEMA.TABLE",
       false, store(database, &DatabaseConfig::sessions_table, sql_name(true))},
      {"Database", "callid_column", "call_id", column, false,
       store(database, &DatabaseConfig::callid_column, sql_name(false))},
      {"Database", "fromtag_column", "from_tag", column, false,
       store(database, &DatabaseConfig::fromtag_column, sql_name(false))},
      {"Database", "totag_column", "to_tag", column, false,
       store(database, &DatabaseConfig::totag_column, sql_name(false))},
      {"Database", "info_column", "info", column, false,
       store(database, &DatabaseConfig::info_column, sql_name(false))},

      // [Radius]
      {"Radius", "config_file", "/etc/opensips/radius/client.conf", path, false,
       store(&Config::radius, &RadiusConfig::config_file, parse_path)},
      {"Radius", "additional_dictionary", "radius/dictionary", path, false,
       store(&Config::radius, &RadiusConfig::additional_dictionary, parse_path)},

      // [OpenSIPS]
      {"OpenSIPS", "socket_path", "/run/opensips/socket", path, false,
       store(&Config::opensips, &OpenSipsConfig::socket_path, parse_path)},
      {"OpenSIPS", "location_table", "location", "any text (mpx does not use it)", false,
       store(&Config::opensips, &OpenSipsConfig::location_table, parse_text)},

      // [ThorNetwork]
      {"ThorNetwork", "domain", "None", "a SIP Thor domain name, or None", false,
       store(&Config::thor_network, &ThorNetworkConfig::domain, parse_optional_text)},
      {"ThorNetwork", "node_ip", "", optional_ip, false,
       store(&Config::thor_network, &ThorNetworkConfig::node_ip, parse_optional_ipv4)},

      // [Kamailio] (mpx)
      {"Kamailio", "socket_path", "/run/kamailio/kamailio_rpc.sock",
       "a non-empty path: Kamailio's jsonrpcs dgram_socket", false,
       store(&Config::kamailio, &KamailioConfig::socket_path, parse_path)},
  };
}

}  // namespace

std::span<const std::string_view> section_names() { return sections; }

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec* find_option(std::string_view section, std::string_view name) {
  for (const auto& spec : option_table()) {
    if (spec.section == section && spec.name == name) {
      return &spec;
    }
  }
  return nullptr;
}

}  // namespace mpx::config::detail
