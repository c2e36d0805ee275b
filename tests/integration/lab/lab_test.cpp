// lab_tests: checks that scripts/lab.sh (through NetnsLab) builds the topology documented in
// tests/support/netns_lab.hpp, that traffic flows exactly where it promises, and that every way
// of ending a lab (destructor, failed or refused `up`, `down` twice) leaves nothing behind.
// All traffic stays inside the lab's own namespaces.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/inet.hpp"
#include "tests/support/netns_lab.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"

namespace mpx::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using A = LabAddresses;

constexpr int kDefaultTtl = 64;  // Linux default; one forwarding hop makes it 63
constexpr int kBulkCount = 100;
constexpr auto kBulkDeadline = 5s;
constexpr auto kReplyTimeout = 2s;

// ------------------------------------------------------------------------------ UDP helpers

class UdpSocket {
 public:
  UdpSocket() = default;
  explicit UdpSocket(int fd) : fd_(fd) {}
  ~UdpSocket() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// A UDP socket created (and bound to bind_ip:port, port 0: ephemeral) inside the role's
// namespace; it stays in that namespace when used from the test thread afterwards.
UdpSocket udp_socket_in(const NetnsLab& lab, const std::string& role,
                        const std::string& bind_ip = "0.0.0.0", std::uint16_t port = 0) {
  UdpSocket sock(bound_udp_socket(lab, role, bind_ip, port));
  const int one = 1;
  if (setsockopt(sock.fd(), IPPROTO_IP, IP_RECVTTL, &one, sizeof one) != 0) {
    throw std::runtime_error(std::string("IP_RECVTTL: ") + std::strerror(errno));
  }
  return sock;
}

uint16_t local_port(const UdpSocket& sock) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(sock.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("getsockname: ") + std::strerror(errno));
  }
  return ntohs(addr.sin_port);
}

// Returns 0 on success, otherwise the errno of sendto (e.g. ENETUNREACH).
int send_to(const UdpSocket& sock, const std::string& ip, uint16_t port,
            const std::string& payload) {
  const sockaddr_in addr = ipv4_sockaddr(ip, port);
  const ssize_t n = sendto(sock.fd(), payload.data(), payload.size(), 0,
                           reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  return n < 0 ? errno : 0;
}

struct Datagram {
  std::string payload;
  std::string from_ip;
  uint16_t from_port = 0;
  int ttl = -1;
};

// Waits at most `timeout` (poll) for one datagram.
std::optional<Datagram> receive(const UdpSocket& sock, std::chrono::milliseconds timeout) {
  pollfd pfd{sock.fd(), POLLIN, 0};
  const int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) {
    return std::nullopt;
  }
  std::array<char, 2048> buf{};
  alignas(cmsghdr) std::array<char, 256> control{};
  sockaddr_in from{};
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = recvmsg(sock.fd(), &msg, MSG_DONTWAIT);
  if (n < 0) {
    return std::nullopt;
  }
  Datagram d;
  d.payload.assign(buf.data(), static_cast<std::size_t>(n));
  std::array<char, INET_ADDRSTRLEN> ip{};
  inet_ntop(AF_INET, &from.sin_addr, ip.data(), ip.size());
  d.from_ip = ip.data();
  d.from_port = ntohs(from.sin_port);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      std::memcpy(&d.ttl, CMSG_DATA(c), sizeof d.ttl);
    }
  }
  return d;
}

// Sends `count` numbered datagrams from `from` to dest_ip:port of `to` and collects what `to`
// receives until all arrived or the deadline passed (bounded in count and in time).
std::vector<Datagram> send_bulk(const UdpSocket& from, const UdpSocket& to,
                                const std::string& dest_ip, int count) {
  const uint16_t port = local_port(to);
  for (int i = 0; i < count; ++i) {
    const int err = send_to(from, dest_ip, port, "seq " + std::to_string(i));
    if (err != 0) {
      throw std::runtime_error("sendto " + dest_ip + ": " + std::strerror(err));
    }
  }
  std::vector<Datagram> got;
  const auto deadline = Clock::now() + kBulkDeadline;
  for (int i = 0; i < 2 * count && static_cast<int>(got.size()) < count; ++i) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) {
      break;
    }
    auto d = receive(to, left);
    if (!d) {
      break;
    }
    got.push_back(std::move(*d));
  }
  return got;
}

