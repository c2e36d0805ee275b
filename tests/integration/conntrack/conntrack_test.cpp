// conntrack_tests: the conntrack datapath with the real kernel inside the network lab. The relay
// namespace is prepared by NamespacePreparer and the datapath is opened there; UDP sockets in
// the caller, callee and attacker namespaces check what the kernel forwards, and the conntrack
// CLI and nft cross-check what is installed. Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/netns_lab.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"
#include "userspace/conntrack/conntrack_datapath.hpp"
#include "userspace/conntrack/conntrack_table.hpp"
#include "userspace/conntrack/namespace_preparer.hpp"

namespace mpx::test {
namespace {

using namespace std::chrono_literals;
using datapath::ConntrackDatapath;
using datapath::Endpoint;
using datapath::Flow;
using datapath::FlowCounters;
using datapath::NamespacePreparer;
using A = LabAddresses;

constexpr std::uint16_t kCallerPort = 5000;
constexpr std::uint16_t kCalleePort = 6000;
constexpr std::uint16_t kRelayCallerPort = 40000;
constexpr std::uint16_t kRelayCalleePort = 40002;
constexpr std::size_t kPayload = 100;
constexpr std::uint64_t kIpUdpHeaders = 28;
constexpr int kCount = 50;
constexpr auto kReceiveDeadline = 3s;
constexpr auto kSilence = 400ms;  // how long "nothing arrives" is watched
constexpr std::uint32_t kMark = 0x6d707831;

Endpoint ep(const char* ip, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address_v4(ip), port);
}

Flow lab_flow(std::uint16_t caller_port = kCallerPort, std::uint16_t callee_port = kCalleePort,
              std::uint16_t relay_caller_port = kRelayCallerPort,
              std::uint16_t relay_callee_port = kRelayCalleePort) {
  return Flow{ep(A::kCaller, caller_port), ep(A::kRelayPublic, relay_caller_port),
              ep(A::kRelayPublic, relay_callee_port), ep(A::kCallee, callee_port)};
}

// ------------------------------------------------------------------------------ UDP helpers

class UdpSocket {
 public:
  explicit UdpSocket(int fd) : fd_(fd) {}
  ~UdpSocket() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&&) = delete;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

sockaddr_in make_addr(const std::string& ip, std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    throw std::invalid_argument("not an IPv4 address: " + ip);
  }
  return addr;
}

