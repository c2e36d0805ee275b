// bpf_datapath_lab_tests: BpfDatapath with the real kernel in the network lab. The datapath is
// opened in the relay namespace (libbpf's netlink calls act in the calling thread's namespace)
// with its maps pinned under the lab's bpffs; UDP sockets in the caller and callee namespaces
// check what the program forwards, and a socket bound on the relay's port checks that the
// kernel path took the flow from it (and hands it back on remove). `ip`, `tc` and bpftool
// cross-check that nothing stays attached. Every wait is bounded.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "tests/support/inet.hpp"
#include "tests/support/netns_lab.hpp"
#include "tests/support/privileged.hpp"
#include "tests/support/subprocess.hpp"
#include "userspace/bpf/bpf_datapath.hpp"
#include "userspace/bpf/flow_entries.hpp"

namespace mpx::test {
namespace {

using namespace std::chrono_literals;
using datapath::BpfDatapath;
using datapath::Endpoint;
using datapath::Flow;
using A = LabAddresses;

constexpr std::uint16_t kCallerPort = 5000;
constexpr std::uint16_t kCalleePort = 6000;
constexpr std::uint16_t kRelayCallerPort = 40000;
constexpr std::uint16_t kRelayCalleePort = 40002;
constexpr std::size_t kPayload = 100;
constexpr std::uint64_t kIpUdpHeaders = 28;
constexpr int kCount = 50;
constexpr auto kReceiveDeadline = 3s;
constexpr auto kSilence = 400ms;

Endpoint ep(const char* ip, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address_v4(ip), port);
}

Flow lab_flow() {
  return Flow{ep(A::kCaller, kCallerPort), ep(A::kRelayPublic, kRelayCallerPort),
              ep(A::kRelayPublic, kRelayCalleePort), ep(A::kCallee, kCalleePort)};
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

// A UDP socket bound to ip:port inside the role's namespace.
UdpSocket bound_socket(const NetnsLab& lab, const std::string& role, const std::string& ip,
                       std::uint16_t port) {
  return UdpSocket(bound_udp_socket(lab, role, ip, port));
}

void send_datagrams(const UdpSocket& from, const char* to_ip, std::uint16_t to_port, int count) {
  const sockaddr_in to = ipv4_sockaddr(to_ip, to_port);
  for (int i = 0; i < count; ++i) {
    const std::string payload(kPayload, static_cast<char>('a' + i % 26));
    const ssize_t sent = sendto(from.fd(), payload.data(), payload.size(), 0,
                                reinterpret_cast<const sockaddr*>(&to), sizeof to);
    ASSERT_EQ(sent, static_cast<ssize_t>(payload.size())) << "sendto failed: errno " << errno;
  }
}

// Sources ("ip:port") of the datagrams received until `want` arrived or `deadline` passed.
std::vector<std::string> receive(const UdpSocket& sock, std::size_t want,
                                 std::chrono::milliseconds deadline) {
  std::vector<std::string> got;
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
      continue;
    }
    got.push_back(endpoint_of(from));
  }
  return got;
}

std::string text(const char* ip, std::uint16_t port) {
  return std::string(ip) + ":" + std::to_string(port);
}

void expect_all_from(const std::vector<std::string>& got, std::size_t count,
                     const std::string& source) {
  EXPECT_EQ(got.size(), count);
  EXPECT_EQ(static_cast<std::size_t>(std::count(got.begin(), got.end(), source)), got.size())
      << "first source: " << (got.empty() ? "" : got.front());
}

// ------------------------------------------------------------------------------- fixture

struct Mode {
  const char* name;
  BpfDatapath::Program program;
  BpfDatapath::XdpMode xdp_mode;
};

// So test listings show the mode's name instead of its bytes.
void PrintTo(const Mode& mode, std::ostream* out) { *out << mode.name; }

class BpfDatapathLabTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    for (const char* tool : {"ip", "tc", "bpftool", "ethtool", "sysctl"}) {
      MPX_REQUIRE(missing_tool(tool));
    }
    lab_ = std::make_unique<NetnsLab>("bpfdp");
    pin_dir_ = lab_->bpffs_dir() / "mpx";
    if (GetParam().program == BpfDatapath::Program::xdp &&
        GetParam().xdp_mode == BpfDatapath::XdpMode::native) {
      // Native XDP_REDIRECT into a veth delivers only if the peer has GRO on (spec).
      for (const char* role : {"caller", "callee"}) {
        const RunResult gro = lab_->exec(role, {"ethtool", "-K", "eth0", "gro", "on"});
        ASSERT_EQ(gro.exit_code, 0) << gro.err;
      }
    }
  }

  void TearDown() override {
    datapath_.reset();
    if (lab_) {
      expect_nothing_left();
    }
    lab_.reset();
  }

  BpfDatapath::Options options() const {
    BpfDatapath::Options o;
    o.program = GetParam().program;
    o.xdp_mode = GetParam().xdp_mode;
    o.interfaces = {"caller0", "callee0"};
    o.pin_dir = pin_dir_;
    o.max_flows = 1024;
    return o;
  }

  std::unique_ptr<BpfDatapath> open_in_relay() const {
    std::unique_ptr<BpfDatapath> opened;
    lab_->in_ns("relay", [&] {
      auto result = BpfDatapath::open(options());
      ASSERT_TRUE(result.has_value()) << result.error().message;
      opened = std::move(result.value());
    });
    return opened;
  }

  void expect_nothing_left() const {
    for (const char* dev : {"caller0", "callee0"}) {
      const RunResult link = lab_->exec("relay", {"ip", "-d", "link", "show", "dev", dev});
      EXPECT_EQ(link.exit_code, 0) << link.err;
      EXPECT_EQ(link.out.find("prog/xdp"), std::string::npos) << link.out;
      const RunResult filters =
          lab_->exec("relay", {"tc", "filter", "show", "dev", dev, "ingress"});
      EXPECT_EQ(filters.out.find("mpx_tc"), std::string::npos) << filters.out;
      EXPECT_EQ(filters.out, "") << filters.out;
      // The clsact qdisc mpx made (also a previous instance's, adopted) goes too.
      const RunResult qdiscs = lab_->exec("relay", {"tc", "qdisc", "show", "dev", dev});
      EXPECT_EQ(qdiscs.out.find("clsact"), std::string::npos) << qdiscs.out;
    }
    const RunResult net = lab_->exec("relay", {"bpftool", "net", "show"});
    EXPECT_EQ(net.exit_code, 0) << net.err;
    EXPECT_EQ(net.out.find("mpx_"), std::string::npos) << net.out;
    EXPECT_TRUE(!std::filesystem::exists(pin_dir_) || std::filesystem::is_empty(pin_dir_))
        << pin_dir_;
  }

  std::unique_ptr<NetnsLab> lab_;
  std::filesystem::path pin_dir_;
  std::unique_ptr<BpfDatapath> datapath_;
};