// Every numbered datagram arrived once, from from_ip:from_port, with the given TTL.
void expect_bulk_delivered(const std::vector<Datagram>& got, int count, const std::string& from_ip,
                           uint16_t from_port, int ttl) {
  ASSERT_EQ(static_cast<int>(got.size()), count);
  std::set<std::string> payloads;
  for (const auto& d : got) {
    EXPECT_EQ(d.from_ip, from_ip);
    EXPECT_EQ(d.from_port, from_port);
    EXPECT_EQ(d.ttl, ttl);
    payloads.insert(d.payload);
  }
  EXPECT_EQ(static_cast<int>(payloads.size()), count);
  EXPECT_EQ(payloads.count("seq 0"), 1U);
  EXPECT_EQ(payloads.count("seq " + std::to_string(count - 1)), 1U);
}

// One request from `client_role` (bound to client_ip, "0.0.0.0" for the route's choice) to
// server_ip in `server_role`, then a reply back. Checks the addresses both sides see.
void expect_request_reply(const NetnsLab& lab, const std::string& client_role,
                          const std::string& client_ip, const std::string& server_role,
                          const std::string& server_ip, const std::string& expected_source,
                          int expected_ttl) {
  SCOPED_TRACE(client_role + " -> " + server_role + " " + server_ip);
  const UdpSocket server = udp_socket_in(lab, server_role, server_ip);
  const UdpSocket client = udp_socket_in(lab, client_role, client_ip);
  ASSERT_EQ(send_to(client, server_ip, local_port(server), "request"), 0);
  const auto request = receive(server, kReplyTimeout);
  ASSERT_TRUE(request.has_value()) << "no request arrived at " << server_ip;
  EXPECT_EQ(request->payload, "request");
  EXPECT_EQ(request->from_ip, expected_source);
  EXPECT_EQ(request->from_port, local_port(client));
  EXPECT_EQ(request->ttl, expected_ttl);

  ASSERT_EQ(send_to(server, request->from_ip, request->from_port, "reply"), 0);
  const auto reply = receive(client, kReplyTimeout);
  ASSERT_TRUE(reply.has_value()) << "no reply arrived back at " << expected_source;
  EXPECT_EQ(reply->payload, "reply");
  EXPECT_EQ(reply->from_ip, server_ip);
}

// -------------------------------------------------------------------------- lab.sh helpers

RunResult lab_sh(const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.emplace_back("bash");
  argv.push_back(lab_script());
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 60s);
}

// Runs `lab.sh down NAME` on scope exit, for labs a test creates with lab.sh directly.
class DownOnExit {
 public:
  explicit DownOnExit(std::string name) : name_(std::move(name)) {}
  ~DownOnExit() { lab_sh({"down", name_}); }
  DownOnExit(const DownOnExit&) = delete;
  DownOnExit& operator=(const DownOnExit&) = delete;

 private:
  std::string name_;
};

// Everything of lab NAME that still exists: mpx-NAME-* namespaces, mounts at or below
// /run/mpx-lab/NAME, the state directory.
std::vector<std::string> leftovers_of(const std::string& name) {
  std::vector<std::string> found;
  const std::string ns_prefix = "mpx-" + name + "-";
  std::error_code ec;
  if (std::filesystem::is_directory("/run/netns", ec)) {
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind(ns_prefix, 0) == 0) {
        found.push_back("namespace " + file);
      }
    }
  }
  const std::string dir = "/run/mpx-lab/" + name;
  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source;
    std::string target;
    fields >> source >> target;
    if (target == dir || target.rfind(dir + "/", 0) == 0) {
      found.push_back("mount " + line);
    }
  }
  if (std::filesystem::exists(dir, ec)) {
    found.push_back("directory " + dir);
  }
  return found;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += i + "\n";
  }
  return out;
}

const std::vector<std::string> kUpSteps{"namespaces", "routes", "neighbours", "offload",
                                        "addresses",  "links",  "sysctls",    "nat",
                                        "bpffs",      "state-file", "verify"};
const std::vector<std::string> kBasicRoles{"caller", "relay", "callee", "proxy"};
const std::vector<std::string> kAllRoles{"caller", "relay", "callee", "proxy", "relay2",
                                         "attacker"};
const std::vector<std::string> kAttackRoles{"caller", "relay",    "callee", "proxy",
                                            "attacker", "nat", "natted"};

class LabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    MPX_REQUIRE(missing_tool("ip"));
    MPX_REQUIRE(missing_tool("ethtool"));
    MPX_REQUIRE(missing_tool("bash"));
    MPX_REQUIRE(missing_tool("stat"));
  }
};

// ------------------------------------------------------------------------------------ tests

// (a) The relay forwards plain IP: 100 datagrams each way, source address and port unchanged
// (no NAT) and the TTL one lower (exactly one routed hop).
TEST_F(LabTest, UdpFlowsBothWaysThroughThePlainForwardingRelay) {
  const NetnsLab lab("udp");
  const UdpSocket caller = udp_socket_in(lab, "caller");
  const UdpSocket callee = udp_socket_in(lab, "callee", A::kCallee);

  expect_bulk_delivered(send_bulk(caller, callee, A::kCallee, kBulkCount), kBulkCount,
                        A::kCaller, local_port(caller), kDefaultTtl - 1);
  expect_bulk_delivered(send_bulk(callee, caller, A::kCaller, kBulkCount), kBulkCount,
                        A::kCallee, local_port(callee), kDefaultTtl - 1);
}

// (b) 203.0.113.1 lives on the relay's lo and every endpoint reaches it over its own link.
TEST_F(LabTest, RelayPublicAddressAnswersEveryEndpoint) {
  const NetnsLab lab("public");
  expect_request_reply(lab, "caller", "0.0.0.0", "relay", A::kRelayPublic, A::kCaller,
                       kDefaultTtl);
  expect_request_reply(lab, "callee", "0.0.0.0", "relay", A::kRelayPublic, A::kCallee,
                       kDefaultTtl);
  expect_request_reply(lab, "proxy", "0.0.0.0", "relay", A::kRelayPublic, A::kProxy,
                       kDefaultTtl);
  // The relay's own link addresses, as a relay daemon talking to the dispatcher would use.
  expect_request_reply(lab, "relay", A::kRelayProxySide, "proxy", A::kProxy,
                       A::kRelayProxySide, kDefaultTtl);
}

// (c) Two relays: relay2 is reached over the endpoints' second links and reaches their primary
// addresses itself; the attacker reaches only the relay's public address.
TEST_F(LabTest, TwoRelayVariantRoutesAsDocumented) {
  const NetnsLab lab("tworelay", NetnsLab::Variant::kTwoRelays);

  // The route picks eth1, so an unbound socket speaks from the relay2-link address.
  expect_request_reply(lab, "caller", "0.0.0.0", "relay2", A::kRelay2Public, A::kCaller2,
                       kDefaultTtl);
  expect_request_reply(lab, "callee", "0.0.0.0", "relay2", A::kRelay2Public, A::kCallee2,
                       kDefaultTtl);
  expect_request_reply(lab, "proxy", "0.0.0.0", "relay2", A::kRelay2Public, A::kProxy2,
                       kDefaultTtl);
  // Bound to the primary address, the reply from relay2 comes back over relay2's own link
  // (TTL 64: relay2 is one link away, relay is not involved).
  expect_request_reply(lab, "caller", A::kCaller, "relay2", A::kRelay2Public, A::kCaller,
                       kDefaultTtl);
  // relay2 speaks from its public address to the endpoints' primary addresses over its links.
  expect_request_reply(lab, "relay2", A::kRelay2Public, "callee", A::kCallee, A::kRelay2Public,
                       kDefaultTtl);
  expect_request_reply(lab, "relay2", A::kRelay2Public, "proxy", A::kProxy, A::kRelay2Public,
                       kDefaultTtl);

  // The basic paths are unchanged by the extra links.
  expect_request_reply(lab, "caller", "0.0.0.0", "callee", A::kCallee, A::kCaller,
                       kDefaultTtl - 1);
  expect_request_reply(lab, "caller", "0.0.0.0", "relay", A::kRelayPublic, A::kCaller,
                       kDefaultTtl);

  // The attacker reaches the relay's public address (and gets answers)...
  expect_request_reply(lab, "attacker", "0.0.0.0", "relay", A::kRelayPublic, A::kAttacker,
                       kDefaultTtl);
  // ...and nothing else: it has no route to any endpoint or to relay2.
  const UdpSocket attacker = udp_socket_in(lab, "attacker");
  for (const char* target : {A::kCallee, A::kCaller, A::kProxy, A::kCallee2, A::kRelay2Public}) {
    EXPECT_EQ(send_to(attacker, target, 9, "probe"), ENETUNREACH) << target;
  }
  // The relays are not linked: neither reaches the other's public address.
  const UdpSocket relay = udp_socket_in(lab, "relay");
  EXPECT_EQ(send_to(relay, A::kRelay2Public, 9, "probe"), ENETUNREACH);
  const UdpSocket relay2 = udp_socket_in(lab, "relay2");
  EXPECT_EQ(send_to(relay2, A::kRelayPublic, 9, "probe"), ENETUNREACH);
}