// A UDP socket bound to ip:port inside the role's namespace.
UdpSocket bound_socket(const NetnsLab& lab, const std::string& role, const std::string& ip,
                       std::uint16_t port) {
  int fd = -1;
  lab.in_ns(role, [&] { fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (fd < 0) {
    throw std::runtime_error("socket() failed in " + role);
  }
  UdpSocket sock(fd);
  const sockaddr_in addr = make_addr(ip, port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("bind " + ip + ":" + std::to_string(port) + " failed in " + role);
  }
  return sock;
}

void send_datagrams(const UdpSocket& from, const char* to_ip, std::uint16_t to_port, int count,
                    char tag) {
  const sockaddr_in to = make_addr(to_ip, to_port);
  for (int i = 0; i < count; ++i) {
    std::string payload(kPayload, tag);
    const std::string seq = std::to_string(i);
    std::copy(seq.begin(), seq.end(), payload.begin());
    const ssize_t sent = sendto(from.fd(), payload.data(), payload.size(), 0,
                                reinterpret_cast<const sockaddr*>(&to), sizeof to);
    ASSERT_EQ(sent, static_cast<ssize_t>(payload.size())) << "sendto failed: errno " << errno;
  }
}

struct Received {
  std::string source;  // "ip:port"
  std::size_t size = 0;
};

// Receives until `want` datagrams arrived or `deadline` passed.
std::vector<Received> receive(const UdpSocket& sock, std::size_t want,
                              std::chrono::milliseconds deadline) {
  std::vector<Received> got;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (got.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd pfd{sock.fd(), POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      break;
    }
    char buf[2048];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = recvfrom(sock.fd(), buf, sizeof buf, MSG_DONTWAIT,
                               reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      continue;  // e.g. ECONNREFUSED from an ICMP error: not a datagram
    }
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    got.push_back({std::string(ip) + ":" + std::to_string(ntohs(from.sin_port)),
                   static_cast<std::size_t>(n)});
  }
  return got;
}

std::string endpoint_text(const char* ip, std::uint16_t port) {
  return std::string(ip) + ":" + std::to_string(port);
}

void expect_all_from(const std::vector<Received>& got, std::size_t count, const std::string& src) {
  ASSERT_EQ(got.size(), count);
  for (const auto& r : got) {
    EXPECT_EQ(r.source, src);
    EXPECT_EQ(r.size, kPayload);
  }
}

// ------------------------------------------------------------------------------- fixture

class ConntrackLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    for (const char* tool : {"ip", "bash", "ethtool", "conntrack", "nft", "sysctl"}) {
      MPX_REQUIRE(missing_tool(tool));
    }
  }

  void TearDown() override {
    datapath_.reset();
    preparer_.reset();
    if (lab_) {
      // Nothing of ours may outlive the datapath and the preparer.
      EXPECT_EQ(marked_entries(), "");
      const RunResult tables = lab_->exec("relay", {"nft", "list", "tables"});
      EXPECT_EQ(tables.exit_code, 0) << tables.err;
      EXPECT_EQ(tables.out.find("mpx_relay"), std::string::npos) << tables.out;
    }
    lab_.reset();
  }

  void start(NetnsLab::Variant variant = NetnsLab::Variant::kBasic,
             ConntrackDatapath::Options options = {},
             NamespacePreparer::Options preparation = {}) {
    lab_ = std::make_unique<NetnsLab>("ct", variant);
    lab_->in_ns("relay", [&] {
      auto prepared = NamespacePreparer::prepare(preparation);
      ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
      preparer_.emplace(std::move(prepared.value()));
      auto opened = ConntrackDatapath::open(options);
      ASSERT_TRUE(opened.has_value()) << opened.error().message;
      datapath_ = std::move(opened.value());
    });
  }

  // `conntrack -L` lines of entries with our mark in the relay namespace ("" when none).
  std::string marked_entries() const {
    const RunResult r =
        lab_->exec("relay", {"conntrack", "-L", "-p", "udp", "--mark", std::to_string(kMark)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::optional<datapath::conntrack::EntrySnapshot> kernel_entry(const Endpoint& src,
                                                                 const Endpoint& dst) const {
    std::optional<datapath::conntrack::EntrySnapshot> found;
    lab_->in_ns("relay", [&] {
      auto table = datapath::conntrack::ConntrackTable::open();
      ASSERT_TRUE(table.has_value()) << table.error().message;
      auto entry = table.value().get(src, dst);
      ASSERT_TRUE(entry.has_value()) << entry.error().message;
      found = entry.value();
    });
    return found;
  }

  // Caller -> callee and back through the relay's public ports; checks sources and counts.
  void expect_forwarded_both_ways(const UdpSocket& caller, const UdpSocket& callee, int count) {
    send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, count, 'c');
    expect_all_from(receive(callee, static_cast<std::size_t>(count), kReceiveDeadline),
                    static_cast<std::size_t>(count),
                    endpoint_text(A::kRelayPublic, kRelayCalleePort));
    send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, count, 'e');
    expect_all_from(receive(caller, static_cast<std::size_t>(count), kReceiveDeadline),
                    static_cast<std::size_t>(count),
                    endpoint_text(A::kRelayPublic, kRelayCallerPort));
  }

  std::unique_ptr<NetnsLab> lab_;
  std::optional<NamespacePreparer> preparer_;
  std::unique_ptr<ConntrackDatapath> datapath_;
};

// ---------------------------------------------------------------------------------- tests

// One NAT entry forwards both directions with the relay's addresses as sources, counts exactly
// what passed (IP length = payload + 28), and carries both NAT status bits and our mark.
TEST_F(ConntrackLabTest, InstalledFlowForwardsBothWaysAndCountsEveryPacket) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow flow = lab_flow();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  EXPECT_EQ(datapath_->flows(), std::vector<Flow>{flow});

  expect_forwarded_both_ways(caller, callee, kCount);

  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  const auto n = static_cast<std::uint64_t>(kCount);
  EXPECT_EQ(counted.value().caller_packets, n);
  EXPECT_EQ(counted.value().caller_bytes, n * (kPayload + kIpUdpHeaders));
  EXPECT_EQ(counted.value().callee_packets, n);
  EXPECT_EQ(counted.value().callee_bytes, n * (kPayload + kIpUdpHeaders));

  const auto entry = kernel_entry(flow.caller_remote, flow.caller_local);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->status & (IPS_SRC_NAT | IPS_DST_NAT), IPS_SRC_NAT | IPS_DST_NAT);
  EXPECT_EQ(entry->status & IPS_FIXED_TIMEOUT, 0U);
  EXPECT_EQ(entry->mark, kMark);
  EXPECT_EQ(entry->reply_src, flow.callee_remote);
  EXPECT_EQ(entry->reply_dst, flow.callee_local);
  EXPECT_NE(marked_entries().find("dport=40000"), std::string::npos) << marked_entries();
  // Default lease 60 s, bounded by the kernel's UDP timeout.
  const RunResult udp_timeout =
      lab_->exec("relay", {"sysctl", "-n", "net.netfilter.nf_conntrack_udp_timeout"});
  EXPECT_EQ(datapath_->max_poll_interval(),
            std::min(60s, std::chrono::seconds(std::stol(udp_timeout.out))));
}