// The whole hand-off story on one flow: forwarded both ways with the relay's addresses, the
// relay's own socket sees nothing of it while a stranger's packets still reach that socket,
// counters and verdict counters count, and remove() hands the flow back to the socket.
TEST_P(BpfDatapathLabTest, ForwardsPastTheRelaySocketCountsAndHandsBackOnRemove) {
  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  const std::string mode = datapath_->attach_mode();
  EXPECT_EQ(mode.substr(mode.find(" on ")), " on caller0,callee0");
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "mpx_flows"));
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "mpx_stats"));
  const RunResult link = lab_->exec("relay", {"ip", "-d", "link", "show", "dev", "caller0"});
  if (GetParam().program == BpfDatapath::Program::xdp) {
    EXPECT_NE(link.out.find(GetParam().xdp_mode == BpfDatapath::XdpMode::native ? "xdp "
                                                                                 : "xdpgeneric"),
              std::string::npos)
        << link.out;
  } else {
    const RunResult filters =
        lab_->exec("relay", {"tc", "filter", "show", "dev", "callee0", "ingress"});
    EXPECT_NE(filters.out.find("mpx_tc"), std::string::npos) << filters.out;
  }

  const UdpSocket relay_caller_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCallerPort);
  const UdpSocket relay_callee_side =
      bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCalleePort);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket stranger =
      bound_socket(*lab_, "caller", A::kCaller, static_cast<std::uint16_t>(kCallerPort + 1));
  const Flow flow = lab_flow();
  const auto started = std::chrono::steady_clock::now();
  auto installed = datapath_->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;

  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, kCount);
  expect_all_from(receive(callee, kCount, kReceiveDeadline), kCount,
                  text(A::kRelayPublic, kRelayCalleePort));
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, kCount);
  expect_all_from(receive(caller, kCount, kReceiveDeadline), kCount,
                  text(A::kRelayPublic, kRelayCallerPort));
  EXPECT_TRUE(receive(relay_caller_side, 1, kSilence).empty());
  EXPECT_TRUE(receive(relay_callee_side, 1, 10ms).empty());

  // The source gate: another port of the caller's host is not the latched remote.
  send_datagrams(stranger, A::kRelayPublic, kRelayCallerPort, 3);
  expect_all_from(receive(relay_caller_side, 3, kReceiveDeadline), 3,
                  text(A::kCaller, kCallerPort + 1));
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());

  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  const auto n = static_cast<std::uint64_t>(kCount);
  EXPECT_EQ(counted.value().caller_packets, n);
  EXPECT_EQ(counted.value().caller_bytes, n * (kPayload + kIpUdpHeaders));
  EXPECT_EQ(counted.value().callee_packets, n);
  EXPECT_EQ(counted.value().callee_bytes, n * (kPayload + kIpUdpHeaders));
  EXPECT_GE(counted.value().last_activity, started);
  EXPECT_LE(counted.value().last_activity, std::chrono::steady_clock::now());

  const auto verdicts = datapath_->verdict_counters();
  EXPECT_EQ(verdicts.at("forwarded_redirect"), 2 * n);
  EXPECT_GE(verdicts.at("pass_no_flow"), 3U);

  auto removed = datapath_->remove(flow);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(removed.value().caller_packets, n);
  EXPECT_TRUE(datapath_->flows().empty());
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 5);
  expect_all_from(receive(relay_caller_side, 5, kReceiveDeadline), 5,
                  text(A::kCaller, kCallerPort));
  EXPECT_TRUE(receive(callee, 1, kSilence).empty());
  EXPECT_GE(datapath_->verdict_counters().at("pass_no_flow"), 8U);
}

// A restart that must not cut calls: keep_pinned + destroy leaves the program attached and the
// map pinned, media keeps flowing with no process at all, and the next open() adopts the flow,
// replaces the old program and goes on counting; its clean stop then leaves nothing.
TEST_P(BpfDatapathLabTest, KeptPinsSurviveTheProcessAndTheNextOpenAdoptsTheFlow) {
  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const Flow flow = lab_flow();
  ASSERT_TRUE(datapath_->install(flow).has_value());
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 5);
  ASSERT_EQ(receive(callee, 5, kReceiveDeadline).size(), 5U);

  datapath_->keep_pinned(true);
  datapath_.reset();  // as a kill -9 would leave it
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 7);
  expect_all_from(receive(callee, 7, kReceiveDeadline), 7,
                  text(A::kRelayPublic, kRelayCalleePort));

  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  EXPECT_EQ(datapath_->adopted(), std::vector<Flow>{flow});
  EXPECT_EQ(datapath_->replaced_attachments(), (std::vector<std::string>{"caller0", "callee0"}));
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 4);
  expect_all_from(receive(caller, 4, kReceiveDeadline), 4,
                  text(A::kRelayPublic, kRelayCallerPort));
  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 12U);
  EXPECT_EQ(counted.value().callee_packets, 4U);
  EXPECT_GE(datapath_->verdict_counters().at("forwarded_redirect"), 16U);
  // One program per interface: the old one was replaced, not stacked (bpftool lists each
  // attachment as "<dev>(<ifindex>) ... id <prog id>").
  const RunResult net = lab_->exec("relay", {"bpftool", "net", "show"});
  std::size_t count = 0;
  for (std::size_t at = net.out.find(" id "); at != std::string::npos;
       at = net.out.find(" id ", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2U) << net.out;
}

