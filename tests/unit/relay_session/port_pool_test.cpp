// Port pool (compat spec 5.3): pairs, FIFO reuse, exhaustion without leaks, bind failures.
#include "relay/session/port_pool.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace mpx::relay::session {
namespace {

TEST(RelaySessionPortPool, HandsOutEvenPortsFromTheStartCallerSideFirst) {
  PortPool pool(config::PortRange{40000, 40010});
  EXPECT_EQ(pool.free_count(), 5U);
  auto stream = pool.allocate_stream();
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(stream.value().first, 40000);
  EXPECT_EQ(stream.value().second, 40002);
  EXPECT_EQ(pool.free_count(), 3U);
  EXPECT_EQ(pool.in_use_count(), 2U);
  EXPECT_TRUE(pool.in_use(40000));
}

TEST(RelaySessionPortPool, RangeUpTo65536HasItsLastPair) {
  PortPool pool(config::PortRange{65530, 65536});
  EXPECT_EQ(pool.free_count(), 3U);
  std::vector<std::uint16_t> got;
  while (auto p = pool.allocate_pair()) {
    got.push_back(p.value());
  }
  EXPECT_EQ(got, (std::vector<std::uint16_t>{65530, 65532, 65534}));
}

TEST(RelaySessionPortPool, FreedPairsGoToTheTail) {
  PortPool pool(config::PortRange{40000, 40008});
  auto a = pool.allocate_pair().value();
  EXPECT_EQ(a, 40000);
  pool.release_pair(a);
  EXPECT_EQ(pool.allocate_pair().value(), 40002);
  EXPECT_EQ(pool.allocate_pair().value(), 40004);
  EXPECT_EQ(pool.allocate_pair().value(), 40006);
  EXPECT_EQ(pool.allocate_pair().value(), 40000);
}

TEST(RelaySessionPortPool, ReleasingAPortNotInUseIsIgnored) {
  PortPool pool(config::PortRange{40000, 40004});
  auto a = pool.allocate_pair().value();
  pool.release_pair(a);
  pool.release_pair(a);      // double free
  pool.release_pair(41000);  // never handed out
  EXPECT_EQ(pool.free_count(), 2U);
  EXPECT_EQ(pool.in_use_count(), 0U);
}

TEST(RelaySessionPortPool, ExhaustionIsAnErrorAndAHalfAllocatedStreamLeaksNothing) {
  std::vector<std::uint16_t> released;
  PortPool pool(config::PortRange{40000, 40006}, {},
                [&](std::uint16_t port) { released.push_back(port); });
  ASSERT_TRUE(pool.allocate_stream().has_value());  // 40000, 40002
  auto second = pool.allocate_stream();              // only 40004 left
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message, "all allocated ports are being used");
  EXPECT_EQ(pool.free_count(), 1U);
  EXPECT_EQ(pool.in_use_count(), 2U);
  EXPECT_EQ(released, (std::vector<std::uint16_t>{40004}));  // its sockets are closed
  // The returned pair is first again: it was never used.
  EXPECT_EQ(pool.allocate_pair().value(), 40004);
}

TEST(RelaySessionPortPool, UnbindablePairIsSkippedAndSetAside) {
  std::set<std::uint16_t> unbindable{40002};
  PortPool pool(config::PortRange{40000, 40010},
                [&](std::uint16_t port) { return !unbindable.contains(port); });
  auto stream = pool.allocate_stream();
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(stream.value().first, 40000);
  EXPECT_EQ(stream.value().second, 40004);
  EXPECT_EQ(pool.bad_count(), 1U);
  EXPECT_EQ(pool.free_count(), 2U);
}

TEST(RelaySessionPortPool, BadPairsReturnWhenTheyOutnumberFreeOnes) {
  std::set<std::uint16_t> unbindable{40000, 40002};
  PortPool pool(config::PortRange{40000, 40008},
                [&](std::uint16_t port) { return !unbindable.contains(port); });
  EXPECT_EQ(pool.allocate_pair().value(), 40004);  // bad: 40000, 40002; free: 40006
  EXPECT_EQ(pool.bad_count(), 2U);
  unbindable.clear();  // the failure was transient
  // bad (2) > free (1): the bad pairs go back behind 40006.
  EXPECT_EQ(pool.allocate_pair().value(), 40006);
  EXPECT_EQ(pool.bad_count(), 0U);
  EXPECT_EQ(pool.allocate_pair().value(), 40000);
  EXPECT_EQ(pool.allocate_pair().value(), 40002);
}

TEST(RelaySessionPortPool, NothingBindableIsAnErrorNotALoop) {
  PortPool pool(config::PortRange{40000, 40008}, [](std::uint16_t) { return false; });
  auto r = pool.allocate_pair();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "all allocated ports are being used");
  EXPECT_EQ(pool.in_use_count(), 0U);
  EXPECT_EQ(pool.free_count() + pool.bad_count(), 4U);
}

}  // namespace
}  // namespace mpx::relay::session
