// A file shaped like MediaProxy's config.ini.sample (long comment blocks, every option commented
// out with its default), then the same file with the options a deployment typically sets.
#include <gtest/gtest.h>

#include <string>

#include "common/config/config.hpp"

namespace mpx::config {
namespace {

using boost::asio::ip::make_address_v4;
using std::chrono::seconds;

// Written from mediaproxy-compat.md §7; `;` comments and commented-out defaults as in the sample.
const std::string sample = R"INI(
[Relay]
; A list of dispatchers to connect to, separated by spaces and/or commas. The
; format is "host[:port] [host[:port] ...]". The default port is 25060. A host
; is a domain with a _sip._udp SRV record, a hostname or an IP address.
;
;dispatchers = example.com 1.2.3.4:12345

; Extra checks on the dispatcher's TLS certificate subject:
;   AN:value[, AN:value...]    with AN one of O, OU, CN, C, L, ST, EMAIL
; A '*' at the start or end of value matches a suffix or prefix.
;   passport = O:AG Projects, CN:*dispatcher
;
;passport = None

; The IP address used for relaying streams; default: the address of the
; interface that has the default route.
;relay_ip = <default host IP>

; The IP address returned to OpenSIPS when the relay is behind 1:1 NAT.
;advertised_ip =

; Bind media sockets on the interface that reaches the signalling peers.
;auto_detect_interfaces = False

; Port range for media: start:end, even numbers in [1024, 65536], start < end.
; Four ports are used per stream.
;
;port_range = 40000:60000

;log_level = INFO

; Seconds to wait for a new stream to start sending data.
;stream_timeout = 90

; Seconds a call may stay on hold before it expires.
;on_hold_timeout = 7200

; Seconds between DNS checks of the dispatchers.
;dns_check_interval = 60

; Seconds before reconnecting to a dispatcher.
;reconnect_delay = 10

; Seconds between traffic samples; 0 disables sampling.
;traffic_sampling_period = 15

; Private networks that are reachable from this relay.
;routable_private_ranges =

; mpx: how media is moved: conntrack, xdp, tc or userspace.
;datapath = conntrack


[Dispatcher]
; Local socket for OpenSIPS. Relative paths are in the runtime directory.
;
;socket_path = dispatcher.sock

; Listen address for relays: "ip[:port]", "0.0.0.0" or "any" for all.
;
;listen = 0.0.0.0

; Listen address for the management interface.
;
;listen_management = 0.0.0.0

;management_use_tls = yes

;passport = None

;management_passport = None

;log_level = INFO

; Seconds to wait for a relay's answer.
;relay_timeout = 5

; Comma separated accounting backends: radius, database.
;accounting =

[TLS]
; Path to the certificates; relative to the configuration directory.
;
;certs_path = tls

; Seconds between checks of the peer certificate.
;verify_interval = 300


[Database]
; This section needs to be configured if database accounting is enabled

; Database URI in the form: scheme://user:password@host/database
;dburi = mysql://mediaproxy:CHANGEME@localhost/mediaproxy

;sessions_table = media_sessions

;callid_column = call_id
;fromtag_column = from_tag
;totag_column = to_tag
;info_column = info

[Radius]
;config_file = /etc/opensips/radius/client.conf
;additional_dictionary = radius/dictionary

[OpenSIPS]
;socket_path = /run/opensips/socket
;location_table = location

[ThorNetwork]
;domain = None
;node_ip = <default host IP>
)INI";

std::string uncomment(std::string text, const std::string& commented, const std::string& line) {
  const auto at = text.find(commented);
  EXPECT_NE(at, std::string::npos) << commented;
  if (at != std::string::npos) {
    text.replace(at, commented.size(), line);
  }
  return text;
}

TEST(ConfigSample, CommentedSampleGivesEveryDefault) {
  const Config config = parse_config(sample, "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  Config expected;
  expected.config_dir = "/etc/mediaproxy";
  expected.config_file = "/etc/mediaproxy/config.ini";
  EXPECT_TRUE(config == expected);
}

TEST(ConfigSample, DeploymentValues) {
  std::string text = sample;
  text = uncomment(text, ";dispatchers = example.com 1.2.3.4:12345",
                   "dispatchers = proxy.example.com 192.0.2.1:12345");
  text = uncomment(text, ";passport = None\n\n; The IP",
                   "passport = O:AG Projects, CN:*dispatcher\n\n; The IP");
  text = uncomment(text, ";port_range = 40000:60000", "port_range = 50000:60000");
  text = uncomment(text, ";datapath = conntrack", "datapath = tc");
  text = uncomment(text, ";listen = 0.0.0.0", "listen = 0.0.0.0");
  text = uncomment(text, ";accounting =", "accounting = database");
  text = uncomment(text, ";dburi = mysql://mediaproxy:CHANGEME@localhost/mediaproxy",
                   "dburi = mysql://mediaproxy:CHANGE%%ME@localhost/mediaproxy");
  text = uncomment(text, ";socket_path = /run/opensips/socket",
                   "socket_path = /var/run/opensips/socket");

  const Config config = parse_config(text, "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
  const std::vector<DispatcherAddress> dispatchers{{"proxy.example.com", 25060},
                                                   {"192.0.2.1", 12345}};
  EXPECT_EQ(config.relay.dispatchers, dispatchers);
  EXPECT_EQ(config.relay.passport, "O:AG Projects, CN:*dispatcher");
  EXPECT_EQ(config.relay.port_range, (PortRange{50000, 60000}));
  EXPECT_EQ(config.relay.datapath, Datapath::tc);
  EXPECT_EQ(config.dispatcher.listen, (ListenAddress{std::nullopt, 25060}));
  EXPECT_EQ(config.dispatcher.accounting,
            std::vector<AccountingBackend>{AccountingBackend::database});
  EXPECT_EQ(config.database.dburi, "mysql://mediaproxy:CHANGE%ME@localhost/mediaproxy");
  EXPECT_EQ(config.opensips.socket_path, "/var/run/opensips/socket");
  // Untouched options keep their defaults.
  EXPECT_EQ(config.relay.stream_timeout, seconds(90));
  EXPECT_EQ(config.tls.verify_interval, seconds(300));
  EXPECT_EQ(config.describe_option("Relay", "port_range").rfind("/etc/mediaproxy/config.ini:", 0),
            0U);
}

TEST(ConfigSample, TypoInTheSampleIsNamed) {
  const std::string text = uncomment(sample, ";stream_timeout = 90", "stream_timout = 90");
  try {
    parse_config(text, "/etc/mediaproxy/config.ini", "/etc/mediaproxy");
    FAIL() << "typo accepted";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("[Relay] stream_timout: unknown option; accepted options in [Relay]: "),
              std::string::npos)
        << message;
    EXPECT_EQ(message.rfind("/etc/mediaproxy/config.ini:", 0), 0U) << message;
  }
}

}  // namespace
}  // namespace mpx::config
