// mpx::config: the typed contents of config.ini, the file MediaProxy's dispatcher and relay share
// (mediaproxy-compat.md §7). Sections, option names and defaults are MediaProxy's; the member
// initialisers below ARE the defaults. mpx adds its own options ([Relay] datapath, latching,
// latching_window_ms, [Dispatcher] socket_mode, socket_owner, socket_group, answer_budget_ms, ...)
// next to them.
// Reading stops start-up with one ConfigError line naming file, line, section, option and what is
// accepted; see schema.cpp for the table of options.
#pragma once

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace mpx::config {

using Seconds = std::chrono::seconds;

enum class LogLevel { critical, error, warning, info, debug };

// How the relay moves media packets (kernel-datapaths.md). conntrack is MediaProxy's own way.
enum class Datapath { conntrack, xdp, tc, userspace };
// XDP attach mode: native (in the driver) or generic (in the stack, any interface).
enum class XdpMode { native, generic };

// Which remote a relay socket latches onto (relay/media/latch.hpp). strict (mpx) resists RTP
// Bleed: signalled sources first, an unsignalled one only for a party behind a NAT and only
// after its learning window; signalled_only never takes an unsignalled source; first_packet is
// MediaProxy's own way (the first datagram from anyone wins).
enum class LatchingPolicy { strict, signalled_only, first_packet };

enum class AccountingBackend { database, radius };

// Which SIP proxy the dispatcher asks to end a dialog whose media died (mpx; MediaProxy spoke
// only to OpenSIPS): OpenSIPS's mi_datagram or Kamailio's jsonrpcs datagram socket.
enum class SipProxy { opensips, kamailio, none };

// Media ports: pairs (p, p+1) for even p in [start, end), end exclusive (§5.3). Invariant after
// parsing: both even, 1024 <= start < end <= 65536 (so end does not fit in 16 bits).
struct PortRange {
  std::uint32_t start = 40000;
  std::uint32_t end = 60000;
  std::uint32_t pair_count() const { return (end - start) / 2; }
  bool operator==(const PortRange&) const = default;
};

// One `host[:port]` item of [Relay] dispatchers. host is an IPv4 literal or a DNS name (SRV
// `_sip._udp.<host>`, then A; the resolver's business, not the config's).
struct DispatcherAddress {
  static constexpr std::uint16_t default_port = 25060;
  std::string host;
  std::uint16_t port = default_port;
  bool operator==(const DispatcherAddress&) const = default;
};

// A listening endpoint: ip nullopt means all addresses (MediaProxy's `any` / 0.0.0.0).
struct ListenAddress {
  std::optional<boost::asio::ip::address_v4> ip;
  std::uint16_t port = 0;
  bool operator==(const ListenAddress&) const = default;
};

struct RelayConfig {
  std::vector<DispatcherAddress> dispatchers;
  std::optional<std::string> passport;  // raw `AN:value, ...`; parsed by common/tls
  std::optional<boost::asio::ip::address_v4>
      relay_ip;  // nullopt: IP of the default-route interface
  std::optional<boost::asio::ip::address_v4> advertised_ip;
  bool auto_detect_interfaces = false;
  PortRange port_range;
  LogLevel log_level = LogLevel::info;
  Seconds stream_timeout{90};
  Seconds on_hold_timeout{7200};
  Seconds dns_check_interval{60};
  Seconds reconnect_delay{10};
  Seconds traffic_sampling_period{15};                               // 0 disables sampling
  std::vector<boost::asio::ip::network_v4> routable_private_ranges;  // canonical (host bits zero)
  Seconds keepalive_interval{10};
  std::uint32_t userspace_transmit_every = 1;
  Datapath datapath = Datapath::conntrack;  // mpx
  LatchingPolicy latching = LatchingPolicy::strict;    // mpx
  std::chrono::milliseconds latching_window{1000};     // mpx: 0 to 10000
  std::optional<ListenAddress> listen_metrics;         // mpx: Prometheus endpoint; nullopt: off
  std::vector<std::string> bpf_interfaces;             // mpx: where xdp/tc attach (ingress)
  XdpMode xdp_mode = XdpMode::native;                  // mpx
  std::filesystem::path bpf_pin_path = "/sys/fs/bpf/mpx-relay";  // mpx: bpffs dir for maps
  // mpx: sessions persisted for a restart with a kernel datapath (relative: runtime directory)
  std::filesystem::path state_file = "relay-state.json";
  bool operator==(const RelayConfig&) const = default;
};

struct DispatcherConfig {
  std::filesystem::path socket_path = "dispatcher.sock";  // relative: in the runtime directory
  ListenAddress listen{std::nullopt, 25060};
  ListenAddress listen_management{std::nullopt, 25061};
  bool management_use_tls = true;
  std::optional<std::string> passport;             // checks relays; raw, parsed by common/tls
  std::optional<std::string> management_passport;  // checks management clients
  LogLevel log_level = LogLevel::info;
  Seconds relay_timeout{5};
  std::vector<AccountingBackend> accounting;  // no duplicates, in the order written
  Seconds relay_recover_interval{60};
  Seconds cleanup_dead_relays_after{43200};
  Seconds cleanup_expired_sessions_after{86400};
  // mpx: the module socket's permissions. Restrictive by default: only the owner (the
  // dispatcher's user unless socket_owner says otherwise) and socket_group may talk to it.
  std::uint32_t socket_mode = 0660;         // permission bits, 0 to 0777
  std::optional<std::string> socket_owner;  // user name or numeric uid; nullopt: leave as created
  std::optional<std::string> socket_group;  // group name or numeric gid; nullopt: leave as created
  // mpx: every answer to the module, failover included, is sent within this budget (the module
  // waits 500 ms, then stops using the dispatcher for 10 s); past it the answer is `error`.
  std::chrono::milliseconds answer_budget{300};
  SipProxy sip_proxy = SipProxy::opensips;  // mpx
  Seconds dialog_end_timeout{3};            // mpx: wait this long for the proxy's answer
  std::optional<ListenAddress> listen_metrics;  // mpx: Prometheus endpoint; nullopt: off
  // mpx: the durable accounting spool (one sub-directory per back-end; relative: in the runtime
  // directory) and its bound per back-end, in records.
  std::filesystem::path accounting_spool_dir = "accounting-spool";
  std::uint32_t accounting_spool_max_records = 100000;
  bool operator==(const DispatcherConfig&) const = default;
};

struct TlsConfig {
  std::filesystem::path certs_path = "tls";  // relative: in the configuration directory
  Seconds verify_interval{300};
  bool operator==(const TlsConfig&) const = default;
};

struct DatabaseConfig {
  std::string dburi;  // empty: not configured (required only for database accounting)
  std::string sessions_table = "media_sessions";
  std::string callid_column = "call_id";
  std::string fromtag_column = "from_tag";
  std::string totag_column = "to_tag";
  std::string info_column = "info";
  bool operator==(const DatabaseConfig&) const = default;
};

struct RadiusConfig {
  std::filesystem::path config_file = "/etc/opensips/radius/client.conf";
  std::filesystem::path additional_dictionary = "radius/dictionary";
  bool operator==(const RadiusConfig&) const = default;
};

struct OpenSipsConfig {
  std::filesystem::path socket_path = "/run/opensips/socket";
  std::string location_table = "location";
  bool operator==(const OpenSipsConfig&) const = default;
};

// [Kamailio] (mpx): where Kamailio's jsonrpcs module listens for datagrams (its dgram_socket).
struct KamailioConfig {
  std::filesystem::path socket_path = "/run/kamailio/kamailio_rpc.sock";
  bool operator==(const KamailioConfig&) const = default;
};

struct ThorNetworkConfig {
  std::optional<std::string> domain;
  std::optional<boost::asio::ip::address_v4> node_ip;  // nullopt: the host's default IP
  bool operator==(const ThorNetworkConfig&) const = default;
};

struct Config {
  RelayConfig relay;
  DispatcherConfig dispatcher;
  TlsConfig tls;
  DatabaseConfig database;
  RadiusConfig radius;
  OpenSipsConfig opensips;
  ThorNetworkConfig thor_network;
  KamailioConfig kamailio;

  std::filesystem::path config_dir;   // where config.ini was looked for
  std::filesystem::path config_file;  // the file read; empty when there was none
  // Line of each option set in the file, keyed "Section.option" (e.g. "Relay.passport").
  std::map<std::string, int, std::less<>> option_lines;

  // TLS.certs_path, resolved against config_dir when relative.
  std::filesystem::path certs_dir() const;
  // Dispatcher.socket_path, resolved against runtime_dir when relative.
  std::filesystem::path dispatcher_socket_path(const std::filesystem::path& runtime_dir) const;
  // "file:line: [Section] option" for an option set in the file, "[Section] option" otherwise:
  // the prefix for errors found later (e.g. a passport rejected by common/tls).
  std::string describe_option(std::string_view section, std::string_view option) const;

  bool operator==(const Config&) const = default;
};

// Start-up misconfiguration. what() is one line: file, line, section, option, what is accepted.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads dir/config.ini. A missing config.ini gives every default (as MediaProxy); a directory that
// does not exist or cannot be read, an unreadable file or a bad file throws ConfigError.
// config_dir in the result is made absolute so relative paths survive a later chdir.
Config load_config_dir(const std::filesystem::path& dir);

// Parses config.ini text. file_label names the file in messages.
Config parse_config(std::string_view text, const std::string& file_label,
                    const std::filesystem::path& config_dir);
// The same, never throwing: the error message is ConfigError's line.
mpx::Result<Config> try_parse_config(std::string_view text, const std::string& file_label,
                                     const std::filesystem::path& config_dir);

std::string_view to_string(Datapath datapath);
std::string_view to_string(LatchingPolicy policy);
std::string_view to_string(XdpMode mode);
std::string_view to_string(LogLevel level);  // MediaProxy's spelling: "INFO", ...
std::string_view to_string(AccountingBackend backend);
std::string_view to_string(SipProxy proxy);

}  // namespace mpx::config