// The source gate: other ports of the same hosts are not forwarded either way, while the flow
// keeps working.
TEST_F(ConntrackLabTest, PacketsFromOtherSourcePortsAreNotForwarded) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket stranger_at_caller =
      bound_socket(*lab_, "caller", A::kCaller, static_cast<std::uint16_t>(kCallerPort + 1));
  const UdpSocket stranger_at_callee =
      bound_socket(*lab_, "callee", A::kCallee, static_cast<std::uint16_t>(kCalleePort + 1));
  const Flow flow = lab_flow();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;

  send_datagrams(stranger_at_caller, A::kRelayPublic, kRelayCallerPort, 5, 's');
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());
  send_datagrams(stranger_at_callee, A::kRelayPublic, kRelayCalleePort, 5, 's');
  EXPECT_TRUE(receive(caller, 1, kSilence).empty());

  expect_forwarded_both_ways(caller, callee, 5);
  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 5U);
  EXPECT_EQ(counted.value().callee_packets, 5U);
}

// The attacker of the two-relay lab sprays both relay ports: nothing reaches the callee or the
// caller, and the flow is not disturbed.
TEST_F(ConntrackLabTest, AttackerSprayingTheRelayPortsReachesNobody) {
  start(NetnsLab::Variant::kTwoRelays);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket attacker = bound_socket(*lab_, "attacker", A::kAttacker, kCallerPort);
  const Flow flow = lab_flow();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;

  send_datagrams(attacker, A::kRelayPublic, kRelayCallerPort, 10, 'a');
  send_datagrams(attacker, A::kRelayPublic, kRelayCalleePort, 10, 'a');
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());
  EXPECT_TRUE(receive(caller, 1, kSilence).empty());
  expect_forwarded_both_ways(caller, callee, 5);
}

// Packets that reached the relay's ports before the install made plain entries (EEXIST on
// create): install deletes them, creates the NAT entry, and forwarding works.
TEST_F(ConntrackLabTest, InstallReplacesPlainEntriesMadeByEarlyPackets) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow flow = lab_flow();
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 3, 'p');
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 3, 'p');
  const auto plain = kernel_entry(flow.caller_remote, flow.caller_local);
  ASSERT_TRUE(plain.has_value()) << "the early packets made no plain entry: nothing to test";
  EXPECT_EQ(plain->status & (IPS_SRC_NAT | IPS_DST_NAT), 0U);
  ASSERT_TRUE(kernel_entry(flow.callee_remote, flow.callee_local).has_value());

  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  const auto entry = kernel_entry(flow.caller_remote, flow.caller_local);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->status & (IPS_SRC_NAT | IPS_DST_NAT), IPS_SRC_NAT | IPS_DST_NAT);
  expect_forwarded_both_ways(caller, callee, 10);
  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 10U);  // the early packets are not counted
}

// The hand-off race: the caller keeps sending while install() runs, so the plain entry may
// re-appear between the delete and the create; the bounded retries still install the NAT
// entry and, from then on, everything the caller sends reaches the callee.
TEST_F(ConntrackLabTest, InstallSucceedsWhileTheCallerKeepsSending) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  // Room for every datagram: the test reads them only after the sender stopped.
  const int rcvbuf = 8 * 1024 * 1024;
  ASSERT_EQ(setsockopt(callee.fd(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf), 0);
  const Flow flow = lab_flow();
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    const sockaddr_in to = make_addr(A::kRelayPublic, kRelayCallerPort);
    const std::string payload(kPayload, 'r');
    const auto until = std::chrono::steady_clock::now() + 5s;  // bound even if stop is lost
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      if (sendto(caller.fd(), payload.data(), payload.size(), 0,
                 reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0) {
        sent.fetch_add(1);
      }
      std::this_thread::sleep_for(500us);
    }
  });
  std::this_thread::sleep_for(100ms);
  const int sent_before = sent.load();
  auto installed = datapath_->install(flow);
  std::this_thread::sleep_for(200ms);
  stop.store(true);
  sender.join();
  ASSERT_GT(sent_before, 0);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  const auto got = receive(callee, static_cast<std::size_t>(sent.load()), 500ms);
  ASSERT_FALSE(got.empty());
  for (const auto& r : got) {
    EXPECT_EQ(r.source, endpoint_text(A::kRelayPublic, kRelayCalleePort));
  }
  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, got.size());
}

