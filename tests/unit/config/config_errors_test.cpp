// Every kind of mistake stops start-up with ONE line naming file, line, section, option and what is
// accepted.
#include <gtest/gtest.h>

#include <string>

#include "common/config/config.hpp"

namespace mpx::config {
namespace {

constexpr const char* file = "/etc/mediaproxy/config.ini";

std::string error_of(const std::string& text) {
  auto config = try_parse_config(text, file, "/etc/mediaproxy");
  if (config.has_value()) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  EXPECT_EQ(config.error().message.find('\n'), std::string::npos) << "not one line";
  return config.error().message;
}

TEST(ConfigErrors, PortRangeOddStart) {
  EXPECT_EQ(error_of("[Relay]\n\n\n\n\n\n\n\n\n\n\nport_range = 40001:60000\n"),
            "/etc/mediaproxy/config.ini:12: [Relay] port_range = 40001:60000: invalid value; "
            "accepted: START:END, both even, 1024 <= START < END <= 65536");
}

TEST(ConfigErrors, PortRangeEveryInvariant) {
  for (const auto* bad : {"1022:2000", "2000:2000", "3000:2000", "1024:65538", "1024:2001", "1024",
                          "a:b", "1024:2000:3000", ":", "-2:100", ""}) {
    const auto message = error_of(std::string("[Relay]\nport_range = ") + bad + "\n");
    EXPECT_NE(message.find("[Relay] port_range = "), std::string::npos) << message;
    EXPECT_NE(message.find("accepted: START:END, both even"), std::string::npos) << message;
  }
}

TEST(ConfigErrors, UnknownOptionListsAcceptedOnes) {
  EXPECT_EQ(
      error_of("[Relay]\nport_range = 40000:60000\n; typo below\nstrem_timeout = 90\n"),
      "/etc/mediaproxy/config.ini:4: [Relay] strem_timeout: unknown option; accepted options "
      "in [Relay]: dispatchers, passport, relay_ip, advertised_ip, auto_detect_interfaces, "
      "port_range, log_level, stream_timeout, on_hold_timeout, dns_check_interval, "
      "reconnect_delay, traffic_sampling_period, routable_private_ranges, keepalive_interval, "
      "userspace_transmit_every, datapath, latching, latching_window_ms, listen_metrics, "
      "bpf_interfaces, xdp_mode, bpf_pin_path, state_file");
}

TEST(ConfigErrors, OptionOfAnotherSectionIsUnknown) {
  EXPECT_EQ(error_of("[TLS]\ndburi = x\n"),
            "/etc/mediaproxy/config.ini:2: [TLS] dburi: unknown option; accepted options in [TLS]: "
            "certs_path, verify_interval");
}

TEST(ConfigErrors, UnknownSection) {
  EXPECT_EQ(error_of("; MediaProxy\n[Relya]\nport_range = 40000:60000\n"),
            "/etc/mediaproxy/config.ini:2: [Relya]: unknown section; accepted: Relay, Dispatcher, "
            "TLS, Database, Radius, OpenSIPS, ThorNetwork, Kamailio");
}

TEST(ConfigErrors, SectionNamesAreCaseSensitiveWithHint) {
  EXPECT_EQ(error_of("[relay]\n"),
            "/etc/mediaproxy/config.ini:1: [relay]: unknown section; accepted: Relay, Dispatcher, "
            "TLS, Database, Radius, OpenSIPS, ThorNetwork, Kamailio (section names are case-sensitive: write "
            "[Relay])");
}

TEST(ConfigErrors, AccountingBackendOtherThanDatabaseOrRadius) {
  EXPECT_EQ(
      error_of("[Dispatcher]\naccounting = database, mysql\n"),
      "/etc/mediaproxy/config.ini:2: [Dispatcher] accounting = database, mysql: invalid value "
      "(unknown backend 'mysql'); accepted: None, or database and/or radius (lowercase) "
      "separated by commas");
  EXPECT_NE(error_of("[Dispatcher]\naccounting = Radius\n").find("unknown backend 'Radius'"),
            std::string::npos);
}

TEST(ConfigErrors, BadBoolean) {
  EXPECT_EQ(error_of("[Relay]\nauto_detect_interfaces = maybe\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] auto_detect_interfaces = maybe: invalid value; "
            "accepted: yes, no, true, false, on, off, 1, 0");
}

TEST(ConfigErrors, BadSeconds) {
  EXPECT_EQ(
      error_of("[Relay]\nstream_timeout = 90s\n"),
      "/etc/mediaproxy/config.ini:2: [Relay] stream_timeout = 90s: invalid value; accepted: a "
      "whole number of seconds, 1 to 2147483647");
  // Positive integers where MediaProxy says so; 0 only where it disables something.
  EXPECT_NE(error_of("[Relay]\ndns_check_interval = 0\n").find("invalid value"), std::string::npos);
  EXPECT_NE(error_of("[Relay]\nreconnect_delay = -1\n").find("invalid value"), std::string::npos);
  EXPECT_NE(error_of("[TLS]\nverify_interval = 99999999999999999999\n").find("invalid value"),
            std::string::npos);
  EXPECT_NE(error_of("[Relay]\ntraffic_sampling_period = 2147483648\n").find("0 disables"),
            std::string::npos);
}

TEST(ConfigErrors, BadAddresses) {
  EXPECT_EQ(
      error_of("[Relay]\nrelay_ip = 10.1\n"),
      "/etc/mediaproxy/config.ini:2: [Relay] relay_ip = 10.1: invalid value; accepted: an IPv4 "
      "address (dotted quad), or empty/None for the default");
  EXPECT_NE(error_of("[Relay]\nadvertised_ip = 256.1.1.1\n").find("[Relay] advertised_ip"),
            std::string::npos);
  EXPECT_NE(error_of("[ThorNetwork]\nnode_ip = host.example\n").find("[ThorNetwork] node_ip"),
            std::string::npos);
}

TEST(ConfigErrors, BadDispatchers) {
  EXPECT_EQ(
      error_of("[Relay]\ndispatchers = a.example b.example:99999\n"),
      "/etc/mediaproxy/config.ini:2: [Relay] dispatchers = a.example b.example:99999: invalid "
      "value ('b.example:99999': port '99999' is not 1-65535); accepted: HOST[:PORT] items "
      "separated by spaces and/or commas (HOST an IPv4 address or DNS name, PORT 1-65535, "
      "default 25060)");
  EXPECT_NE(error_of("[Relay]\ndispatchers = 1.2.3.256\n")
                .find("'1.2.3.256' is not an IPv4 address or DNS name"),
            std::string::npos);
  EXPECT_NE(error_of("[Relay]\ndispatchers = bad/host\n").find("invalid value"), std::string::npos);
  EXPECT_NE(error_of("[Relay]\ndispatchers = host:\n").find("invalid value"), std::string::npos);
}

TEST(ConfigErrors, BadListen) {
  EXPECT_EQ(error_of("[Dispatcher]\nlisten = any:0\n"),
            "/etc/mediaproxy/config.ini:2: [Dispatcher] listen = any:0: invalid value (port '0' is "
            "not 1-65535); accepted: any, default or an IPv4 address, optionally followed by :PORT "
            "(1-65535)");
  EXPECT_NE(error_of("[Dispatcher]\nlisten_management = localhost\n").find("'localhost' is not"),
            std::string::npos);
}

TEST(ConfigErrors, BadNetworks) {
  EXPECT_EQ(error_of("[Relay]\nroutable_private_ranges = 10.0.0.0/33\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] routable_private_ranges = 10.0.0.0/33: invalid "
            "value ('10.0.0.0/33' has a prefix length outside 0-32); accepted: None, or "
            "IPv4/PREFIX, IPv4 or any items separated by commas and/or spaces");
  EXPECT_NE(error_of("[Relay]\nroutable_private_ranges = intranet\n")
                .find("'intranet' is not a "
                      "network"),
            std::string::npos);
}

TEST(ConfigErrors, BadEnums) {
  EXPECT_EQ(error_of("[Relay]\ndatapath = dpdk\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] datapath = dpdk: invalid value; accepted: "
            "conntrack, xdp, tc, userspace");
  EXPECT_EQ(error_of("[Relay]\nlatching = symmetric\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] latching = symmetric: invalid value; accepted: "
            "strict, signalled_only (never an unsignalled source) or first_packet (MediaProxy's: "
            "the first datagram from anyone is latched)");
  EXPECT_EQ(error_of("[Dispatcher]\nlog_level = verbose\n"),
            "/etc/mediaproxy/config.ini:2: [Dispatcher] log_level = verbose: invalid value; "
            "accepted: CRITICAL, ERROR, WARNING, INFO, DEBUG");
}

TEST(ConfigErrors, BadLatchingWindow) {
  EXPECT_EQ(error_of("[Relay]\nlatching_window_ms = 10001\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] latching_window_ms = 10001: invalid value; "
            "accepted: a whole number of milliseconds, 0 to 10000 (the learning window of strict "
            "latching)");
  for (const auto* bad : {"-1", "1s", "", "1.5"}) {
    EXPECT_NE(error_of(std::string("[Relay]\nlatching_window_ms = ") + bad + "\n")
                  .find("[Relay] latching_window_ms = "),
              std::string::npos)
        << bad;
  }
}

TEST(ConfigErrors, BadPathsAndSqlNames) {
  EXPECT_NE(error_of("[TLS]\ncerts_path =\n").find("[TLS] certs_path = : invalid value"),
            std::string::npos);
  EXPECT_NE(error_of("[Database]\ncallid_column = call id\n").find("accepted: an SQL name"),
            std::string::npos);
  EXPECT_NE(error_of("[Database]\nsessions_table = 1table\n").find("invalid value"),
            std::string::npos);
}

TEST(ConfigErrors, MultiLineValueIsShownOnOneLine) {
  EXPECT_EQ(error_of("[Relay]\nstream_timeout = 90\n  120\n"),
            "/etc/mediaproxy/config.ini:2: [Relay] stream_timeout = 90\\n120: invalid value; "
            "accepted: a whole number of seconds, 1 to 2147483647");
}

TEST(ConfigErrors, ControlBytesAreEscapedAndLongValuesCut) {
  const auto message = error_of("[Relay]\nlog_level = a\x01" + std::string(300, 'x') + "\n");
  EXPECT_NE(message.find("a\\x01xxx"), std::string::npos) << message;
  EXPECT_NE(message.find("...: invalid value"), std::string::npos) << message;
  EXPECT_LT(message.size(), 300U);
}

TEST(ConfigErrors, ParseConfigThrowsConfigErrorWithTheSameLine) {
  try {
    parse_config("[Relay]\nport_range = 1:2\n", file, "/etc/mediaproxy");
    FAIL() << "no exception";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/etc/mediaproxy/config.ini:2: [Relay] port_range = 1:2: invalid value; accepted: "
              "START:END, both even, 1024 <= START < END <= 65536");
  }
}

TEST(ConfigErrors, FirstErrorInFileOrderWins) {
  EXPECT_NE(error_of("[Relay]\nstream_timeout = x\nport_range = y\n").find(":2: "),
            std::string::npos);
}

}  // namespace
}  // namespace mpx::config
