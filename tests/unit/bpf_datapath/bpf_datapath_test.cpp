// BpfDatapath in testing mode: the facade's logic over in-memory maps, with the test playing the
// BPF program (MemoryFlowMaps::forward). No root, no kernel call.
#include "userspace/bpf/bpf_datapath.hpp"

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "bpf/mpx_shared.h"
#include "userspace/bpf/memory_flow_maps.hpp"

namespace mpx::datapath {
namespace {

using bpf::entries_of;
using bpf::MemoryFlowMaps;

Endpoint ep(const char* ip, std::uint16_t port) {
  return Endpoint(boost::asio::ip::make_address(ip), port);
}

Flow flow_n(std::uint16_t n) {
  return Flow{ep("10.1.0.10", static_cast<std::uint16_t>(5000 + n)),
              ep("203.0.113.1", static_cast<std::uint16_t>(40000 + 4 * n)),
              ep("203.0.113.1", static_cast<std::uint16_t>(40002 + 4 * n)),
              ep("10.2.0.20", static_cast<std::uint16_t>(6000 + n))};
}

BpfDatapath::Options testing_options() {
  BpfDatapath::Options options;
  options.program = BpfDatapath::Program::xdp;
  options.xdp_mode = BpfDatapath::XdpMode::generic;
  options.interfaces = {"caller0", "callee0"};
  options.testing = true;
  options.max_flows = 64;
  return options;
}

std::unique_ptr<BpfDatapath> open_ok(const BpfDatapath::Options& options) {
  auto opened = BpfDatapath::open(options);
  EXPECT_TRUE(opened.has_value()) << opened.error().message;
  return opened.has_value() ? std::move(opened.value()) : nullptr;
}

TEST(BpfDatapathTesting, NamesAndAttachModeDescribeTheConfiguration) {
  auto datapath = open_ok(testing_options());
  ASSERT_NE(datapath, nullptr);
  EXPECT_EQ(datapath->name(), "xdp");
  EXPECT_EQ(datapath->attach_mode(), "xdp generic on caller0,callee0 (testing)");
  ASSERT_NE(datapath->testing_maps(), nullptr);
  auto options = testing_options();
  options.program = BpfDatapath::Program::tc;
  options.interfaces = {"eth0"};
  auto tc = open_ok(options);
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->name(), "tc");
  EXPECT_EQ(tc->attach_mode(), "tc ingress on eth0 (testing)");
  options.program = BpfDatapath::Program::xdp;
  options.xdp_mode = BpfDatapath::XdpMode::native;
  auto native = open_ok(options);
  ASSERT_NE(native, nullptr);
  EXPECT_EQ(native->attach_mode(), "xdp native on eth0 (testing)");
}

TEST(BpfDatapathTesting, InstallWritesBothDirectionsAndRemoveDeletesThem) {
  auto datapath = open_ok(testing_options());
  ASSERT_NE(datapath, nullptr);
  MemoryFlowMaps& maps = *datapath->testing_maps();
  const Flow flow = flow_n(0);
  auto installed = datapath->install(flow);
  ASSERT_TRUE(installed.has_value()) << installed.error().message;
  EXPECT_EQ(maps.size(), 2U);
  EXPECT_EQ(datapath->flows(), std::vector<Flow>{flow});
  mpx_flow_value value{};
  ASSERT_EQ(maps.lookup(entries_of(flow).callee.key, value), 0);
  EXPECT_EQ(value.new_dst_port, htons(5000));

  auto removed = datapath->remove(flow);
  ASSERT_TRUE(removed.has_value()) << removed.error().message;
  EXPECT_EQ(maps.size(), 0U);
  EXPECT_TRUE(datapath->flows().empty());
  auto again = datapath->remove(flow);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("not installed"), std::string::npos);
  EXPECT_NE(again.error().message.find("10.1.0.10:5000 -> 203.0.113.1:40000"), std::string::npos)
      << again.error().message;
}

TEST(BpfDatapathTesting, CountersReportWhatTheProgramForwardedPerDirection) {
  auto datapath = open_ok(testing_options());
  ASSERT_NE(datapath, nullptr);
  MemoryFlowMaps& maps = *datapath->testing_maps();
  const Flow flow = flow_n(1);
  ASSERT_TRUE(datapath->install(flow).has_value());
  auto idle = datapath->counters(flow);
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(idle.value().caller_packets, 0U);
  EXPECT_EQ(idle.value().last_activity, std::chrono::steady_clock::time_point{});

  const auto now_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
  ASSERT_TRUE(maps.forward(entries_of(flow).caller.key, 10, 128, now_ns - 1000,
                           MPX_STAT_FORWARDED_REDIRECT));
  ASSERT_TRUE(maps.forward(entries_of(flow).callee.key, 4, 100, now_ns, MPX_STAT_FORWARDED_TX));
  auto counted = datapath->counters(flow);
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 10U);
  EXPECT_EQ(counted.value().caller_bytes, 1280U);
  EXPECT_EQ(counted.value().callee_packets, 4U);
  EXPECT_EQ(counted.value().callee_bytes, 400U);
  EXPECT_EQ(counted.value().last_activity.time_since_epoch(), std::chrono::nanoseconds(now_ns));

  const auto verdicts = datapath->verdict_counters();
  EXPECT_EQ(verdicts.size(), static_cast<std::size_t>(MPX_STAT_MAX));
  EXPECT_EQ(verdicts.at("forwarded_redirect"), 10U);
  EXPECT_EQ(verdicts.at("forwarded_tx"), 4U);
  EXPECT_EQ(verdicts.at("pass_no_flow"), 0U);

  auto removed = datapath->remove(flow);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed.value().caller_packets, 10U);
  EXPECT_EQ(removed.value().callee_bytes, 400U);
  // After removal the "program" finds no entry: the packet would go to the relay's socket.
  EXPECT_FALSE(maps.forward(entries_of(flow).caller.key, 1, 128, now_ns, MPX_STAT_FORWARDED_TX));
  EXPECT_EQ(datapath->verdict_counters().at("pass_no_flow"), 1U);
}