// The relay's hand-off as the relay does it: its own sockets are bound on both ports and see
// the first packets; once installed, the entry wins and the sockets see nothing while the
// callee gets everything; after remove() the flow is handed back to the sockets.
TEST_F(ConntrackLabTest, InstalledEntryTakesTheFlowFromTheRelaySocketsAndRemoveGivesItBack) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket relay_caller_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCallerPort);
  const UdpSocket relay_callee_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCalleePort);
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 3, 'u');
  expect_all_from(receive(relay_caller_side, 3, kReceiveDeadline), 3,
                  endpoint_text(A::kCaller, kCallerPort));
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 3, 'u');
  expect_all_from(receive(relay_callee_side, 3, kReceiveDeadline), 3,
                  endpoint_text(A::kCallee, kCalleePort));

  const Flow flow = lab_flow();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  expect_forwarded_both_ways(caller, callee, 10);
  EXPECT_TRUE(receive(relay_caller_side, 1, kSilence).empty());
  EXPECT_TRUE(receive(relay_callee_side, 1, kSilence).empty());

  ASSERT_TRUE(datapath_->remove(flow).has_value());
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 3, 'b');
  expect_all_from(receive(relay_caller_side, 3, kReceiveDeadline), 3,
                  endpoint_text(A::kCaller, kCallerPort));
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());
}

// The relay still forwards, from its own socket, packets that reached it before the hand-off.
// Sent after the NAT entry exists, such a packet's conntrack entry would clash with the NAT
// entry's reply tuple, and the NAT hook would give it another source port: the callee would
// get media from a port nobody signalled. The preparer's output rule keeps conntrack off the
// relay's own packets: they leave from the stream's port, and the NAT entry keeps working.
TEST_F(ConntrackLabTest, TheRelaysOwnPacketsKeepTheirSourcePortWhileTheNatEntryExists) {
  NamespacePreparer::Options preparation;
  preparation.own_ports = std::pair<std::uint16_t, std::uint16_t>{40000, 40099};
  start(NetnsLab::Variant::kBasic, {}, preparation);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket relay_callee_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCalleePort);
  // The callee spoke first, as it does before a hand-off (its plain entry is in the way).
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 2, 'u');
  ASSERT_EQ(receive(relay_callee_side, 2, kReceiveDeadline).size(), 2u);
  const Flow flow = lab_flow();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  // The relay's socket sends what it still holds, then the kernel forwards.
  send_datagrams(relay_callee_side, A::kCallee, kCalleePort, 5, 'q');
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 5, 'k');
  expect_all_from(receive(callee, 10, kReceiveDeadline), 10,
                  endpoint_text(A::kRelayPublic, kRelayCalleePort));
  expect_forwarded_both_ways(caller, callee, 5);
  const RunResult table = lab_->exec("relay", {"nft", "list", "table", "ip", "mpx_relay"});
  EXPECT_NE(table.out.find("udp sport 40000-40099"), std::string::npos) << table.out;
}

// Without that rule, the same sequence makes the kernel rewrite the relay's source port: the
// failure the rule exists for, shown on this kernel.
TEST_F(ConntrackLabTest, WithoutTheOutputRuleTheKernelRemapsTheRelaysSourcePort) {
  start();
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket relay_callee_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCalleePort);
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 2, 'u');
  ASSERT_EQ(receive(relay_callee_side, 2, kReceiveDeadline).size(), 2u);
  auto installed = datapath_->install(lab_flow());
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  send_datagrams(relay_callee_side, A::kCallee, kCalleePort, 5, 'q');
  const auto got = receive(callee, 5, kReceiveDeadline);
  ASSERT_EQ(got.size(), 5u);
  for (const auto& r : got) {
    EXPECT_NE(r.source, endpoint_text(A::kRelayPublic, kRelayCalleePort));
  }
}

// remove() returns the final counters, deletes the entry, and the kernel stops forwarding.
TEST_F(ConntrackLabTest, RemoveReturnsFinalCountersAndStopsForwarding) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow flow = lab_flow();
  ASSERT_TRUE(datapath_->install(flow).has_value());
  expect_forwarded_both_ways(caller, callee, 7);

  auto removed = datapath_->remove(flow);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(removed.value().caller_packets, 7U);
  EXPECT_EQ(removed.value().callee_packets, 7U);
  EXPECT_EQ(removed.value().callee_bytes, 7U * (kPayload + kIpUdpHeaders));
  EXPECT_NE(removed.value().last_activity, std::chrono::steady_clock::time_point{});
  EXPECT_TRUE(datapath_->flows().empty());
  EXPECT_EQ(marked_entries(), "");

  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 5, 'x');
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());

  auto again = datapath_->remove(flow);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("not installed"), std::string::npos);
  EXPECT_NE(again.error().message.find("10.1.0.10:5000 -> 203.0.113.1:40000"), std::string::npos)
      << again.error().message;
}