// Another program already where mpx would attach (XDP on the interface; TC at mpx's ingress
// handle and priority) is refused by name and left alone, and what open() attached before
// meeting it is detached again.
TEST_P(BpfDatapathLabTest, RefusesAnInterfaceWithAnotherProgramAndLeavesItAttached) {
  const bool xdp = GetParam().program == BpfDatapath::Program::xdp;
  int foreign_fd = -1;
  lab_->in_ns("relay", [&] {
    // r0 = XDP_PASS / TC_ACT_OK; exit
    const bpf_insn pass[] = {{0xb7, 0, 0, 0, xdp ? XDP_PASS : TC_ACT_OK}, {0x95, 0, 0, 0, 0}};
    foreign_fd = bpf_prog_load(xdp ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS, "foreign",
                               "GPL", pass, 2, nullptr);
    ASSERT_GE(foreign_fd, 0) << std::strerror(-foreign_fd);
    const auto callee0 = static_cast<int>(if_nametoindex("callee0"));
    int err = 0;
    if (xdp) {
      err = bpf_xdp_attach(callee0, foreign_fd, XDP_FLAGS_SKB_MODE, nullptr);
    } else {
      bpf_tc_hook hook{};
      hook.sz = sizeof hook;
      hook.ifindex = callee0;
      hook.attach_point = BPF_TC_INGRESS;
      ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
      bpf_tc_opts opts{};
      opts.sz = sizeof opts;
      opts.prog_fd = foreign_fd;
      opts.handle = 0x6d70;  // mpx's handle and priority (attachment.hpp)
      opts.priority = 1;
      err = bpf_tc_attach(&hook, &opts);
    }
    ASSERT_EQ(err, 0) << std::strerror(-err);
  });
  lab_->in_ns("relay", [&] {
    auto refused = BpfDatapath::open(options());
    ASSERT_FALSE(refused.has_value());
    const std::string expected = std::string("callee0 already has the ") +
                                 (xdp ? "XDP" : "TC") + " program 'foreign'";
    EXPECT_NE(refused.error().message.find(expected), std::string::npos)
        << refused.error().message;
  });
  const RunResult caller0 = lab_->exec("relay", {"ip", "-d", "link", "show", "dev", "caller0"});
  EXPECT_EQ(caller0.out.find("prog/xdp"), std::string::npos) << caller0.out;
  EXPECT_EQ(lab_->exec("relay", {"tc", "filter", "show", "dev", "caller0", "ingress"}).out, "");
  const RunResult net = lab_->exec("relay", {"bpftool", "net", "show", "dev", "callee0"});
  EXPECT_NE(net.out.find(xdp ? "generic id" : "foreign"), std::string::npos) << net.out;
  const RunResult removed =
      lab_->exec("relay", xdp ? std::vector<std::string>{"ip", "link", "set", "dev", "callee0",
                                                         "xdpgeneric", "off"}
                              : std::vector<std::string>{"tc", "qdisc", "del", "dev", "callee0",
                                                         "clsact"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  close(foreign_fd);
}

// The real thing: a child process opens the datapath, installs the flow and is killed with
// SIGKILL (no destructor runs). Its attachments and pinned maps outlive it, media keeps flowing
// with no relay process at all, and the next open() adopts the flow and replaces the orphaned
// programs.
TEST_P(BpfDatapathLabTest, AfterKill9MediaKeepsFlowingAndTheNextOpenAdoptsTheFlow) {
  const Flow flow = lab_flow();
  int ready[2] = {-1, -1};
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    int code = 0;
    try {
      lab_->in_ns("relay", [&] {
        auto opened = BpfDatapath::open(options());
        if (!opened.has_value()) {
          code = 2;
          return;
        }
        if (!opened.value()->install(flow).has_value()) {
          code = 3;
          return;
        }
        const char byte = 'r';
        if (write(ready[1], &byte, 1) != 1) {
          code = 4;
          return;
        }
        pause();  // until SIGKILL; the datapath is never destroyed
      });
    } catch (...) {
      code = 5;
    }
    _exit(code);
  }
  close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  const bool child_ready = poll(&pfd, 1, 10000) == 1 && pfd.revents == POLLIN;
  char byte = 0;
  const bool read_ok = child_ready && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(read_ok) << "the child did not get ready; exit status " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  const UdpSocket caller = bound_socket(*lab_, "caller", A::kCaller, kCallerPort);
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  const UdpSocket relay_socket = bound_socket(*lab_, "relay", A::kRelayPublic, kRelayCallerPort);
  send_datagrams(caller, A::kRelayPublic, kRelayCallerPort, 6);
  expect_all_from(receive(callee, 6, kReceiveDeadline), 6,
                  text(A::kRelayPublic, kRelayCalleePort));
  EXPECT_TRUE(receive(relay_socket, 1, 10ms).empty());

  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  EXPECT_EQ(datapath_->adopted(), std::vector<Flow>{flow});
  EXPECT_EQ(datapath_->replaced_attachments(), (std::vector<std::string>{"caller0", "callee0"}));
  send_datagrams(callee, A::kRelayPublic, kRelayCalleePort, 2);
  expect_all_from(receive(caller, 2, kReceiveDeadline), 2,
                  text(A::kRelayPublic, kRelayCallerPort));
  auto counted = datapath_->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 6U);
  EXPECT_EQ(counted.value().callee_packets, 2U);
  // TearDown: the clean stop of the adopting instance leaves nothing behind.
}

