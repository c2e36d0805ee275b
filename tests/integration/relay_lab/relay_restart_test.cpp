// A relay restart does not cut calls (issue 5 point 4), per kernel datapath (conntrack, xdp
// generic and native, tc): after kill -9 the conntrack entries / pinned flows keep forwarding; the restarted relay reads its state file, re-adopts the flows of
// the sessions it recovers (the dispatcher keeps them after its `sessions` query), and a later
// `remove` reports statistics that include the traffic from before the crash; afterwards nothing
// is left. A state file naming a session whose flows are gone, and a corrupt state file, recover
// nothing and leave nothing installed or bound.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using dispatcher::testing::DispatcherHarness;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class RelayRestartTest : public RelayLabTest {
 protected:
  RelaySettings settings() const {
    RelaySettings s;
    s.datapath = GetParam();
    s.state_file = state_file_.string();
    s.stream_timeout = 30;  // the outage must not expire the call
    return s;
  }

  // A call with media both ways, handed off, and the state file naming it with its flow.
  RelayPorts call_with_media(LabCall& call, CallEnds& ends) {
    RelayPorts ports;
    EXPECT_TRUE(establish(call, ends, ports));
    exchange(ends, ports, {60, 10});
    EXPECT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 54, 3s), 54U);
    EXPECT_GE(ends.caller_rtp.wait_from(relay_side(ports.caller_side), 54, 3s), 54U);
    EXPECT_TRUE(DispatcherHarness::eventually(
        [&] {
          const auto text = read_text(state_file_);
          return text.find(call.call_id()) != std::string::npos &&
                 text.find("\"flow\":{") != std::string::npos;
        },
        3s))
        << "the state file does not name the handed-off call: " << read_text(state_file_);
    std::this_thread::sleep_for(300ms);  // the RTCP hand-off and its write
    return ports;
  }

  void crash() {
    EXPECT_EQ(env_->relay().kill_hard(), -9);
    ASSERT_TRUE(DispatcherHarness::eventually(
        [&] { return env_->dispatcher().relay_count() == 0; }, 5s));
  }

  ::testing::AssertionResult log_says(const std::string& text, std::chrono::milliseconds timeout) {
    if (DispatcherHarness::eventually(
            [&] { return env_->relay().log().find(text) != std::string::npos; }, timeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "the relay's log lacks \"" << text << "\"";
  }

  void expect_no_bound_ports(std::chrono::milliseconds timeout = 2s) {
    std::string left;
    const bool clean = DispatcherHarness::eventually(
        [&] {
          auto ports = bound_udp_ports(env_->lab(), kFirstPort, kLastPort);
          if (!ports) {
            left = ports.error().message;
            return false;
          }
          left.clear();
          for (const auto port : ports.value()) {
            left += " " + std::to_string(port);
          }
          return ports.value().empty();
        },
        timeout);
    EXPECT_TRUE(clean) << "bound ports:" << left;
  }

  // Media from both sides reaches nobody: no flow forwards it and no socket relays it.
  void expect_media_goes_nowhere(CallEnds& ends, const RelayPorts& ports) {
    const std::string to_callee = relay_side(ports.callee_side);
    const std::size_t before = ends.callee_rtp.count_from(to_callee);
    exchange(ends, ports, {30, 0});
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(ends.callee_rtp.count_from(to_callee), before) << "a flow is still installed";
  }

  TempDir state_dir_{"mpx-relay-state"};
  std::filesystem::path state_file_ = state_dir_.path() / "relay-state.json";
};

TEST_P(RelayRestartTest, KillNineKeepsTheCallAndTheRestartedRelayRecoversIt) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings()));
  CallEnds ends(env_->lab());
  const std::string call_id = "relay-restart@10.1.0.10";
  auto call = env_->new_call(call_id);
  const RelayPorts ports = call_with_media(*call, ends);
  const std::string to_callee = relay_side(ports.callee_side);
  const std::string to_caller = relay_side(ports.caller_side);

  ASSERT_NO_FATAL_FAILURE(crash());
  // The outage: the kernel alone forwards.
  const std::size_t before_outage = ends.callee_rtp.count_from(to_callee);
  exchange(ends, ports, {50, 0});
  EXPECT_EQ(ends.callee_rtp.wait_from(to_callee, before_outage + 50, 3s), before_outage + 50)
      << "media stopped with the relay process";

  ASSERT_TRUE(env_->start_relay(settings())) << env_->relay().log();
  EXPECT_TRUE(log_says("recovered session " + call_id, 3s)) << env_->relay().log();
  EXPECT_TRUE(log_says(
      "restart: 1 session(s) recovered, 0 dropped; 2 flow(s) re-adopted, 0 removed", 1s))
      << env_->relay().log();
  // The dispatcher asked the reconnected relay for its sessions and kept this one.
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] { return env_->dispatcher().management(false).find(call_id) != std::string::npos; },
      3s))
      << env_->dispatcher().management(false);
  EXPECT_TRUE(env_->dispatcher().pinned_relay(call_id).has_value());
  // The recovered session's ports are the relay's again.
  auto bound = bound_udp_ports(env_->lab(), kFirstPort, kLastPort);
  ASSERT_TRUE(bound.has_value()) << bound.error().message;
  for (const std::uint16_t port : {ports.caller_side, ports.callee_side}) {
    EXPECT_NE(std::find(bound.value().begin(), bound.value().end(), port), bound.value().end())
        << port << " is not bound by the restarted relay";
  }

  const std::size_t after_restart = ends.callee_rtp.count_from(to_callee);
  exchange(ends, ports, {40, 0});
  EXPECT_EQ(ends.callee_rtp.wait_from(to_callee, after_restart + 40, 3s), after_restart + 40);
  // 150 minus the first callee packet, sent before the caller had latched (no destination).
  EXPECT_GE(ends.caller_rtp.wait_from(to_caller, 149, 3s), 149U);
  std::this_thread::sleep_for(200ms);

  ASSERT_TRUE(call->remove()) << call->last_reply();
  const auto stats = env_->wait_accounted(call_id, 3s);
  ASSERT_TRUE(stats.has_value()) << "the removed call was not accounted";
  ASSERT_EQ(stats->streams.size(), 1U) << protocol::to_json(*stats);
  const auto& stream = stats->streams[0];
  EXPECT_EQ(stream.status, "closed");
  EXPECT_EQ(stream.caller_local, to_caller);
  EXPECT_EQ(stream.callee_local, to_callee);
  EXPECT_EQ(stream.caller_remote, endpoint(LabAddresses::kCaller, kCallerPort));
  EXPECT_EQ(stream.callee_remote, endpoint(LabAddresses::kCallee, kCalleePort));
  // Every packet each side sent, before the crash, during the outage and after the restart:
  // 60 + 50 + 40 RTP and 10 RTCP; bytes are whole IP datagrams.
  constexpr std::uint64_t kRtp = 60 + 50 + 40;
  constexpr std::uint64_t kRtcp = 10;
  constexpr std::uint64_t kBytes =
      kRtp * (kRtpPacket + kIpUdpHeaders) + kRtcp * (kRtcpPacket + kIpUdpHeaders);
  EXPECT_EQ(stream.caller_packets, kRtp + kRtcp) << protocol::to_json(*stats);
  EXPECT_EQ(stream.callee_packets, kRtp + kRtcp) << protocol::to_json(*stats);
  EXPECT_EQ(stream.caller_bytes, kBytes);
  EXPECT_EQ(stream.callee_bytes, kBytes);
  EXPECT_GE(stats->duration, 1);

  // Nothing left: no conntrack entry of ours, no forwarding, no bound port, the state file
  // without the call.
  auto entries = marked_entries(env_->lab());
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  EXPECT_TRUE(entries.value().empty()) << describe(entries.value());
  expect_no_bound_ports();
  expect_media_goes_nowhere(ends, ports);
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] { return read_text(state_file_).find(call_id) == std::string::npos; }, 2s));
  EXPECT_EQ(env_->relay().stop(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(state_file_)) << "a clean stop leaves no state to recover";
}