// Entries a crashed instance left (our mark) are deleted when a new datapath opens; entries
// with another mark are not touched.
TEST_F(ConntrackLabTest, OpenRemovesEntriesLeftByACrashedInstanceOnly) {
  start();
  datapath_.reset();  // the instance under test is opened again below
  lab_->in_ns("relay", [&] {
    auto table = datapath::conntrack::ConntrackTable::open();
    ASSERT_TRUE(table.has_value()) << table.error().message;
    for (std::uint16_t i = 0; i < 3; ++i) {
      const Flow f = lab_flow(static_cast<std::uint16_t>(kCallerPort + i), kCalleePort,
                              static_cast<std::uint16_t>(kRelayCallerPort + 4 * i),
                              static_cast<std::uint16_t>(kRelayCalleePort + 4 * i));
      const std::uint32_t mark = i == 2 ? kMark + 1 : kMark;  // the third is someone else's
      auto made = table.value().create_nat(
          {f.caller_remote, f.caller_local, f.callee_remote, f.callee_local, mark, 300, true});
      ASSERT_TRUE(made.has_value()) << made.error().message;
      ASSERT_EQ(made.value(), datapath::conntrack::CreateOutcome::kCreated);
    }
  });
  ASSERT_NE(marked_entries(), "");

  lab_->in_ns("relay", [&] {
    auto opened = ConntrackDatapath::open();
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    datapath_ = std::move(opened.value());
  });
  EXPECT_EQ(marked_entries(), "");
  const RunResult foreign =
      lab_->exec("relay", {"conntrack", "-L", "-p", "udp", "--mark", std::to_string(kMark + 1)});
  EXPECT_NE(foreign.out.find("dport=40008"), std::string::npos) << foreign.out << foreign.err;
  lab_->exec("relay", {"conntrack", "-D", "--mark", std::to_string(kMark + 1)});
}

// The destructor deletes every entry of ours, as a relay's exit must.
TEST_F(ConntrackLabTest, DestroyingTheDatapathDeletesItsEntries) {
  start();
  ASSERT_TRUE(datapath_->install(lab_flow()).has_value());
  ASSERT_TRUE(datapath_->install(lab_flow(kCallerPort, kCalleePort, 40004, 40006)).has_value());
  EXPECT_NE(marked_entries(), "");
  datapath_.reset();
  EXPECT_EQ(marked_entries(), "");
}

