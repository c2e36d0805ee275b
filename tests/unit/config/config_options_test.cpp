// Every option parses from its accepted forms into the right typed member.
#include <gtest/gtest.h>

#include <string>

#include "common/config/config.hpp"

namespace mpx::config {
namespace {

using boost::asio::ip::make_address_v4;
using boost::asio::ip::make_network_v4;
using std::chrono::seconds;

Config parse(const std::string& text) {
  auto config = try_parse_config(text, "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  EXPECT_TRUE(config.has_value()) << (config.has_value() ? "" : config.error().message);
  return config.has_value() ? config.value() : Config{};
}

TEST(ConfigOptions, RelayScalars) {
  const auto relay = parse(
                         "[Relay]\n"
                         "passport = O:AG Projects, CN:*dispatcher\n"
                         "relay_ip = 192.0.2.10\n"
                         "advertised_ip = 203.0.113.5\n"
                         "auto_detect_interfaces = yes\n"
                         "port_range = 1024:65536\n"
                         "log_level = debug\n"
                         "stream_timeout = 30\n"
                         "on_hold_timeout = 600\n"
                         "dns_check_interval = 5\n"
                         "reconnect_delay = 3\n"
                         "traffic_sampling_period = 0\n"
                         "keepalive_interval = 20\n"
                         "userspace_transmit_every = 4\n"
                         "datapath = xdp\n"
                         "latching = first_packet\n"
                         "latching_window_ms = 250\n")
                         .relay;
  EXPECT_EQ(relay.passport, "O:AG Projects, CN:*dispatcher");
  EXPECT_EQ(relay.relay_ip, make_address_v4("192.0.2.10"));
  EXPECT_EQ(relay.advertised_ip, make_address_v4("203.0.113.5"));
  EXPECT_TRUE(relay.auto_detect_interfaces);
  EXPECT_EQ(relay.port_range, (PortRange{1024, 65536}));
  EXPECT_EQ(relay.port_range.pair_count(), 32256U);
  EXPECT_EQ(relay.log_level, LogLevel::debug);
  EXPECT_EQ(relay.stream_timeout, seconds(30));
  EXPECT_EQ(relay.on_hold_timeout, seconds(600));
  EXPECT_EQ(relay.dns_check_interval, seconds(5));
  EXPECT_EQ(relay.reconnect_delay, seconds(3));
  EXPECT_EQ(relay.traffic_sampling_period, seconds(0));
  EXPECT_EQ(relay.keepalive_interval, seconds(20));
  EXPECT_EQ(relay.userspace_transmit_every, 4U);
  EXPECT_EQ(relay.datapath, Datapath::xdp);
  EXPECT_EQ(relay.latching, LatchingPolicy::first_packet);
  EXPECT_EQ(relay.latching_window, std::chrono::milliseconds(250));
}

TEST(ConfigOptions, DispatchersListSpacesCommasAndPorts) {
  const auto relay =
      parse("[Relay]\ndispatchers = example.com 192.0.2.1:12345,sip.example.net , 10.0.0.1\n")
          .relay;
  const std::vector<DispatcherAddress> expected{{"example.com", 25060},
                                                {"192.0.2.1", 12345},
                                                {"sip.example.net", 25060},
                                                {"10.0.0.1", 25060}};
  EXPECT_EQ(relay.dispatchers, expected);
}

TEST(ConfigOptions, DispatchersOnContinuationLines) {
  const auto relay = parse("[Relay]\ndispatchers =\n    a.example:1\n    b.example\n").relay;
  const std::vector<DispatcherAddress> expected{{"a.example", 1}, {"b.example", 25060}};
  EXPECT_EQ(relay.dispatchers, expected);
}

TEST(ConfigOptions, EveryDatapath) {
  EXPECT_EQ(parse("[Relay]\ndatapath = conntrack\n").relay.datapath, Datapath::conntrack);
  EXPECT_EQ(parse("[Relay]\ndatapath = XDP\n").relay.datapath, Datapath::xdp);
  EXPECT_EQ(parse("[Relay]\ndatapath = tc\n").relay.datapath, Datapath::tc);
  EXPECT_EQ(parse("[Relay]\ndatapath = Userspace\n").relay.datapath, Datapath::userspace);
}

TEST(ConfigOptions, LatchingPolicyAnyCaseAndWindowBounds) {
  EXPECT_EQ(parse("[Relay]\nlatching = strict\n").relay.latching, LatchingPolicy::strict);
  EXPECT_EQ(parse("[Relay]\nlatching = First_Packet\n").relay.latching,
            LatchingPolicy::first_packet);
  EXPECT_EQ(parse("[Relay]\nlatching = signalled_only\n").relay.latching,
            LatchingPolicy::signalled_only);
  EXPECT_EQ(parse("[Relay]\nlatching_window_ms = 0\n").relay.latching_window,
            std::chrono::milliseconds(0));
  EXPECT_EQ(parse("[Relay]\nlatching_window_ms = 10000\n").relay.latching_window,
            std::chrono::milliseconds(10000));
}

TEST(ConfigOptions, EveryLogLevelAnyCase) {
  EXPECT_EQ(parse("[Relay]\nlog_level = CRITICAL\n").relay.log_level, LogLevel::critical);
  EXPECT_EQ(parse("[Relay]\nlog_level = Error\n").relay.log_level, LogLevel::error);
  EXPECT_EQ(parse("[Relay]\nlog_level = warning\n").relay.log_level, LogLevel::warning);
  EXPECT_EQ(parse("[Dispatcher]\nlog_level = info\n").dispatcher.log_level, LogLevel::info);
  EXPECT_EQ(parse("[Dispatcher]\nlog_level = DEBUG\n").dispatcher.log_level, LogLevel::debug);
}

TEST(ConfigOptions, BooleansAllSpellings) {
  for (const auto* word : {"yes", "YES", "true", "True", "on", "ON", "1"}) {
    EXPECT_TRUE(parse(std::string("[Relay]\nauto_detect_interfaces = ") + word + "\n")
                    .relay.auto_detect_interfaces)
        << word;
  }
  for (const auto* word : {"no", "No", "false", "FALSE", "off", "Off", "0"}) {
    EXPECT_FALSE(parse(std::string("[Dispatcher]\nmanagement_use_tls = ") + word + "\n")
                     .dispatcher.management_use_tls)
        << word;
  }
}

TEST(ConfigOptions, PassportNoneAnyCaseIsUnset) {
  EXPECT_FALSE(parse("[Relay]\npassport = None\n").relay.passport.has_value());
  EXPECT_FALSE(parse("[Relay]\npassport = NONE\n").relay.passport.has_value());
  EXPECT_FALSE(parse("[Dispatcher]\npassport = none\n").dispatcher.passport.has_value());
  EXPECT_EQ(
      parse("[Dispatcher]\nmanagement_passport = CN:mgmt\\, inc\n").dispatcher.management_passport,
      "CN:mgmt\\, inc");  // raw: escapes are common/tls's business
}

TEST(ConfigOptions, OptionalAddressesEmptyOrNoneMeanDefault) {
  EXPECT_FALSE(parse("[Relay]\nrelay_ip =\n").relay.relay_ip.has_value());
  EXPECT_FALSE(parse("[Relay]\nadvertised_ip = None\n").relay.advertised_ip.has_value());
  EXPECT_EQ(parse("[ThorNetwork]\nnode_ip = 198.51.100.3\n").thor_network.node_ip,
            make_address_v4("198.51.100.3"));
}

TEST(ConfigOptions, RoutablePrivateRanges) {
  const auto ranges =
      parse("[Relay]\nroutable_private_ranges = 10.0.0.0/8, 172.16.5.9/12 192.168.1.1,any\n")
          .relay.routable_private_ranges;
  const std::vector<boost::asio::ip::network_v4> expected{
      make_network_v4("10.0.0.0/8"), make_network_v4("172.16.0.0/12"),
      make_network_v4("192.168.1.1/32"), make_network_v4("0.0.0.0/0")};
  EXPECT_EQ(ranges, expected);
  EXPECT_TRUE(
      parse("[Relay]\nroutable_private_ranges = None\n").relay.routable_private_ranges.empty());
}

TEST(ConfigOptions, ListenAddresses) {
  const auto dispatcher = parse(
                              "[Dispatcher]\n"
                              "listen = 192.0.2.7\n"
                              "listen_management = any:4000\n")
                              .dispatcher;
  EXPECT_EQ(dispatcher.listen, (ListenAddress{make_address_v4("192.0.2.7"), 25060}));
  EXPECT_EQ(dispatcher.listen_management, (ListenAddress{std::nullopt, 4000}));
  EXPECT_EQ(parse("[Dispatcher]\nlisten = 0.0.0.0:26000\n").dispatcher.listen,
            (ListenAddress{std::nullopt, 26000}));
  EXPECT_EQ(parse("[Dispatcher]\nlisten = ANY\n").dispatcher.listen,
            (ListenAddress{std::nullopt, 25060}));
  EXPECT_EQ(parse("[Dispatcher]\nlisten_management = default\n").dispatcher.listen_management,
            (ListenAddress{std::nullopt, 25061}));
  EXPECT_EQ(
      parse("[Dispatcher]\nlisten_management = 127.0.0.1:25070\n").dispatcher.listen_management,
      (ListenAddress{make_address_v4("127.0.0.1"), 25070}));
}

TEST(ConfigOptions, DispatcherScalarsAndAccounting) {
  const auto dispatcher = parse(
                              "[Dispatcher]\n"
                              "socket_path = /tmp/d.sock\n"
                              "relay_timeout = 2\n"
                              "accounting = radius, database, radius\n"
                              "relay_recover_interval = 30\n"
                              "cleanup_dead_relays_after = 100\n"
                              "cleanup_expired_sessions_after = 200\n")
                              .dispatcher;
  EXPECT_EQ(dispatcher.socket_path, "/tmp/d.sock");
  EXPECT_EQ(dispatcher.relay_timeout, seconds(2));
  const std::vector<AccountingBackend> expected{AccountingBackend::radius,
                                                AccountingBackend::database};
  EXPECT_EQ(dispatcher.accounting, expected);
  EXPECT_EQ(dispatcher.relay_recover_interval, seconds(30));
  EXPECT_EQ(dispatcher.cleanup_dead_relays_after, seconds(100));
  EXPECT_EQ(dispatcher.cleanup_expired_sessions_after, seconds(200));
  EXPECT_TRUE(parse("[Dispatcher]\naccounting = None\n").dispatcher.accounting.empty());
  EXPECT_TRUE(parse("[Dispatcher]\naccounting =\n").dispatcher.accounting.empty());
}

TEST(ConfigOptions, TlsDatabaseRadiusOpenSipsThor) {
  const auto config = parse(
      "[TLS]\ncerts_path = /srv/certs\nverify_interval = 60\n"
      "[Database]\ndburi = mysql://mp:secret@db.example/mediaproxy\n"
      "sessions_table = acct.media\ncallid_column = cid\nfromtag_column = ft\n"
      "totag_column = tt\ninfo_column = blob_info\n"
      "[Radius]\nconfig_file = /etc/radius/client.conf\nadditional_dictionary = /usr/share/d\n"
      "[OpenSIPS]\nsocket_path = /var/run/opensips/mi\nlocation_table = loc\n"
      "[ThorNetwork]\ndomain = sipthor.example\n");
  EXPECT_EQ(config.tls.certs_path, "/srv/certs");
  EXPECT_EQ(config.tls.verify_interval, seconds(60));
  EXPECT_EQ(config.database.dburi, "mysql://mp:secret@db.example/mediaproxy");
  EXPECT_EQ(config.database.sessions_table, "acct.media");
  EXPECT_EQ(config.database.callid_column, "cid");
  EXPECT_EQ(config.database.fromtag_column, "ft");
  EXPECT_EQ(config.database.totag_column, "tt");
  EXPECT_EQ(config.database.info_column, "blob_info");
  EXPECT_EQ(config.radius.config_file, "/etc/radius/client.conf");
  EXPECT_EQ(config.radius.additional_dictionary, "/usr/share/d");
  EXPECT_EQ(config.opensips.socket_path, "/var/run/opensips/mi");
  EXPECT_EQ(config.opensips.location_table, "loc");
  EXPECT_EQ(config.thor_network.domain, "sipthor.example");
  EXPECT_FALSE(parse("[ThorNetwork]\ndomain = none\n").thor_network.domain.has_value());
}

TEST(ConfigOptions, PercentInterpolationAsConfigParser) {
  // MediaProxy's parser interpolates: a literal % in a password is written %%.
  const auto database =
      parse("[Database]\ndburi = mysql://mp:p%%40ss@%(sessions_table)s/db\nsessions_table = h1\n")
          .database;
  EXPECT_EQ(database.dburi, "mysql://mp:p%40ss@h1/db");
}

TEST(ConfigOptions, CertsDirAndSocketPathResolution) {
  auto config = parse("[TLS]\ncerts_path = pki/tls\n[Dispatcher]\nsocket_path = d.sock\n");
  EXPECT_EQ(config.certs_dir(), "/etc/mediaproxy/pki/tls");
  EXPECT_EQ(config.dispatcher_socket_path("/run/mediaproxy"), "/run/mediaproxy/d.sock");
  config = parse("[TLS]\ncerts_path = /opt/tls\n[Dispatcher]\nsocket_path = /tmp/x.sock\n");
  EXPECT_EQ(config.certs_dir(), "/opt/tls");
  EXPECT_EQ(config.dispatcher_socket_path("/run/mediaproxy"), "/tmp/x.sock");
  EXPECT_EQ(parse("").dispatcher_socket_path("/run/mediaproxy"), "/run/mediaproxy/dispatcher.sock");
}

TEST(ConfigOptions, OptionLinesAndDescribe) {
  const auto config = parse("; comment\n[Relay]\n\nport_range = 50000:50010\npassport = CN:x\n");
  EXPECT_EQ(config.option_lines.at("Relay.port_range"), 4);
  EXPECT_EQ(config.option_lines.at("Relay.passport"), 5);
  EXPECT_EQ(config.describe_option("Relay", "passport"),
            "/etc/mediaproxy/config.ini:5: [Relay] passport");
  EXPECT_EQ(config.describe_option("Dispatcher", "passport"), "[Dispatcher] passport");
}

}  // namespace
}  // namespace mpx::config

namespace mpx::config {
namespace {

// The eBPF datapath's options: where to attach, how, where the maps are pinned.
TEST(ConfigOptions, EbpfDatapathOptions) {
  auto parsed = try_parse_config(
      "[Relay]\ndatapath = tc\nbpf_interfaces = eth0, eth1 bond0.100\nxdp_mode = Generic\n"
      "bpf_pin_path = /run/mpx/bpffs\n",
      "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const auto& relay = parsed.value().relay;
  EXPECT_EQ(relay.bpf_interfaces, (std::vector<std::string>{"eth0", "eth1", "bond0.100"}));
  EXPECT_EQ(relay.xdp_mode, XdpMode::generic);
  EXPECT_EQ(relay.bpf_pin_path, std::filesystem::path("/run/mpx/bpffs"));
  EXPECT_TRUE(Config{}.relay.bpf_interfaces.empty());
  EXPECT_EQ(Config{}.relay.xdp_mode, XdpMode::native);

  for (const std::string bad : {"bpf_interfaces = a-name-longer-than-15", "bpf_interfaces = ../x",
                                "xdp_mode = offload"}) {
    auto refused = try_parse_config("[Relay]\n" + bad + "\n", "/etc/mediaproxy/config.ini",
                                    "/etc/mediaproxy");
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_NE(refused.error().message.find(bad.substr(0, bad.find(' '))), std::string::npos)
        << refused.error().message;
  }
}

}  // namespace
}  // namespace mpx::config