TEST(BpfDatapathTesting, ConflictingAndInvalidFlowsAreRefusedAndNothingIsWritten) {
  auto datapath = open_ok(testing_options());
  ASSERT_NE(datapath, nullptr);
  const Flow flow = flow_n(0);
  ASSERT_TRUE(datapath->install(flow).has_value());
  auto twice = datapath->install(flow);
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message.find("already installed"), std::string::npos);

  // Another flow whose callee direction is this flow's caller direction.
  const Flow clash{ep("10.2.0.99", 7000), ep("203.0.113.1", 40100), ep("203.0.113.1", 40000),
                   ep("10.1.0.10", 5000)};
  auto clashed = datapath->install(clash);
  ASSERT_FALSE(clashed.has_value());
  EXPECT_NE(clashed.error().message.find("already belong to an installed flow"), std::string::npos)
      << clashed.error().message;

  Flow v6 = flow_n(3);
  v6.caller_remote = ep("2001:db8::1", 5000);
  auto not_v4 = datapath->install(v6);
  ASSERT_FALSE(not_v4.has_value());
  EXPECT_NE(not_v4.error().message.find("IPv4"), std::string::npos);
  EXPECT_EQ(datapath->testing_maps()->size(), 2U);

  auto unknown = datapath->counters(flow_n(9));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("not installed"), std::string::npos);
  // The same key but another rewrite is not the installed flow.
  Flow other_callee = flow;
  other_callee.callee_remote = ep("10.2.0.21", 6000);
  EXPECT_FALSE(datapath->counters(other_callee).has_value());
}

TEST(BpfDatapathTesting, AFullMapOrAFailedWriteLeavesNeitherDirection) {
  auto options = testing_options();
  options.max_flows = 3;  // room for one flow and half of the next
  auto datapath = open_ok(options);
  ASSERT_NE(datapath, nullptr);
  MemoryFlowMaps& maps = *datapath->testing_maps();
  ASSERT_TRUE(datapath->install(flow_n(0)).has_value());
  auto full = datapath->install(flow_n(1));
  ASSERT_FALSE(full.has_value());
  EXPECT_NE(full.error().message.find("full (max_flows 3"), std::string::npos)
      << full.error().message;
  EXPECT_EQ(maps.size(), 2U);
  EXPECT_EQ(datapath->flows().size(), 1U);

  ASSERT_TRUE(datapath->remove(flow_n(0)).has_value());
  maps.fail_writes(ENOMEM, 1);
  EXPECT_FALSE(datapath->install(flow_n(2)).has_value());
  EXPECT_EQ(maps.size(), 0U);
  ASSERT_TRUE(datapath->install(flow_n(2)).has_value());

  // A delete failing (not ENOENT) keeps the flow, so remove() can be retried.
  maps.fail_writes(EPERM, 1);
  auto failed = datapath->remove(flow_n(2));
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().message.find("delete failed"), std::string::npos);
  EXPECT_EQ(datapath->flows().size(), 1U);
  ASSERT_TRUE(datapath->remove(flow_n(2)).has_value());
  EXPECT_EQ(maps.size(), 0U);
}

TEST(BpfDatapathTesting, InstallBatchReportsPerFlowAndFallsBackWhenTheBatchStops) {
  auto options = testing_options();
  options.max_flows = 11;  // five flows and one lone entry
  auto datapath = open_ok(options);
  ASSERT_NE(datapath, nullptr);
  std::vector<Flow> request;
  for (std::uint16_t n = 0; n < 6; ++n) {
    request.push_back(flow_n(n));
  }
  request.insert(request.begin() + 2, flow_n(1));  // a duplicate inside the batch
  Flow v6 = flow_n(7);
  v6.callee_local = ep("2001:db8::2", 40030);
  request.push_back(v6);

  const auto results = datapath->install_batch(request);
  ASSERT_EQ(results.size(), request.size());
  EXPECT_TRUE(results[0].has_value());
  EXPECT_TRUE(results[1].has_value());
  ASSERT_FALSE(results[2].has_value());
  EXPECT_NE(results[2].error().message.find("of this batch"), std::string::npos)
      << results[2].error().message;
  for (std::size_t i = 3; i <= 5; ++i) {
    EXPECT_TRUE(results[i].has_value()) << i << ": " << results[i].error().message;
  }
  ASSERT_FALSE(results[6].has_value());  // flow_n(5): the map is full after five flows
  EXPECT_NE(results[6].error().message.find("full"), std::string::npos);
  ASSERT_FALSE(results[7].has_value());
  EXPECT_NE(results[7].error().message.find("IPv4"), std::string::npos);
  EXPECT_EQ(datapath->flows().size(), 5U);
  EXPECT_EQ(datapath->testing_maps()->size(), 10U);  // the half-written sixth flow was undone
  EXPECT_EQ(datapath->batch_fallbacks(), 1U);
}