// Preparation: sysctls on (acct was off before), the table with its ct-state rule exists and a
// stale table of the same name is replaced; the table is removed on destruction (checked in
// TearDown) even from another thread's namespace.
TEST_F(ConntrackLabTest, PreparerSetsSysctlsAndOwnsItsTable) {
  lab_ = std::make_unique<NetnsLab>("ctprep");
  ASSERT_EQ(lab_->exec("relay", {"sysctl", "-qw", "net.netfilter.nf_conntrack_acct=0"}).exit_code,
            0);
  ASSERT_EQ(lab_->exec("relay", {"sysctl", "-qw", "net.ipv4.ip_forward=0"}).exit_code, 0);
  const RunResult stale =
      lab_->exec("relay", {"nft", "add table ip mpx_relay; add chain ip mpx_relay stale_chain"});
  ASSERT_EQ(stale.exit_code, 0) << stale.err;

  lab_->in_ns("relay", [&] {
    auto prepared = NamespacePreparer::prepare();
    ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
    preparer_.emplace(std::move(prepared.value()));
  });
  EXPECT_EQ(lab_->exec("relay", {"sysctl", "-n", "net.netfilter.nf_conntrack_acct"}).out, "1\n");
  EXPECT_EQ(lab_->exec("relay", {"sysctl", "-n", "net.ipv4.ip_forward"}).out, "1\n");
  const RunResult table = lab_->exec("relay", {"nft", "list", "table", "ip", "mpx_relay"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("type nat hook postrouting"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ct state new counter"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("stale_chain"), std::string::npos) << table.out;
  // The root namespace is untouched.
  EXPECT_EQ(run({"nft", "list", "table", "ip", "mpx_relay"}).exit_code, 1);

  auto removed = preparer_->remove();
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_NE(lab_->exec("relay", {"nft", "list", "table", "ip", "mpx_relay"}).exit_code, 0);
  EXPECT_TRUE(preparer_->remove().has_value());  // idempotent
}

// Opening the datapath in an unprepared namespace is refused with the reason, instead of
// creating entries that would never be counted.
TEST_F(ConntrackLabTest, OpenRefusesAnUnpreparedNamespace) {
  lab_ = std::make_unique<NetnsLab>("ctunprep");
  ASSERT_EQ(lab_->exec("relay", {"sysctl", "-qw", "net.netfilter.nf_conntrack_acct=0"}).exit_code,
            0);
  lab_->in_ns("relay", [&] {
    auto opened = ConntrackDatapath::open();
    ASSERT_FALSE(opened.has_value());
    EXPECT_NE(opened.error().message.find("nf_conntrack_acct is 0"), std::string::npos)
        << opened.error().message;
  });
}

TEST_F(ConntrackLabTest, PreparerRejectsABadTableName) {
  auto prepared = NamespacePreparer::prepare({"bad name; flush ruleset", std::nullopt});
  ASSERT_FALSE(prepared.has_value());
  EXPECT_NE(prepared.error().message.find("invalid nftables table name"), std::string::npos);
}

// Entries are not fixed-timeout: counters() re-arms the lease, so a polled flow survives
// silence; an unpolled one expires after the lease (a dead relay's idle entries do not live
// on); remove() of an expired flow still returns its last counters.
TEST_F(ConntrackLabTest, LeaseIsRenewedByCountersAndLapsesWithoutPolling) {
  ConntrackDatapath::Options options;
  options.lease = 2s;
  start(NetnsLab::Variant::kBasic, options);
  EXPECT_EQ(datapath_->max_poll_interval(), 2s);
  // Packets set an entry's timeout to the kernel's UDP timeout; made shorter than the lease here,
  // so the read below must re-arm the lease (counters() leaves a timeout longer than
  // max_poll_interval + 10 s alone).
  ASSERT_EQ(lab_->exec("relay", {"sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=1"})
                .exit_code,
            0);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow polled = lab_flow();
  const Flow neglected = lab_flow(kCallerPort, kCalleePort, 40004, 40006);
  ASSERT_TRUE(datapath_->install(polled).has_value());
  ASSERT_TRUE(datapath_->install(neglected).has_value());
  send_datagrams(caller, A::kRelayPublic, 40004, 3, 'n');
  ASSERT_EQ(receive(callee, 3, kReceiveDeadline).size(), 3U);
  // The packets set the timeout to the kernel's UDP timeout (1 s); this read re-arms the lease.
  ASSERT_TRUE(datapath_->counters(neglected).has_value());
  EXPECT_EQ(datapath_->lease_renewals(), 1U);
  const auto entry = kernel_entry(neglected.caller_remote, neglected.caller_local);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->status & IPS_FIXED_TIMEOUT, 0U);
  EXPECT_GE(entry->timeout, 1U);
  EXPECT_LE(entry->timeout, 2U);

  const auto until = std::chrono::steady_clock::now() + 3500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto polled_counters = datapath_->counters(polled);
    ASSERT_TRUE(polled_counters.has_value()) << polled_counters.error().message;
    std::this_thread::sleep_for(400ms);
  }
  auto lapsed = datapath_->counters(neglected);
  ASSERT_FALSE(lapsed.has_value());
  EXPECT_NE(lapsed.error().message.find("gone"), std::string::npos) << lapsed.error().message;
  EXPECT_NE(lapsed.error().message.find("203.0.113.1:40004"), std::string::npos);
  send_datagrams(caller, A::kRelayPublic, 40004, 2, 'n');
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());

  auto last = datapath_->remove(neglected);
  ASSERT_TRUE(last.has_value()) << last.error().message;
  EXPECT_EQ(last.value().caller_packets, 3U);
  EXPECT_EQ(datapath_->flows(), std::vector<Flow>{polled});
  expect_forwarded_both_ways(caller, callee, 3);
}

// With many flows installed, counters() reads them from one shared dump of the mark (here from
// the first flow on): the figures stay exact, a flow installed after the dump is read on its own,
// an entry deleted behind the relay's back is reported gone once the dump has aged, and an entry
// that two-way media keeps at the kernel's stream timeout gets no lease update.
TEST_F(ConntrackLabTest, BulkReadsServeCountersFromOneDump) {
  ConntrackDatapath::Options options;
  options.bulk_read_from = 1;
  start(NetnsLab::Variant::kBasic, options);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow both_ways = lab_flow();
  ASSERT_TRUE(datapath_->install(both_ways).has_value());
  expect_forwarded_both_ways(caller, callee, 3);
  auto first = datapath_->counters(both_ways);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first.value().caller_packets, 3U);
  EXPECT_EQ(first.value().callee_packets, 3U);
  EXPECT_EQ(first.value().caller_bytes, 3U * (kPayload + 28U));
  EXPECT_EQ(datapath_->bulk_reads(), 1U);
  EXPECT_EQ(datapath_->lease_renewals(), 0U);

  const Flow one_way = lab_flow(kCallerPort, kCalleePort, 40004, 40006);
  ASSERT_TRUE(datapath_->install(one_way).has_value());
  send_datagrams(caller, A::kRelayPublic, 40004, 2, 'o');
  ASSERT_EQ(receive(callee, 2, kReceiveDeadline).size(), 2U);
  auto second = datapath_->counters(one_way);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second.value().caller_packets, 2U);
  EXPECT_EQ(second.value().callee_packets, 0U);
  // One-way media leaves the kernel's short UDP timeout: the lease is re-armed.
  EXPECT_EQ(datapath_->lease_renewals(), 1U);
  const auto renewed = kernel_entry(one_way.caller_remote, one_way.caller_local);
  ASSERT_TRUE(renewed.has_value());
  EXPECT_GT(renewed->timeout, 40U);

  lab_->in_ns("relay", [&] {
    auto table = datapath::conntrack::ConntrackTable::open();
    ASSERT_TRUE(table.has_value()) << table.error().message;
    ASSERT_TRUE(table.value().destroy(both_ways.caller_remote, both_ways.caller_local).has_value());
  });
  std::this_thread::sleep_for(600ms);
  auto gone = datapath_->counters(both_ways);
  ASSERT_FALSE(gone.has_value());
  EXPECT_NE(gone.error().message.find("gone"), std::string::npos) << gone.error().message;
  EXPECT_EQ(datapath_->bulk_reads(), 2U);
  auto still = datapath_->counters(one_way);
  ASSERT_TRUE(still.has_value()) << still.error().message;
  EXPECT_EQ(still.value().caller_packets, 2U);

  auto last = datapath_->remove(both_ways);
  ASSERT_TRUE(last.has_value()) << last.error().message;
  EXPECT_EQ(last.value().callee_packets, 3U);
  EXPECT_TRUE(datapath_->remove(one_way).has_value());
}

