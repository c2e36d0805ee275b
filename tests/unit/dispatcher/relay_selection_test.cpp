// Selection order for new sessions: media_relay first if usable, then least load, ties random.
#include <gtest/gtest.h>

#include <set>

#include "dispatcher/relay_selection.hpp"

namespace mpx::dispatcher {
namespace {

TEST(RelaySelection, LeastLoadedFirst) {
  std::mt19937 random(1);
  const std::vector<RelayCandidate> relays{
      {"10.0.0.1", true, 30}, {"10.0.0.2", true, 5}, {"10.0.0.3", true, 12}};
  const auto plan = plan_selection(relays, std::nullopt, random);
  EXPECT_EQ(plan.order, (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.1"}));
  EXPECT_FALSE(plan.preferred_unavailable);
}

TEST(RelaySelection, UnusableRelaysAreNeverTried) {
  std::mt19937 random(1);
  const std::vector<RelayCandidate> relays{{"10.0.0.1", false, 0}, {"10.0.0.2", true, 9}};
  EXPECT_EQ(plan_selection(relays, std::nullopt, random).order,
            std::vector<std::string>{"10.0.0.2"});
  EXPECT_TRUE(plan_selection({}, std::nullopt, random).order.empty());
}

TEST(RelaySelection, PreferredRelayGoesFirstWhateverItsLoad) {
  std::mt19937 random(1);
  const std::vector<RelayCandidate> relays{{"10.0.0.1", true, 100}, {"10.0.0.2", true, 0}};
  const auto plan = plan_selection(relays, "10.0.0.1", random);
  EXPECT_EQ(plan.order, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_FALSE(plan.preferred_unavailable);
}

TEST(RelaySelection, UnusableOrUnknownPreferredRelayIsReportedAndSkipped) {
  std::mt19937 random(1);
  const std::vector<RelayCandidate> relays{{"10.0.0.1", false, 0}, {"10.0.0.2", true, 0}};
  auto plan = plan_selection(relays, "10.0.0.1", random);
  EXPECT_EQ(plan.order, std::vector<std::string>{"10.0.0.2"});
  EXPECT_TRUE(plan.preferred_unavailable);
  plan = plan_selection(relays, "192.0.2.99", random);
  EXPECT_EQ(plan.order, std::vector<std::string>{"10.0.0.2"});
  EXPECT_TRUE(plan.preferred_unavailable);
}

TEST(RelaySelection, TiesAreBrokenAtRandom) {
  std::mt19937 random(7);
  const std::vector<RelayCandidate> relays{
      {"10.0.0.1", true, 3}, {"10.0.0.2", true, 3}, {"10.0.0.3", true, 3}, {"10.0.0.4", true, 1}};
  std::set<std::string> firsts_among_ties;
  for (int i = 0; i < 200; ++i) {
    const auto plan = plan_selection(relays, std::nullopt, random);
    ASSERT_EQ(plan.order.size(), 4U);
    EXPECT_EQ(plan.order.front(), "10.0.0.4");  // the least loaded is always first
    firsts_among_ties.insert(plan.order[1]);
  }
  EXPECT_EQ(firsts_among_ties.size(), 3U);
}

}  // namespace
}  // namespace mpx::dispatcher
