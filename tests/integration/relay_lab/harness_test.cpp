// The relay lab's harness checked on its own, without mpx-relay: the dispatcher listens in the
// proxy namespace and answers the module; RTP peers count by source, SSRC and marker; the nft
// INPUT counters see locally delivered packets but not the ones conntrack NAT forwards; the
// conntrack probe sees the NAT status bits and counters; `ss` parsing; `ip netns exec` keeps the
// PID; the generated config.ini is accepted by the configuration parser.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <thread>

#include "common/config/config.hpp"
#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "tests/integration/relay_lab/nft_counters.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"
#include "tests/support/privileged.hpp"
#include "userspace/conntrack/conntrack_datapath.hpp"
#include "userspace/conntrack/namespace_preparer.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

class HarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MPX_REQUIRE(missing_root());
    for (const char* tool : {"ip", "bash", "ethtool", "nft", "ss", "sysctl"}) {
      MPX_REQUIRE(missing_tool(tool));
    }
  }
};

// A TCP connect from `role` to ip:port; true when it was accepted.
bool tcp_connects(const NetnsLab& lab, const std::string& role, const char* ip,
                  std::uint16_t port) {
  int fd = -1;
  lab.in_ns(role, [&] { fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, ip, &addr.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST_F(HarnessTest, DispatcherServesRelaysInTheProxyNamespaceAndTheModuleEverywhere) {
  RelayLab env("rlh");
  EXPECT_TRUE(tcp_connects(env.lab(), "relay", A::kProxy, kDispatcherPort));
  EXPECT_TRUE(tcp_connects(env.lab(), "proxy", A::kProxy, kDispatcherPort));
  EXPECT_EQ(env.dispatcher().relay_count(), 0U);
  // The module's path works; with no relay the update fails.
  auto call = env.new_call("harness-call@10.1.0.10");
  ASSERT_TRUE(call->connected());
  EXPECT_EQ(call->offer(1, {A::kCaller, kCallerPort}), std::nullopt);
  EXPECT_EQ(call->last_reply(), "error");
}

TEST(HarnessText, UpdateRequestsAreWhatOpenSipsSends) {
  LabCall call("/nonexistent/socket", "c1@x");
  EXPECT_EQ(call.update_text(true, 1, {A::kCaller, 5000}),
            "update\r\ntype: request\r\ndialog_id: 5063766441986\r\ncall_id: c1@x\r\ncseq: 1\r\n"
            "from_uri: alice@example.com\r\nto_uri: bob@example.net\r\nfrom_tag: a73kszlfl\r\n"
            "to_tag: \r\nuser_agent: Blink 5.1\r\nsignaling_ip: 10.1.0.10\r\nmedia_relay: \r\n"
            "media: audio:10.1.0.10:5000:sendrecv:ice=no\r\n\r\n");
  EXPECT_NE(call.update_text(false, 2, {A::kCallee, 6000, "recvonly"})
                .find("type: reply\r\ndialog_id: 5063766441986\r\ncall_id: c1@x\r\ncseq: 2\r\n"),
            std::string::npos);
  EXPECT_NE(call.update_text(false, 2, {A::kCallee, 6000, "recvonly"})
                .find("to_tag: 8d7f2a\r\nuser_agent: Asterisk PBX\r\nsignaling_ip: 10.2.0.20\r\n"
                      "media_relay: \r\nmedia: audio:10.2.0.20:6000:recvonly:ice=no\r\n\r\n"),
            std::string::npos);
  EXPECT_EQ(relay_port_of("203.0.113.1 40002"), 40002);
  EXPECT_EQ(relay_port_of("error"), std::nullopt);
  EXPECT_EQ(relay_port_of("203.0.113.1 40002 40006"), std::nullopt);
  EXPECT_EQ(relay_port_of("203.0.113.2 40002"), std::nullopt);
  EXPECT_EQ(relay_port_of("203.0.113.1 "), std::nullopt);
}

TEST(HarnessText, SsOutputParsing) {
  const std::string ss =
      "UNCONN 0      0      203.0.113.1:40000      0.0.0.0:*\n"
      "UNCONN 0      0      203.0.113.1:40001      0.0.0.0:*\n"
      "UNCONN 0      0          0.0.0.0:5353       0.0.0.0:*\n"
      "ESTAB  0      0      203.0.113.1:40102  10.1.0.10:5000\n"
      "UNCONN 0      0      203.0.113.1:39999      0.0.0.0:*\n"
      "garbage\n";
  EXPECT_EQ(parse_ss_ports(ss, kFirstPort, kLastPort), (std::vector<std::uint16_t>{40000, 40001}));
}

TEST(HarnessText, GeneratedRelayConfigIsAccepted) {
  RelaySettings settings;
  settings.datapath = "userspace";
  settings.port_range = "40000:40004";
  auto parsed = config::try_parse_config(relay_config_ini(settings), "config.ini", "/tmp");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const auto& relay = parsed.value().relay;
  EXPECT_EQ(config::to_string(relay.datapath), "userspace");
  EXPECT_EQ(relay.port_range.start, 40000U);
  EXPECT_EQ(relay.port_range.end, 40004U);
  EXPECT_EQ(relay.stream_timeout, std::chrono::seconds(3));
  EXPECT_EQ(relay.on_hold_timeout, std::chrono::seconds(5));
  EXPECT_EQ(relay.latching_window, std::chrono::milliseconds(500));
  ASSERT_EQ(relay.dispatchers.size(), 1U);
  EXPECT_EQ(relay.dispatchers[0].host, A::kProxy);
  EXPECT_EQ(relay.dispatchers[0].port, kDispatcherPort);
  EXPECT_TRUE(std::filesystem::exists(parsed.value().certs_dir() / "relay.crt"));
}

// Plain routing through the relay namespace (no NAT): the callee sees the caller's own address;
// the peers tell RTP from RTCP and count by source, SSRC and payload fill.
TEST_F(HarnessTest, RtpPeersCountWhatArrivesBySourceSsrcAndMarker) {
  NetnsLab lab("rlhpeer");
  RtpPeer caller(lab, "caller", A::kCaller, kCallerPort);
  RtpPeer callee(lab, "callee", A::kCallee, kCalleePort);
  EXPECT_EQ(caller.send_rtp(A::kCallee, kCalleePort, 30, {0x1234, 0x77, 1ms}), 30);
  EXPECT_EQ(caller.send_rtcp(A::kCallee, kCalleePort, 5, {0x1234, 0, 1ms}), 5);
  EXPECT_EQ(callee.wait_from(endpoint(A::kCaller, kCallerPort), 35, 3s), 35U);
  EXPECT_EQ(callee.count_ssrc(0x1234), 35U);
  EXPECT_EQ(callee.count_fill(0x77), 30U);
  EXPECT_EQ(callee.count_if([](const ReceivedPacket& p) { return p.rtcp; }), 5U);
  EXPECT_EQ(callee.count_if([](const ReceivedPacket& p) { return p.size == kRtpPacket; }), 30U);
  EXPECT_EQ(caller.total(), 0U);
  callee.clear();
  EXPECT_EQ(callee.total(), 0U);
}

// What the relay tests rely on, produced here by hand with the project's conntrack datapath in
// the relay namespace: before the hand-off the relay's sockets get the packets (INPUT counts
// them); after it, NAT forwards them (INPUT stops counting while the callee keeps receiving), the
// entry carries both NAT bits and counters; the attacker reaches only the relay; ss sees the
// sockets; destroying the datapath and the preparer leaves no entry and no table.
TEST_F(HarnessTest, InputCountersStopAtTheConntrackHandOffAndTheProbesSeeIt) {
  NetnsLab lab("rlhct", NetnsLab::Variant::kTwoRelays);
  InputCounters input(lab, {{"caller", A::kCaller}, {"callee", A::kCallee},
                            {"attacker", A::kAttacker}},
                      kFirstPort, kLastPort);
  std::optional<datapath::NamespacePreparer> preparer;
  std::unique_ptr<datapath::ConntrackDatapath> datapath;
  lab.in_ns("relay", [&] {
    auto prepared = datapath::NamespacePreparer::prepare();
    ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
    preparer.emplace(std::move(prepared.value()));
    auto opened = datapath::ConntrackDatapath::open();
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    datapath = std::move(opened.value());
  });
  ASSERT_TRUE(datapath);
  EXPECT_TRUE(nft_table_exists(lab, "ip", "mpx_relay"));
  RtpPeer relay_caller_side(lab, "relay", A::kRelayPublic, 40000);
  RtpPeer relay_callee_side(lab, "relay", A::kRelayPublic, 40002);
  RtpPeer caller(lab, "caller", A::kCaller, kCallerPort);
  RtpPeer callee(lab, "callee", A::kCallee, kCalleePort);
  RtpPeer attacker(lab, "attacker", A::kAttacker, 7000);
  auto ports = bound_udp_ports(lab, kFirstPort, kLastPort);
  ASSERT_TRUE(ports.has_value()) << ports.error().message;
  EXPECT_EQ(ports.value(), (std::vector<std::uint16_t>{40000, 40002}));

  caller.send_rtp(A::kRelayPublic, 40000, 5, {kCallerSsrc, kCallerFill, 1ms});
  callee.send_rtp(A::kRelayPublic, 40002, 4, {kCalleeSsrc, kCalleeFill, 1ms});
  attacker.send_rtp(A::kRelayPublic, 40000, 3, {0xbad, 0xaa, 1ms});
  EXPECT_FALSE(attacker.send_raw(A::kCallee, kCalleePort, {0x80, 8}));  // ENETUNREACH
  EXPECT_EQ(relay_caller_side.wait_from(endpoint(A::kCaller, kCallerPort), 5, 3s), 5U);
  EXPECT_EQ(relay_callee_side.wait_from(endpoint(A::kCallee, kCalleePort), 4, 3s), 4U);
  EXPECT_EQ(relay_caller_side.wait_from(endpoint(A::kAttacker, 7000), 3, 3s), 3U);
  EXPECT_EQ(input.packets("caller"), 5U);
  EXPECT_EQ(input.packets("callee"), 4U);
  EXPECT_EQ(input.packets("attacker"), 3U);

  const datapath::Flow flow{{boost::asio::ip::make_address_v4(A::kCaller), kCallerPort},
                            {boost::asio::ip::make_address_v4(A::kRelayPublic), 40000},
                            {boost::asio::ip::make_address_v4(A::kRelayPublic), 40002},
                            {boost::asio::ip::make_address_v4(A::kCallee), kCalleePort}};
  auto installed = datapath->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  caller.send_rtp(A::kRelayPublic, 40000, 20, {kCallerSsrc, kCallerFill, 1ms});
  callee.send_rtp(A::kRelayPublic, 40002, 10, {kCalleeSsrc, kCalleeFill, 1ms});
  EXPECT_EQ(callee.wait_from(relay_side(40002), 20, 3s), 20U);
  EXPECT_EQ(caller.wait_from(relay_side(40000), 10, 3s), 10U);
  EXPECT_EQ(input.packets("caller"), 5U);  // forwarded, not delivered
  EXPECT_EQ(input.packets("callee"), 4U);

  auto entries = marked_entries(lab);
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  ASSERT_EQ(entries.value().size(), 1U) << describe(entries.value());
  EXPECT_TRUE(is_nat(entries.value()[0])) << describe(entries.value());
  EXPECT_EQ(entries.value()[0].orig_packets, 20U);
  EXPECT_EQ(entries.value()[0].reply_packets, 10U);
  EXPECT_EQ(entries.value()[0].orig_bytes, 20U * (kRtpPacket + kIpUdpHeaders));

  datapath.reset();
  entries = marked_entries(lab);
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  EXPECT_TRUE(entries.value().empty()) << describe(entries.value());
  ASSERT_TRUE(preparer->remove().has_value());
  EXPECT_FALSE(nft_table_exists(lab, "ip", "mpx_relay"));
}

// `ip netns exec` runs the program in place: the Child's PID is the program's, so SIGTERM to it
// reaches the relay itself.
TEST_F(HarnessTest, NetnsExecKeepsThePidOfTheProgram) {
  NetnsLab lab("rlhpid");
  mpx::test::TempDir dir("mpx-relay-lab-pid");
  Child child({"ip", "netns", "exec", lab.ns("relay"), "sleep", "30"},
              (dir.path() / "log").string());
  std::string comm;
  ASSERT_TRUE(dispatcher::testing::DispatcherHarness::eventually([&] {
    std::ifstream in("/proc/" + std::to_string(child.pid()) + "/comm");
    std::getline(in, comm);
    return comm == "sleep";
  })) << comm;
  EXPECT_EQ(child.stop(5s), -15);
}

}  // namespace
}  // namespace mpx::test::relay_lab