// The batch paths: 1000 flows (several 64 KiB netlink batches, so the overflow hand-over in
// libmnl is exercised) installed and verified in one go, bad and duplicate flows rejected at
// their index, a flow with a plain entry in the way (EEXIST) still installed; the first and the
// last flow forward; remove_batch returns the counters and leaves nothing behind.
TEST_F(ConntrackLabTest, BatchInstallAndRemoveOfAThousandFlows) {
  start();
  constexpr std::size_t kFlows = 1000;
  std::vector<Flow> flows;
  for (std::size_t i = 0; i < kFlows; ++i) {
    flows.push_back(lab_flow(static_cast<std::uint16_t>(10000 + i), kCalleePort,
                             static_cast<std::uint16_t>(20000 + 4 * i),
                             static_cast<std::uint16_t>(20002 + 4 * i)));
  }
  const UdpSocket first_caller = bound_socket(*lab_, "caller", A::kCaller, 10000);
  const UdpSocket last_caller =
      bound_socket(*lab_, "caller", A::kCaller, static_cast<std::uint16_t>(10000 + kFlows - 1));
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  // A plain entry in the way of flow 500.
  const UdpSocket early = bound_socket(*lab_, "caller", A::kCaller, 10500);
  send_datagrams(early, A::kRelayPublic, 22000, 2, 'p');
  ASSERT_TRUE(kernel_entry(flows[500].caller_remote, flows[500].caller_local).has_value());

  std::vector<Flow> request = flows;
  Flow v6 = flows[0];
  v6.caller_remote = Endpoint(boost::asio::ip::make_address("2001:db8::1"), 10000);
  request.push_back(v6);
  request.push_back(flows[7]);  // a duplicate within the batch
  const auto installed = datapath_->install_batch(request);
  ASSERT_EQ(installed.size(), kFlows + 2);
  for (std::size_t i = 0; i < kFlows; ++i) {
    ASSERT_TRUE(installed[i].has_value()) << i << ": " << installed[i].error().message;
  }
  ASSERT_FALSE(installed[kFlows].has_value());
  EXPECT_NE(installed[kFlows].error().message.find("IPv4"), std::string::npos);
  ASSERT_FALSE(installed[kFlows + 1].has_value());
  EXPECT_NE(installed[kFlows + 1].error().message.find("installed"), std::string::npos);
  EXPECT_EQ(datapath_->flows().size(), kFlows);
  EXPECT_EQ(datapath_->batch_fallbacks(), 0U);  // the batches themselves worked

  const RunResult listed =
      lab_->exec("relay", {"conntrack", "-L", "-p", "udp", "--mark", std::to_string(kMark)});
  EXPECT_EQ(static_cast<std::size_t>(std::count(listed.out.begin(), listed.out.end(), '\n')),
            kFlows);
  const auto nat = kernel_entry(flows[500].caller_remote, flows[500].caller_local);
  ASSERT_TRUE(nat.has_value());
  EXPECT_EQ(nat->status & (IPS_SRC_NAT | IPS_DST_NAT), IPS_SRC_NAT | IPS_DST_NAT);

  send_datagrams(first_caller, A::kRelayPublic, 20000, 4, 'f');
  expect_all_from(receive(callee, 4, kReceiveDeadline), 4, endpoint_text(A::kRelayPublic, 20002));
  const auto last_in = static_cast<std::uint16_t>(20000 + 4 * (kFlows - 1));
  send_datagrams(last_caller, A::kRelayPublic, last_in, 3, 'l');
  expect_all_from(receive(callee, 3, kReceiveDeadline), 3,
                  endpoint_text(A::kRelayPublic, static_cast<std::uint16_t>(last_in + 2)));

  std::vector<Flow> doomed = flows;
  doomed.push_back(v6);  // never installed
  const auto removed = datapath_->remove_batch(doomed);
  ASSERT_EQ(removed.size(), kFlows + 1);
  for (std::size_t i = 0; i < kFlows; ++i) {
    ASSERT_TRUE(removed[i].has_value()) << i << ": " << removed[i].error().message;
  }
  EXPECT_EQ(removed[0].value().caller_packets, 4U);
  EXPECT_EQ(removed[0].value().caller_bytes, 4U * (kPayload + kIpUdpHeaders));
  EXPECT_EQ(removed[kFlows - 1].value().caller_packets, 3U);
  EXPECT_EQ(removed[1].value().caller_packets, 0U);
  EXPECT_FALSE(removed[kFlows].has_value());
  EXPECT_EQ(datapath_->batch_fallbacks(), 0U);
  EXPECT_TRUE(datapath_->flows().empty());
  EXPECT_EQ(marked_entries(), "");
}