// The attack variant: natted reaches the relay's public address only through the NAT, which
// rewrites its address to 10.5.0.10 and its port into 30000-39999 (and back for the reply); the
// relay reaches both NAT addresses but not the private network; the attacker reaches only the
// relay's public address.
TEST_F(LabTest, AttackVariantNatsTheNattedEndpointAndIsolatesTheAttacker) {
  MPX_REQUIRE(missing_tool("nft"));
  const NetnsLab lab("attack", NetnsLab::Variant::kAttack);

  {
    SCOPED_TRACE("natted -> relay through the NAT");
    const UdpSocket server = udp_socket_in(lab, "relay", A::kRelayPublic);
    // A port outside the NAT's range, which the NAT must rewrite (an ephemeral port may fall
    // inside 30000-39999, and the NAT keeps a port that is in its range and free).
    const UdpSocket client = udp_socket_in(lab, "natted", A::kNatted, 5000);
    ASSERT_EQ(send_to(client, A::kRelayPublic, local_port(server), "request"), 0);
    const auto request = receive(server, kReplyTimeout);
    ASSERT_TRUE(request.has_value()) << "nothing from natted reached the relay";
    EXPECT_EQ(request->payload, "request");
    EXPECT_EQ(request->from_ip, A::kNatPublic);
    EXPECT_NE(request->from_port, local_port(client)) << "the NAT kept the port";
    EXPECT_GE(request->from_port, A::kNatFirstPort);
    EXPECT_LE(request->from_port, A::kNatLastPort);
    EXPECT_EQ(request->ttl, kDefaultTtl - 1);  // one routed hop: the NAT router
    ASSERT_EQ(send_to(server, request->from_ip, request->from_port, "reply"), 0);
    const auto reply = receive(client, kReplyTimeout);
    ASSERT_TRUE(reply.has_value()) << "the reply was not mapped back to natted";
    EXPECT_EQ(reply->payload, "reply");
    EXPECT_EQ(reply->from_ip, A::kRelayPublic);
    EXPECT_EQ(reply->from_port, local_port(server));
  }
  // The relay reaches the NAT's second address (static neighbour, the same link) ...
  expect_request_reply(lab, "relay", A::kRelayPublic, "nat", A::kNatPublic2, A::kRelayPublic,
                       kDefaultTtl);
  // ... but not the private network behind it.
  const UdpSocket relay = udp_socket_in(lab, "relay");
  EXPECT_EQ(send_to(relay, A::kNatted, 9, "probe"), ENETUNREACH);

  // The attacker reaches the relay's public address and nothing else.
  expect_request_reply(lab, "attacker", "0.0.0.0", "relay", A::kRelayPublic, A::kAttacker,
                       kDefaultTtl);
  const UdpSocket attacker = udp_socket_in(lab, "attacker");
  for (const char* target :
       {A::kCaller, A::kCallee, A::kProxy, A::kNatPublic, A::kNatPublic2, A::kNatted}) {
    EXPECT_EQ(send_to(attacker, target, 9, "probe"), ENETUNREACH) << target;
  }
  // The basic paths are unchanged.
  expect_request_reply(lab, "caller", "0.0.0.0", "relay", A::kRelayPublic, A::kCaller,
                       kDefaultTtl);
  expect_request_reply(lab, "caller", "0.0.0.0", "callee", A::kCallee, A::kCaller,
                       kDefaultTtl - 1);

  // Link-level guarantees of the new roles.
  const RunResult neigh = lab.exec("relay", {"ip", "neigh", "show", "dev", "nat0"});
  EXPECT_NE(neigh.out.find("10.5.0.11 lladdr 02:00:0a:05:00:0a PERMANENT"), std::string::npos)
      << neigh.out;
  for (const auto& role : kAttackRoles) {
    SCOPED_TRACE(role);
    EXPECT_EQ(lab.exec(role, {"ip", "-6", "addr", "show"}).out, "");
    const bool forwards = role == "relay" || role == "nat";
    EXPECT_EQ(lab.exec(role, {"sysctl", "-n", "net.ipv4.ip_forward"}).out,
              forwards ? "1\n" : "0\n");
    EXPECT_EQ(lab.exec(role, {"sysctl", "-n", "net.ipv4.conf.all.rp_filter"}).out, "0\n");
  }
  for (const auto& [role, dev] : std::vector<std::pair<std::string, std::string>>{
           {"attacker", "eth0"}, {"nat", "eth0"}, {"nat", "eth1"}, {"natted", "eth0"}}) {
    const RunResult k = lab.exec(role, {"ethtool", "-k", dev});
    EXPECT_NE(k.out.find("tx-checksum-ip-generic: off"), std::string::npos) << role << " " << dev;
  }
  const RunResult table = lab.exec("nat", {"nft", "list", "table", "ip", "labnat"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("snat to 10.5.0.10:30000-39999"), std::string::npos) << table.out;
  const RunResult status = lab_sh({"status", lab.name()});
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_NE(status.out.find("(variant: attack)"), std::string::npos) << status.out;
}

// Link-level guarantees: permanent neighbours with the derived MACs, IPv6 off, forwarding only
// in relays, tx checksum offload off on the endpoints' veths.
TEST_F(LabTest, LinksHaveStaticNeighboursNoIpv6AndNoTxOffloadOnEndpoints) {
  const NetnsLab lab("links", NetnsLab::Variant::kTwoRelays);

  const RunResult caller_neigh = lab.exec("caller", {"ip", "neigh", "show", "dev", "eth0"});
  ASSERT_EQ(caller_neigh.exit_code, 0) << caller_neigh.err;
  EXPECT_NE(caller_neigh.out.find("10.1.0.1 lladdr 02:00:0a:01:00:01 PERMANENT"),
            std::string::npos)
      << caller_neigh.out;
  const RunResult relay_neigh = lab.exec("relay", {"ip", "neigh", "show", "dev", "attacker0"});
  EXPECT_NE(relay_neigh.out.find("10.4.0.40 lladdr 02:00:0a:04:00:28 PERMANENT"),
            std::string::npos)
      << relay_neigh.out;

  for (const auto& role : kAllRoles) {
    SCOPED_TRACE(role);
    const RunResult v6 = lab.exec(role, {"ip", "-6", "addr", "show"});
    EXPECT_EQ(v6.exit_code, 0);
    EXPECT_EQ(v6.out, "");
    const RunResult fwd = lab.exec(role, {"sysctl", "-n", "net.ipv4.ip_forward"});
    const bool is_relay = role == "relay" || role == "relay2";
    EXPECT_EQ(fwd.out, is_relay ? "1\n" : "0\n");
  }

  const auto tx_csum = [&](const std::string& role, const std::string& dev) {
    const RunResult r = lab.exec(role, {"ethtool", "-k", dev});
    const std::string key = "tx-checksum-ip-generic: ";
    const auto at = r.out.find(key);
    if (at == std::string::npos) {
      return std::string("?");
    }
    const auto value = at + key.size();
    return r.out.substr(value, r.out.find_first_of(" \n", value) - value);
  };
  EXPECT_EQ(tx_csum("caller", "eth0"), "off");
  EXPECT_EQ(tx_csum("caller", "eth1"), "off");
  EXPECT_EQ(tx_csum("callee", "eth0"), "off");
  EXPECT_EQ(tx_csum("proxy", "eth1"), "off");
  EXPECT_EQ(tx_csum("attacker", "eth0"), "off");
  EXPECT_EQ(tx_csum("relay", "caller0"), "on");  // relays keep the defaults
}

// (d) Destroying the lab object removes every namespace, the bpffs mount and the state
// directory, for both variants, including a bpffs that has content.
TEST_F(LabTest, DestroyedLabLeavesNothingBehind) {
  // Namespaces + the bpffs mount + the state directory.
  const std::vector<std::pair<NetnsLab::Variant, std::size_t>> variants{
      {NetnsLab::Variant::kBasic, 6U},
      {NetnsLab::Variant::kTwoRelays, 8U},
      {NetnsLab::Variant::kAttack, 9U}};
  for (const auto& [variant, parts] : variants) {
    std::string name;
    {
      const NetnsLab lab("gone", variant);
      name = lab.name();
      ASSERT_EQ(leftovers_of(name).size(), parts) << joined(leftovers_of(name));
      const RunResult mk = lab.exec("relay", {"mkdir", (lab.bpffs_dir() / "pins").string()});
      ASSERT_EQ(mk.exit_code, 0) << mk.err;
    }
    EXPECT_EQ(joined(leftovers_of(name)), "");
    const RunResult list = lab_sh({"list"});
    EXPECT_EQ(list.exit_code, 0);
    EXPECT_EQ(list.out.find(name + "\n"), std::string::npos) << list.out;
  }
}

// (e) A second `up` with a taken name is refused and the first lab keeps working.
TEST_F(LabTest, UpTwiceIsRefusedAndLeavesTheFirstLabIntact) {
  const NetnsLab lab("twice");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"up", lab.name()},
        std::vector<std::string>{"up", lab.name(), "--two-relays"},
        std::vector<std::string>{"up", lab.name(), "--attack"}}) {
    const RunResult again = lab_sh(args);
    EXPECT_EQ(again.exit_code, 3);
    EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  }
  const RunResult status = lab_sh({"status", lab.name()});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("complete"), std::string::npos) << status.out;
  expect_request_reply(lab, "caller", "0.0.0.0", "callee", A::kCallee, A::kCaller,
                       kDefaultTtl - 1);
}

