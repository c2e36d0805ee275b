// Nothing left behind: after a remove, after a timeout and after SIGTERM the relay namespace
// holds no conntrack entry with the relay's mark and no UDP socket in the media range; SIGTERM
// with a live call makes the dispatcher account the call (with its statistics) before the relay
// exits 0 and its nftables table is gone. Runs per datapath.
#include <gtest/gtest.h>

#include <filesystem>

#include <thread>

#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using dispatcher::testing::DispatcherHarness;

using A = LabAddresses;

class RelayCleanupTest : public RelayLabTest {
 protected:
  // A call with media both ways (latched, handed off with conntrack).
  RelayPorts call_with_media(LabCall& call, CallEnds& ends) {
    RelayPorts ports;
    EXPECT_TRUE(establish(call, ends, ports));
    exchange(ends, ports, {60, 10});
    EXPECT_GE(ends.callee_rtp.wait_from(relay_side(ports.callee_side), 54, 3s), 54U);
    EXPECT_GE(ends.caller_rtp.wait_from(relay_side(ports.caller_side), 54, 3s), 54U);
    std::this_thread::sleep_for(300ms);
    return ports;
  }

  // Polls (bounded) until neither marked entries nor bound media ports are left.
  void expect_nothing_left(std::chrono::milliseconds timeout = 2s) {
    std::string left;
    const bool clean = DispatcherHarness::eventually(
        [&] {
          auto entries = marked_entries(env_->lab());
          auto ports = bound_udp_ports(env_->lab(), kFirstPort, kLastPort);
          if (!entries || !ports) {
            left = !entries ? entries.error().message : ports.error().message;
            return false;
          }
          left = describe(entries.value()) + "; bound ports:";
          for (const auto port : ports.value()) {
            left += " " + std::to_string(port);
          }
          return entries.value().empty() && ports.value().empty();
        },
        timeout);
    EXPECT_TRUE(clean) << left;
  }
};

// The relay namespace's XDP and TC attachments on the links to caller and callee, as iproute2
// shows them.
std::string ebpf_attachments(const NetnsLab& lab) {
  std::string shown;
  for (const std::string dev : {"caller0", "callee0"}) {
    shown += lab.exec("relay", {"ip", "-d", "link", "show", "dev", dev}).out;
    shown += lab.exec("relay", {"tc", "filter", "show", "dev", dev, "ingress"}).out;
  }
  return shown;
}

TEST_P(RelayCleanupTest, RemoveLeavesNothingBehind) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-cleanup-remove@10.1.0.10");
  call_with_media(*call, ends);
  if (GetParam() == "conntrack") {
    auto entries = marked_entries(env_->lab());
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    EXPECT_FALSE(entries.value().empty()) << "no hand-off happened: the check below is void";
  }
  ASSERT_TRUE(call->remove()) << call->last_reply();
  expect_nothing_left();
  EXPECT_TRUE(env_->relay().running());
}

TEST_P(RelayCleanupTest, TimeoutLeavesNothingBehind) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-cleanup-timeout@10.1.0.10");
  call_with_media(*call, ends);
  const auto stats = env_->wait_accounted(call->call_id(), 3s + 5s);
  ASSERT_TRUE(stats.has_value()) << "the call did not time out";
  expect_nothing_left();
  EXPECT_TRUE(env_->relay().running());
}

TEST_P(RelayCleanupTest, SigtermReportsTheLiveCallAndLeavesNothingBehind) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-cleanup-sigterm@10.1.0.10");
  const RelayPorts ports = call_with_media(*call, ends);
  if (GetParam() == "conntrack") {
    EXPECT_TRUE(nft_table_exists(env_->lab(), "ip", "mpx_relay"));
  }
  const bool ebpf = is_ebpf(GetParam());
  const auto pin_dir = env_->lab().bpffs_dir() / "relay";
  if (ebpf) {
    const auto attached = ebpf_attachments(env_->lab());
    const char* shown = GetParam() == "tc"    ? "mpx_tc"
                        : GetParam() == "xdp" ? "xdpgeneric"
                                              : "xdp ";  // native
    EXPECT_NE(attached.find(shown), std::string::npos)
        << attached;
    EXPECT_TRUE(std::filesystem::exists(pin_dir)) << pin_dir;
  }
  ASSERT_TRUE(env_->dispatcher().accounted().empty());

  EXPECT_EQ(env_->relay().stop(10s), 0) << "mpx-relay did not exit 0 within 10 s of SIGTERM";
  // The relay reported the call before it went away (the dispatcher may log the disconnect
  // right after; the record must already be there or arrive from the still-open link).
  const auto stats = env_->wait_accounted(call->call_id(), 2s);
  ASSERT_TRUE(stats.has_value()) << "the live call was not reported to the dispatcher";
  ASSERT_EQ(stats->streams.size(), 1U) << protocol::to_json(*stats);
  EXPECT_EQ(stats->streams[0].status, "closed");
  EXPECT_GT(stats->streams[0].caller_packets, 0U);
  EXPECT_GT(stats->streams[0].callee_packets, 0U);
  EXPECT_EQ(stats->streams[0].caller_local, relay_side(ports.caller_side));
  ASSERT_TRUE(stats->dispatcher.has_value());
  EXPECT_TRUE(stats->dispatcher->timed_out);  // the expired path
  EXPECT_TRUE(DispatcherHarness::eventually([&] { return env_->dispatcher().relay_count() == 0; },
                                            3s));

  expect_nothing_left(500ms);
  EXPECT_FALSE(nft_table_exists(env_->lab(), "ip", "mpx_relay"));
  if (ebpf) {
    const auto attached = ebpf_attachments(env_->lab());
    EXPECT_EQ(attached.find("xdp"), std::string::npos) << attached;
    EXPECT_EQ(attached.find("mpx_tc"), std::string::npos) << attached;
    EXPECT_TRUE(!std::filesystem::exists(pin_dir) || std::filesystem::is_empty(pin_dir))
        << pin_dir << " still holds pinned maps";
  }
}