// The batch paths on the kernel's map: 600 flows (1200 entries) into a map of 1024 in one
// bpf_map_update_batch, which stops when the map is full; the flows it wrote are installed,
// the rest fall back one by one and are refused as "full". The first and last installed flows
// forward; remove_batch returns their counters and empties the map. A key someone else wrote
// into the pinned map is refused by install().
TEST_P(BpfDatapathLabTest, BatchInstallUntilTheMapIsFullAndBatchRemove) {
  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  constexpr std::size_t kFlows = 600;
  constexpr std::size_t kFit = 512;  // max_flows 1024 / 2 directions
  std::vector<Flow> flows;
  for (std::size_t i = 0; i < kFlows; ++i) {
    flows.push_back(Flow{ep(A::kCaller, static_cast<std::uint16_t>(10000 + i)),
                         ep(A::kRelayPublic, static_cast<std::uint16_t>(20000 + 4 * i)),
                         ep(A::kRelayPublic, static_cast<std::uint16_t>(20002 + 4 * i)),
                         ep(A::kCallee, kCalleePort)});
  }
  const auto installed = datapath_->install_batch(flows);
  ASSERT_EQ(installed.size(), kFlows);
  for (std::size_t i = 0; i < kFlows; ++i) {
    if (i < kFit) {
      ASSERT_TRUE(installed[i].has_value()) << i << ": " << installed[i].error().message;
    } else {
      ASSERT_FALSE(installed[i].has_value()) << i;
      EXPECT_NE(installed[i].error().message.find("full (max_flows 1024"), std::string::npos)
          << installed[i].error().message;
    }
  }
  EXPECT_EQ(datapath_->batch_fallbacks(), 1U);
  EXPECT_EQ(datapath_->flows().size(), kFit);

  const UdpSocket first = bound_socket(*lab_, "caller", A::kCaller, 10000);
  const UdpSocket last =
      bound_socket(*lab_, "caller", A::kCaller, static_cast<std::uint16_t>(10000 + kFit - 1));
  const UdpSocket callee = bound_socket(*lab_, "callee", A::kCallee, kCalleePort);
  send_datagrams(first, A::kRelayPublic, 20000, 4);
  expect_all_from(receive(callee, 4, kReceiveDeadline), 4, text(A::kRelayPublic, 20002));
  const auto last_port = static_cast<std::uint16_t>(20000 + 4 * (kFit - 1));
  send_datagrams(last, A::kRelayPublic, last_port, 3);
  expect_all_from(receive(callee, 3, kReceiveDeadline), 3,
                  text(A::kRelayPublic, static_cast<std::uint16_t>(last_port + 2)));

  const auto removed = datapath_->remove_batch(flows);
  ASSERT_EQ(removed.size(), kFlows);
  ASSERT_TRUE(removed[0].has_value()) << removed[0].error().message;
  EXPECT_EQ(removed[0].value().caller_packets, 4U);
  EXPECT_EQ(removed[0].value().caller_bytes, 4 * (kPayload + kIpUdpHeaders));
  ASSERT_TRUE(removed[kFit - 1].has_value());
  EXPECT_EQ(removed[kFit - 1].value().caller_packets, 3U);
  EXPECT_FALSE(removed[kFit].has_value());
  EXPECT_TRUE(datapath_->flows().empty());

  const int map_fd = bpf_obj_get((pin_dir_ / "mpx_flows").c_str());
  ASSERT_GE(map_fd, 0) << std::strerror(-map_fd);
  mpx_flow_key key{};
  EXPECT_EQ(bpf_map_get_next_key(map_fd, nullptr, &key), -ENOENT);  // empty
  const auto stranger = datapath::bpf::entries_of(flows[0]).callee;
  ASSERT_EQ(bpf_map_update_elem(map_fd, &stranger.key, &stranger.value, BPF_NOEXIST), 0);
  auto refused = datapath_->install(flows[0]);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("did not install"), std::string::npos)
      << refused.error().message;
  ASSERT_EQ(bpf_map_get_next_key(map_fd, nullptr, &key), 0);  // only the stranger's entry
  EXPECT_TRUE(datapath::bpf::same_key(key, stranger.key));
  EXPECT_EQ(bpf_map_get_next_key(map_fd, &key, &key), -ENOENT);
  close(map_fd);
}