// (e) A failure at any step of `up` removes everything created so far and names the step, for
// both variants with extra roles (the attack variant also has the NAT router's nftables table).
TEST_F(LabTest, FailedUpAtEveryStepLeavesNothingBehind) {
  for (const std::string variant : {"--two-relays", "--attack"}) {
    for (const auto& step : kUpSteps) {
      SCOPED_TRACE(variant + " " + step);
      const std::string name = unique_lab_name("fail");
      const DownOnExit guard(name);
      const RunResult up = lab_sh({"up", name, variant}, {"MPX_LAB_FAIL_AT=" + step});
      EXPECT_NE(up.exit_code, 0);
      EXPECT_FALSE(up.timed_out);
      EXPECT_NE(up.err.find("failed at step '" + step + "'"), std::string::npos) << up.err;
      EXPECT_EQ(joined(leftovers_of(name)), "");
    }
  }
}

// A failing step must be a real one: an unknown MPX_LAB_FAIL_AT is rejected before anything
// is created (so a renamed step cannot make the test above pass vacuously).
TEST_F(LabTest, UnknownFailStepIsRejectedBeforeCreatingAnything) {
  const std::string name = unique_lab_name("badstep");
  const DownOnExit guard(name);
  const RunResult up = lab_sh({"up", name}, {"MPX_LAB_FAIL_AT=no-such-step"});
  EXPECT_NE(up.exit_code, 0);
  EXPECT_NE(up.err.find("is not a step"), std::string::npos) << up.err;
  EXPECT_EQ(joined(leftovers_of(name)), "");
}