// SIGHUP drains (spec 5.13): the live call keeps its media and is served, a new call is refused
// (the only relay is halting, so the dispatcher answers error), and once the last session is
// removed the relay exits 0 leaving nothing behind.
TEST_P(RelayCleanupTest, SighupDrainsThenExits) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-drain-1@10.1.0.10");
  const RelayPorts ports = call_with_media(*call, ends);
  env_->relay().hangup();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(env_->relay().running()) << "the relay left with a live call";

  auto refused = env_->new_call("relay-drain-2@10.1.0.10");
  EXPECT_FALSE(refused->offer(1, {A::kCaller, 7000})) << refused->last_reply();
  EXPECT_EQ(refused->last_reply(), "error");

  const std::string to_callee = relay_side(ports.callee_side);
  const std::size_t before = ends.callee_rtp.count_from(to_callee);
  exchange(ends, ports, {30, 0});
  EXPECT_EQ(ends.callee_rtp.wait_from(to_callee, before + 30, 3s), before + 30)
      << "a draining relay must keep the live call's media";

  ASSERT_TRUE(call->remove()) << call->last_reply();
  EXPECT_EQ(env_->relay().wait(5s), 0) << "the drained relay did not exit 0";
  expect_nothing_left();
}

// A crash (kill -9) of a relay whose flows are in the kernel does not cut the call: the kernel
// keeps forwarding without the process. This restarted relay has no state file of its
// predecessor (its own runtime directory), so it recovers nothing and removes what its
// predecessor left: afterwards the old call's media goes nowhere. Recovery with the state file:
// relay_restart_test.cpp.
class RelayCrashTest : public RelayCleanupTest {};

TEST_P(RelayCrashTest, KernelFlowsOutliveAKillAndTheRestartedRelayRemovesThem) {
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, {}));
  CallEnds ends(env_->lab());
  auto call = env_->new_call("relay-crash@10.1.0.10");
  const RelayPorts ports = call_with_media(*call, ends);
  const std::string to_callee = relay_side(ports.callee_side);

  EXPECT_EQ(env_->relay().kill_hard(), -9);
  ASSERT_TRUE(DispatcherHarness::eventually([&] { return env_->dispatcher().relay_count() == 0; },
                                            5s));
  // No relay process: the kernel alone forwards the call.
  const std::size_t before_crash = ends.callee_rtp.count_from(to_callee);
  exchange(ends, ports, {50, 0});
  EXPECT_EQ(ends.callee_rtp.wait_from(to_callee, before_crash + 50, 3s), before_crash + 50)
      << "media stopped with the relay process";

  RelaySettings settings;
  settings.datapath = GetParam();
  ASSERT_TRUE(env_->start_relay(settings)) << env_->relay().log();
  if (GetParam() == "conntrack") {
    expect_nothing_left();
  } else {
    EXPECT_TRUE(DispatcherHarness::eventually(
        [&] { return env_->relay().log().find("removed 2 flow(s) a previous relay left") !=
                     std::string::npos; },
        3s))
        << env_->relay().log();
  }
  const std::size_t after_restart = ends.callee_rtp.count_from(to_callee);
  exchange(ends, ports, {30, 0});
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(ends.callee_rtp.count_from(to_callee), after_restart)
      << "the old call's flows were not removed by the restarted relay";
}

INSTANTIATE_TEST_SUITE_P(KernelDatapaths, RelayCrashTest,
                         ::testing::Values("conntrack", "xdp", "xdp_native", "tc"),
                         datapath_name);

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayCleanupTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