// last_activity: the epoch before any packet, the time of the read that first saw the
// counters move, unchanged by reads that see no change.
TEST_F(ConntrackLabTest, LastActivityFollowsCounterChangesBetweenReads) {
  start();
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow flow = lab_flow();
  ASSERT_TRUE(datapath_->install(flow).has_value());
  auto idle = datapath_->counters(flow);
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(idle.value().last_activity, std::chrono::steady_clock::time_point{});

  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 2, 'e');
  ASSERT_EQ(receive(caller, 2, kReceiveDeadline).size(), 2U);
  const auto before = std::chrono::steady_clock::now();
  auto active = datapath_->counters(flow);
  const auto after = std::chrono::steady_clock::now();
  ASSERT_TRUE(active.has_value());
  EXPECT_GE(active.value().last_activity, before);
  EXPECT_LE(active.value().last_activity, after);
  EXPECT_EQ(active.value().callee_packets, 2U);
  EXPECT_EQ(active.value().caller_packets, 0U);

  std::this_thread::sleep_for(50ms);
  auto quiet = datapath_->counters(flow);
  ASSERT_TRUE(quiet.has_value());
  EXPECT_EQ(quiet.value().last_activity, active.value().last_activity);
}

// Bad requests are errors naming the flow; nothing is left in the kernel.
TEST_F(ConntrackLabTest, InvalidRequestsAreErrorsThatNameTheFlow) {
  start();
  const Flow flow = lab_flow();
  auto unknown = datapath_->counters(flow);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("not installed"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("10.2.0.20:6000"), std::string::npos)
      << unknown.error().message;

  Flow v6 = flow;
  v6.callee_remote = Endpoint(boost::asio::ip::make_address("2001:db8::1"), 6000);
  auto not_v4 = datapath_->install(v6);
  ASSERT_FALSE(not_v4.has_value());
  EXPECT_NE(not_v4.error().message.find("IPv4"), std::string::npos) << not_v4.error().message;

  Flow same_port = flow;
  same_port.callee_local = same_port.caller_local;
  EXPECT_FALSE(datapath_->install(same_port).has_value());

  ASSERT_TRUE(datapath_->install(flow).has_value());
  auto twice = datapath_->install(flow);
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message.find("installed"), std::string::npos);
  // Another caller port towards the same callee side would share the reply tuple.
  auto clash = datapath_->install(lab_flow(static_cast<std::uint16_t>(kCallerPort + 1)));
  ASSERT_FALSE(clash.has_value());
  EXPECT_NE(clash.error().message.find("callee side"), std::string::npos) << clash.error().message;
  EXPECT_EQ(datapath_->flows(), std::vector<Flow>{flow});

  // Removing the flow frees its callee side for another caller port.
  const Flow moved = lab_flow(static_cast<std::uint16_t>(kCallerPort + 1));
  ASSERT_TRUE(datapath_->remove(flow).has_value());
  ASSERT_TRUE(datapath_->install(moved).has_value());
  ASSERT_TRUE(datapath_->remove(moved).has_value());
  // Within one batch the first flow to a callee side is installed, the second refused.
  const std::vector<Flow> batch{flow, moved};
  const auto results = datapath_->install_batch(batch);
  ASSERT_EQ(results.size(), 2U);
  EXPECT_TRUE(results[0].has_value());
  ASSERT_FALSE(results[1].has_value());
  EXPECT_NE(results[1].error().message.find("callee side"), std::string::npos)
      << results[1].error().message;
  EXPECT_EQ(datapath_->flows(), std::vector<Flow>{flow});
  EXPECT_TRUE(datapath_->remove(flow).has_value());

  auto bad_options = ConntrackDatapath::open({kMark, 0s, 5});
  ASSERT_FALSE(bad_options.has_value());
  EXPECT_NE(bad_options.error().message.find("lease"), std::string::npos);
}

}  // namespace
}  // namespace mpx::test
