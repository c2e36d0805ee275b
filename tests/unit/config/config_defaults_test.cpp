// Defaults of every option against mediaproxy-compat.md §7.2-7.8, and the schema table against
// the struct (each row's default text must parse to the struct's default).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/config/config.hpp"
#include "common/config/schema.hpp"

namespace mpx::config {
namespace {

using std::chrono::seconds;

Config defaults() { return parse_config("", "config.ini", "/etc/mediaproxy"); }

TEST(ConfigDefaults, RelaySectionMatchesSpecTable) {
  const RelayConfig relay = defaults().relay;
  EXPECT_TRUE(relay.dispatchers.empty());
  EXPECT_FALSE(relay.passport.has_value());
  EXPECT_FALSE(relay.relay_ip.has_value());  // resolved to the default-route IP at run time
  EXPECT_FALSE(relay.advertised_ip.has_value());
  EXPECT_FALSE(relay.auto_detect_interfaces);
  EXPECT_EQ(relay.port_range.start, 40000U);
  EXPECT_EQ(relay.port_range.end, 60000U);
  EXPECT_EQ(relay.port_range.pair_count(), 10000U);
  EXPECT_EQ(relay.log_level, LogLevel::info);
  EXPECT_EQ(relay.stream_timeout, seconds(90));
  EXPECT_EQ(relay.on_hold_timeout, seconds(7200));
  EXPECT_EQ(relay.dns_check_interval, seconds(60));
  EXPECT_EQ(relay.reconnect_delay, seconds(10));
  EXPECT_EQ(relay.traffic_sampling_period, seconds(15));
  EXPECT_TRUE(relay.routable_private_ranges.empty());
  EXPECT_EQ(relay.keepalive_interval, seconds(10));
  EXPECT_EQ(relay.userspace_transmit_every, 1U);
  EXPECT_EQ(relay.datapath, Datapath::conntrack);
  EXPECT_EQ(relay.latching, LatchingPolicy::strict);
  EXPECT_EQ(relay.latching_window, std::chrono::milliseconds(1000));
}

TEST(ConfigDefaults, DispatcherSectionMatchesSpecTable) {
  const DispatcherConfig dispatcher = defaults().dispatcher;
  EXPECT_EQ(dispatcher.socket_path, "dispatcher.sock");
  EXPECT_FALSE(dispatcher.listen.ip.has_value());
  EXPECT_EQ(dispatcher.listen.port, 25060);
  EXPECT_FALSE(dispatcher.listen_management.ip.has_value());
  EXPECT_EQ(dispatcher.listen_management.port, 25061);
  EXPECT_TRUE(dispatcher.management_use_tls);
  EXPECT_FALSE(dispatcher.passport.has_value());
  EXPECT_FALSE(dispatcher.management_passport.has_value());
  EXPECT_EQ(dispatcher.log_level, LogLevel::info);
  EXPECT_EQ(dispatcher.relay_timeout, seconds(5));
  EXPECT_TRUE(dispatcher.accounting.empty());
  EXPECT_EQ(dispatcher.relay_recover_interval, seconds(60));
  EXPECT_EQ(dispatcher.cleanup_dead_relays_after, seconds(43200));
  EXPECT_EQ(dispatcher.cleanup_expired_sessions_after, seconds(86400));
}

TEST(ConfigDefaults, OtherSectionsMatchSpec) {
  const Config config = defaults();
  EXPECT_EQ(config.tls.certs_path, "tls");
  EXPECT_EQ(config.tls.verify_interval, seconds(300));
  EXPECT_EQ(config.database.dburi, "");
  EXPECT_EQ(config.database.sessions_table, "media_sessions");
  EXPECT_EQ(config.database.callid_column, "call_id");
  EXPECT_EQ(config.database.fromtag_column, "from_tag");
  EXPECT_EQ(config.database.totag_column, "to_tag");
  EXPECT_EQ(config.database.info_column, "info");
  EXPECT_EQ(config.radius.config_file, "/etc/opensips/radius/client.conf");
  EXPECT_EQ(config.radius.additional_dictionary, "radius/dictionary");
  EXPECT_EQ(config.opensips.socket_path, "/run/opensips/socket");
  EXPECT_EQ(config.opensips.location_table, "location");
  EXPECT_FALSE(config.thor_network.domain.has_value());
  EXPECT_FALSE(config.thor_network.node_ip.has_value());
}

TEST(ConfigDefaults, EmptyTextKeepsDirAndLabel) {
  const Config config = defaults();
  EXPECT_EQ(config.config_dir, "/etc/mediaproxy");
  EXPECT_EQ(config.config_file, "config.ini");
  EXPECT_TRUE(config.option_lines.empty());
  EXPECT_EQ(config.certs_dir(), "/etc/mediaproxy/tls");
}

TEST(ConfigDefaults, SectionsAreMediaProxysThenMpxs) {
  const auto names = detail::section_names();
  const std::vector<std::string_view> expected{"Relay",    "Dispatcher",  "TLS",
                                               "Database", "Radius",      "OpenSIPS",
                                               "ThorNetwork", "Kamailio"};
  EXPECT_EQ(std::vector<std::string_view>(names.begin(), names.end()), expected);
}

TEST(ConfigDefaults, TableListsEveryOptionOfTheSpec) {
  std::set<std::string> options;
  for (const auto& spec : detail::option_table()) {
    EXPECT_TRUE(options.insert(std::string(spec.section) + "." + std::string(spec.name)).second)
        << "duplicate row " << spec.section << "." << spec.name;
  }
  const std::set<std::string> expected{"Relay.dispatchers",
                                       "Relay.passport",
                                       "Relay.relay_ip",
                                       "Relay.advertised_ip",
                                       "Relay.auto_detect_interfaces",
                                       "Relay.port_range",
                                       "Relay.log_level",
                                       "Relay.stream_timeout",
                                       "Relay.on_hold_timeout",
                                       "Relay.dns_check_interval",
                                       "Relay.reconnect_delay",
                                       "Relay.traffic_sampling_period",
                                       "Relay.routable_private_ranges",
                                       "Relay.keepalive_interval",
                                       "Relay.userspace_transmit_every",
                                       "Relay.datapath",
                                       "Relay.latching",
                                       "Relay.latching_window_ms",
                                       "Relay.listen_metrics",
                                       "Relay.bpf_interfaces",
                                       "Relay.xdp_mode",
                                       "Relay.bpf_pin_path",
                                       "Relay.state_file",
                                       "Dispatcher.socket_path",
                                       "Dispatcher.listen",
                                       "Dispatcher.listen_management",
                                       "Dispatcher.management_use_tls",
                                       "Dispatcher.passport",
                                       "Dispatcher.management_passport",
                                       "Dispatcher.log_level",
                                       "Dispatcher.relay_timeout",
                                       "Dispatcher.accounting",
                                       "Dispatcher.relay_recover_interval",
                                       "Dispatcher.cleanup_dead_relays_after",
                                       "Dispatcher.cleanup_expired_sessions_after",
                                       "Dispatcher.socket_mode",
                                       "Dispatcher.socket_owner",
                                       "Dispatcher.socket_group",
                                       "Dispatcher.answer_budget_ms",
                                       "Dispatcher.sip_proxy",
                                       "Dispatcher.dialog_end_timeout",
                                       "Dispatcher.listen_metrics",
                                       "Dispatcher.accounting_spool_dir",
                                       "Dispatcher.accounting_spool_max_records",
                                       "TLS.certs_path",
                                       "TLS.verify_interval",
                                       "Database.dburi",
                                       "Database.sessions_table",
                                       "Database.callid_column",
                                       "Database.fromtag_column",
                                       "Database.totag_column",
                                       "Database.info_column",
                                       "Radius.config_file",
                                       "Radius.additional_dictionary",
                                       "OpenSIPS.socket_path",
                                       "OpenSIPS.location_table",
                                       "ThorNetwork.domain",
                                       "ThorNetwork.node_ip",
                                       "Kamailio.socket_path"};
  EXPECT_EQ(options, expected);
}

// Writing every option with its table default must give exactly Config{}: the table's text, the
// parser and the struct's initialiser agree.
TEST(ConfigDefaults, EveryDefaultTextParsesToTheStructDefault) {
  const Config reference = defaults();
  for (const auto& spec : detail::option_table()) {
    const std::string text = "[" + std::string(spec.section) + "]\n" + std::string(spec.name) +
                             " = " + std::string(spec.default_text) + "\n";
    auto parsed = try_parse_config(text, "config.ini", "/etc/mediaproxy");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    Config config = parsed.value();
    EXPECT_EQ(config.option_lines.size(), 1U);
    config.option_lines.clear();
    EXPECT_TRUE(config == reference)
        << spec.section << "." << spec.name << " = " << spec.default_text;
  }
}

TEST(ConfigDefaults, HiddenOptionsAreTheSpecsHiddenOnes) {
  std::set<std::string> hidden;
  for (const auto& spec : detail::option_table()) {
    if (spec.hidden) {
      hidden.insert(std::string(spec.name));
    }
  }
  const std::set<std::string> expected{"keepalive_interval", "userspace_transmit_every",
                                       "relay_recover_interval", "cleanup_dead_relays_after",
                                       "cleanup_expired_sessions_after"};
  EXPECT_EQ(hidden, expected);
}

TEST(ConfigDefaults, ToStringSpellings) {
  EXPECT_EQ(to_string(Datapath::conntrack), "conntrack");
  EXPECT_EQ(to_string(Datapath::xdp), "xdp");
  EXPECT_EQ(to_string(Datapath::tc), "tc");
  EXPECT_EQ(to_string(Datapath::userspace), "userspace");
  EXPECT_EQ(to_string(LatchingPolicy::strict), "strict");
  EXPECT_EQ(to_string(LatchingPolicy::first_packet), "first_packet");
  EXPECT_EQ(to_string(LogLevel::critical), "CRITICAL");
  EXPECT_EQ(to_string(LogLevel::error), "ERROR");
  EXPECT_EQ(to_string(LogLevel::warning), "WARNING");
  EXPECT_EQ(to_string(LogLevel::info), "INFO");
  EXPECT_EQ(to_string(LogLevel::debug), "DEBUG");
  EXPECT_EQ(to_string(AccountingBackend::database), "database");
  EXPECT_EQ(to_string(AccountingBackend::radius), "radius");
}

}  // namespace
}  // namespace mpx::config