TEST(BpfDatapathTesting, InstallBatchWhoseSyscallFailsGoesOneByOne) {
  auto datapath = open_ok(testing_options());
  ASSERT_NE(datapath, nullptr);
  datapath->testing_maps()->fail_next_batch(EINVAL);
  const std::vector<Flow> request{flow_n(0), flow_n(1), flow_n(2)};
  const auto results = datapath->install_batch(request);
  for (const auto& result : results) {
    EXPECT_TRUE(result.has_value()) << result.error().message;
  }
  EXPECT_EQ(datapath->batch_fallbacks(), 1U);
  EXPECT_EQ(datapath->testing_maps()->size(), 6U);

  const std::vector<Flow> doomed{flow_n(2), flow_n(8), flow_n(0)};
  const auto removed = datapath->remove_batch(doomed);
  ASSERT_EQ(removed.size(), 3U);
  EXPECT_TRUE(removed[0].has_value());
  EXPECT_FALSE(removed[1].has_value());
  EXPECT_TRUE(removed[2].has_value());
  EXPECT_EQ(datapath->flows(), std::vector<Flow>{flow_n(1)});
}

TEST(BpfDatapathTesting, KeptPinnedMapsAreAdoptedByTheNextOpenAndCleanStopRemovesThem) {
  auto options = testing_options();
  options.pin_dir = "/sys/fs/bpf/mpx-unit-adopt";
  auto first = open_ok(options);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->install(flow_n(0)).has_value());
  ASSERT_TRUE(first->install(flow_n(1)).has_value());
  MemoryFlowMaps* maps = first->testing_maps();
  ASSERT_TRUE(maps->forward(entries_of(flow_n(1)).caller.key, 5, 100, 1'000'000, 
                            MPX_STAT_FORWARDED_REDIRECT));
  // A crash between the two halves of an install leaves one direction behind.
  const auto half = entries_of(flow_n(5)).caller;
  ASSERT_EQ(maps->update(half.key, half.value, BPF_NOEXIST), 0);
  first->keep_pinned(true);
  first.reset();
  EXPECT_TRUE(MemoryFlowMaps::is_pinned(options.pin_dir));

  auto second = open_ok(options);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->adopted(), (std::vector<Flow>{flow_n(0), flow_n(1)}));
  EXPECT_EQ(second->flows(), second->adopted());
  EXPECT_EQ(second->discarded_at_open(), 1U);
  EXPECT_EQ(second->testing_maps()->size(), 4U);
  EXPECT_EQ(second->verdict_counters().at("forwarded_redirect"), 5U);  // counting continues
  auto counted = second->counters(flow_n(1));
  ASSERT_TRUE(counted.has_value()) << counted.error().message;
  EXPECT_EQ(counted.value().caller_packets, 5U);
  ASSERT_TRUE(second->remove(flow_n(0)).has_value());
  EXPECT_FALSE(second->install(flow_n(1)).has_value());  // adopted flows are installed ones

  // Another size than the pinned map is refused and does not remove the pins.
  auto resized = options;
  resized.max_flows = 128;
  auto refused = BpfDatapath::open(resized);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("expected 128"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(MemoryFlowMaps::is_pinned(options.pin_dir));

  second.reset();  // clean stop
  EXPECT_FALSE(MemoryFlowMaps::is_pinned(options.pin_dir));
  auto fresh = open_ok(options);
  ASSERT_NE(fresh, nullptr);
  EXPECT_TRUE(fresh->adopted().empty());
  EXPECT_EQ(fresh->testing_maps()->size(), 0U);
}

TEST(BpfDatapathTesting, BadOptionsAreRefused) {
  auto options = testing_options();
  options.interfaces.clear();
  auto none = BpfDatapath::open(options);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("no interface"), std::string::npos);
  options.interfaces = {"a-name-longer-than-ifnamsiz"};
  EXPECT_FALSE(BpfDatapath::open(options).has_value());
  options.interfaces = {"eth0"};
  options.max_flows = 1;
  auto tiny = BpfDatapath::open(options);
  ASSERT_FALSE(tiny.has_value());
  EXPECT_NE(tiny.error().message.find("max_flows"), std::string::npos);
}

}  // namespace
}  // namespace mpx::datapath