// A real (not forced) failure in the middle of `up` also cleans up: a leftover namespace with
// the lab's name makes `up` refuse, and it must not delete that namespace (not its own).
TEST_F(LabTest, UpRefusesLeftoversItDidNotCreate) {
  const std::string name = unique_lab_name("leftover");
  const DownOnExit guard(name);
  const std::string stray = "mpx-" + name + "-attacker";
  ASSERT_EQ(run({"ip", "netns", "add", stray}).exit_code, 0);
  const RunResult up = lab_sh({"up", name, "--two-relays"});
  EXPECT_EQ(up.exit_code, 3);
  EXPECT_NE(up.err.find("left over"), std::string::npos) << up.err;
  EXPECT_EQ(joined(leftovers_of(name)), "namespace " + stray + "\n");
  const RunResult status = lab_sh({"status", name});
  EXPECT_EQ(status.exit_code, 2) << status.out;  // partial
  EXPECT_EQ(lab_sh({"down", name}).exit_code, 0);
  EXPECT_EQ(joined(leftovers_of(name)), "");
}

// `down` is idempotent and touches only its own lab, even when another lab's name extends it.
TEST_F(LabTest, DownIsIdempotentAndNeverTouchesALabWhoseNameExtendsIt) {
  const std::string name = unique_lab_name("pfx");
  const std::string longer = name + "-relay";  // its namespaces look like mpx-<name>-relay-*
  const DownOnExit guard_longer(longer);
  ASSERT_EQ(lab_sh({"up", longer}).exit_code, 0);

  EXPECT_EQ(lab_sh({"down", name}).exit_code, 0);
  EXPECT_EQ(lab_sh({"down", name}).exit_code, 0);
  const RunResult status = lab_sh({"status", longer});
  EXPECT_EQ(status.exit_code, 0) << status.out;

  const RunResult list = lab_sh({"list"});
  EXPECT_NE(list.out.find(longer + "\n"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(name + "\n"), std::string::npos) << list.out;

  EXPECT_EQ(lab_sh({"down", longer}).exit_code, 0);
  EXPECT_EQ(lab_sh({"down", longer}).exit_code, 0);
  EXPECT_EQ(joined(leftovers_of(longer)), "");
  EXPECT_EQ(lab_sh({"status", longer}).exit_code, 1);  // nothing exists
}

TEST_F(LabTest, InvalidNamesAreRejected) {
  const std::vector<std::string> bad_names{"Upper", "under_score", "-lead", "trail-", "a/b",
                                           "",      std::string(33, 'a')};
  for (const auto& bad : bad_names) {
    SCOPED_TRACE(bad);
    EXPECT_NE(lab_sh({"up", bad}).exit_code, 0);
    EXPECT_NE(lab_sh({"down", bad}).exit_code, 0);
    EXPECT_NE(lab_sh({"status", bad}).exit_code, 0);
  }
  EXPECT_EQ(lab_sh({"up", std::string(32, 'a'), "--bogus"}).exit_code, 1);  // unknown option
  // The variants exclude each other.
  EXPECT_EQ(lab_sh({"up", std::string(32, 'a'), "--two-relays", "--attack"}).exit_code, 1);
  const RunResult invalid = lab_sh({"up", "Upper"});
  EXPECT_NE(invalid.err.find("invalid lab name"), std::string::npos) << invalid.err;
}

// (f) The bpffs is one filesystem seen from the root namespace and from inside every
// `ip netns exec`: an entry made inside one is visible outside and in the others.
TEST_F(LabTest, BpffsIsVisibleInsideIpNetnsExec) {
  const NetnsLab lab("bpffs", NetnsLab::Variant::kTwoRelays);
  const std::string dir = lab.bpffs_dir().string();
  for (const auto& role : kAllRoles) {
    SCOPED_TRACE(role);
    const RunResult type = lab.exec(role, {"stat", "-f", "-c", "%T", dir});
    EXPECT_EQ(type.exit_code, 0) << type.err;
    EXPECT_EQ(type.out, "bpf_fs\n");
  }
  ASSERT_EQ(lab.exec("relay", {"mkdir", dir + "/probe"}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/probe"));
  EXPECT_EQ(lab.exec("caller", {"stat", "-c", "%F", dir + "/probe"}).out, "directory\n");

  std::ifstream mounts("/proc/self/mounts");
  std::string line;
  bool mounted = false;
  while (std::getline(mounts, line)) {
    mounted = mounted || line.rfind("bpf " + dir + " bpf ", 0) == 0;
  }
  EXPECT_TRUE(mounted) << "no bpffs at " << dir << " in /proc/self/mounts";
}

// in_ns() switches only the calling thread and always switches back, also when fn throws.
TEST_F(LabTest, InNsRestoresTheOriginalNamespaceEvenWhenFnThrows) {
  const NetnsLab lab("inns");
  const auto current_ns = [] {
    return std::filesystem::read_symlink("/proc/thread-self/ns/net").string();
  };
  const std::string before = current_ns();
  std::string inside;
  lab.in_ns("relay", [&] { inside = current_ns(); });
  EXPECT_NE(inside, before);
  EXPECT_EQ(current_ns(), before);
  EXPECT_THROW(lab.in_ns("callee", [] { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_EQ(current_ns(), before);
  EXPECT_THROW(lab.in_ns("no-such-role", [] {}), std::runtime_error);
  EXPECT_EQ(current_ns(), before);
}

}  // namespace
}  // namespace mpx::test
