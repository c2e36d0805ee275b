// Port exhaustion: with port_range 40000:40004 (two pairs = one stream) the first call gets the
// ports, a second call is answered `error` (the dispatcher has no other relay), and once the
// first call is removed a new call gets ports again.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/relay_lab/kernel_probe.hpp"
#include "tests/integration/relay_lab/relay_lab_fixture.hpp"

namespace mpx::test::relay_lab {
namespace {

using namespace std::chrono_literals;
using A = LabAddresses;

class RelayPortsTest : public RelayLabTest {};

TEST_P(RelayPortsTest, ExhaustedRangeAnswersErrorUntilACallEnds) {
  RelaySettings settings;
  settings.port_range = "40000:40004";
  ASSERT_NO_FATAL_FAILURE(start(NetnsLab::Variant::kBasic, settings));
  const std::set<std::uint16_t> pool{40000, 40002};

  auto first = env_->new_call("relay-ports-1@10.1.0.10");
  const auto first_callee_side = first->offer(1, {A::kCaller, kCallerPort});
  ASSERT_TRUE(first_callee_side.has_value()) << first->last_reply();
  const auto first_caller_side = first->answer(1, {A::kCallee, kCalleePort});
  ASSERT_TRUE(first_caller_side.has_value()) << first->last_reply();
  EXPECT_EQ((std::set<std::uint16_t>{*first_callee_side, *first_caller_side}), pool);
  auto bound = bound_udp_ports(env_->lab(), kFirstPort, kLastPort);
  ASSERT_TRUE(bound.has_value()) << bound.error().message;
  EXPECT_EQ(bound.value(), (std::vector<std::uint16_t>{40000, 40001, 40002, 40003}));

  auto second = env_->new_call("relay-ports-2@10.1.0.10");
  EXPECT_EQ(second->offer(1, {A::kCaller, 5100}), std::nullopt);
  EXPECT_EQ(second->last_reply(), "error");
  EXPECT_EQ(env_->dispatcher().relay_count(), 1U);  // the relay is still there, only full

  ASSERT_TRUE(first->remove()) << first->last_reply();
  auto third = env_->new_call("relay-ports-3@10.1.0.10");
  const auto third_callee_side = third->offer(1, {A::kCaller, 5200});
  ASSERT_TRUE(third_callee_side.has_value()) << third->last_reply();
  const auto third_caller_side = third->answer(1, {A::kCallee, 6200});
  ASSERT_TRUE(third_caller_side.has_value()) << third->last_reply();
  EXPECT_EQ((std::set<std::uint16_t>{*third_callee_side, *third_caller_side}), pool);
  EXPECT_TRUE(third->remove()) << third->last_reply();
}

INSTANTIATE_TEST_SUITE_P(Datapaths, RelayPortsTest, all_datapaths(),
                         datapath_name);

}  // namespace
}  // namespace mpx::test::relay_lab