// The state file names a session whose flows are gone (a relay without that state file removed
// them in between): the session is dropped, its ports stay free, nothing is installed.
TEST_P(RelayRestartTest, ASessionWhoseFlowsAreGoneIsDropped) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings()));
  CallEnds ends(env_->lab());
  const std::string call_id = "relay-restart-gone@10.1.0.10";
  auto call = env_->new_call(call_id);
  const RelayPorts ports = call_with_media(*call, ends);
  ASSERT_NO_FATAL_FAILURE(crash());
  const std::string kept = read_text(state_file_);

  RelaySettings elsewhere = settings();
  elsewhere.state_file = (state_dir_.path() / "other-state.json").string();
  ASSERT_TRUE(env_->start_relay(elsewhere)) << env_->relay().log();
  EXPECT_TRUE(log_says("removed 2 flow(s) a previous relay left", 3s)) << env_->relay().log();
  EXPECT_EQ(env_->relay().stop(10s), 0);
  ASSERT_TRUE(DispatcherHarness::eventually(
      [&] { return env_->dispatcher().relay_count() == 0; }, 5s));
  ASSERT_EQ(read_text(state_file_), kept);

  ASSERT_TRUE(env_->start_relay(settings())) << env_->relay().log();
  EXPECT_TRUE(log_says("dropped session " + call_id, 3s)) << env_->relay().log();
  EXPECT_TRUE(log_says("flow gone", 1s)) << env_->relay().log();
  EXPECT_TRUE(log_says("restart: 0 session(s) recovered, 1 dropped", 1s)) << env_->relay().log();
  expect_no_bound_ports();
  expect_media_goes_nowhere(ends, ports);
  // The dispatcher forgot the call: the relay did not list it.
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] { return !env_->dispatcher().pinned_relay(call_id).has_value(); }, 3s));
  EXPECT_TRUE(DispatcherHarness::eventually(
      [&] { return read_text(state_file_).find(call_id) == std::string::npos; }, 2s));
}

// A truncated state file: one clear line, no session recovered, the previous relay's flows
// removed, and the relay serves new calls.
TEST_P(RelayRestartTest, ACorruptStateFileRecoversNothingAndRemovesTheLeftovers) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings()));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-restart-corrupt@10.1.0.10");
  const RelayPorts ports = call_with_media(*call, ends);
  ASSERT_NO_FATAL_FAILURE(crash());
  const std::string text = read_text(state_file_);
  std::ofstream(state_file_, std::ios::trunc) << text.substr(0, text.size() / 2);

  ASSERT_TRUE(env_->start_relay(settings())) << env_->relay().log();
  EXPECT_TRUE(log_says("state file unusable, no session recovered", 3s)) << env_->relay().log();
  EXPECT_TRUE(log_says("truncated or corrupt", 1s)) << env_->relay().log();
  EXPECT_TRUE(log_says("removed 2 flow(s) a previous relay left", 1s)) << env_->relay().log();
  expect_no_bound_ports();
  expect_media_goes_nowhere(ends, ports);

  auto next = env_->new_call("relay-restart-next@10.1.0.10");
  RelayPorts next_ports;
  EXPECT_TRUE(establish(*next, ends, next_ports));
  EXPECT_TRUE(next->remove()) << next->last_reply();
}

INSTANTIATE_TEST_SUITE_P(KernelDatapaths, RelayRestartTest,
                         ::testing::Values("conntrack", "xdp", "xdp_native", "tc"),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