// Misconfiguration is refused with the reason: a pin directory outside bpffs, a pinned flow map
// of another size (it may carry live calls: never replaced), IPv4 forwarding off on an
// interface, an interface that does not exist.
TEST_P(BpfDatapathLabTest, OpenRefusesBadPinDirectoriesMapsAndInterfaces) {
  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  datapath_->keep_pinned(true);
  datapath_.reset();
  lab_->in_ns("relay", [&] {
    auto resized = options();
    resized.max_flows = 2048;
    auto refused = BpfDatapath::open(resized);
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("has type 1, key 12 B, value 40 B, 1024 entries"),
              std::string::npos)
        << refused.error().message;
    auto elsewhere = options();
    elsewhere.pin_dir = std::filesystem::temp_directory_path() / ("mpx-not-bpffs-" + lab_->name());
    auto not_bpffs = BpfDatapath::open(elsewhere);
    std::filesystem::remove(elsewhere.pin_dir);
    ASSERT_FALSE(not_bpffs.has_value());
    EXPECT_NE(not_bpffs.error().message.find("is not on a bpffs"), std::string::npos)
        << not_bpffs.error().message;
    auto forwarding = lab_->exec("relay", {"sysctl", "-qw", "net.ipv4.conf.callee0.forwarding=0"});
    ASSERT_EQ(forwarding.exit_code, 0) << forwarding.err;
    auto not_forwarding = BpfDatapath::open(options());
    ASSERT_FALSE(not_forwarding.has_value());
    EXPECT_NE(not_forwarding.error().message.find("IPv4 forwarding is off on callee0"),
              std::string::npos)
        << not_forwarding.error().message;
    forwarding = lab_->exec("relay", {"sysctl", "-qw", "net.ipv4.conf.callee0.forwarding=1"});
    ASSERT_EQ(forwarding.exit_code, 0) << forwarding.err;
    auto missing = options();
    missing.interfaces = {"caller0", "nosuch0"};
    auto no_interface = BpfDatapath::open(missing);
    ASSERT_FALSE(no_interface.has_value());
    EXPECT_NE(no_interface.error().message.find("no interface nosuch0"), std::string::npos)
        << no_interface.error().message;
  });
  // The kept pins are still there (the refusals did not remove them); a matching open adopts
  // them and its clean stop (TearDown) removes everything.
  EXPECT_TRUE(std::filesystem::exists(pin_dir_ / "mpx_flows"));
  datapath_ = open_in_relay();
  ASSERT_NE(datapath_, nullptr);
  EXPECT_TRUE(datapath_->adopted().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Modes, BpfDatapathLabTest,
    ::testing::Values(Mode{"xdp_generic", BpfDatapath::Program::xdp, BpfDatapath::XdpMode::generic},
                      Mode{"xdp_native", BpfDatapath::Program::xdp, BpfDatapath::XdpMode::native},
                      Mode{"tc", BpfDatapath::Program::tc, BpfDatapath::XdpMode::native}),
    [](const ::testing::TestParamInfo<Mode>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace mpx::test
