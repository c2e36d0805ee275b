// The session table: pinning, expiry marks, reconnection and cleanup queries.
#include <gtest/gtest.h>

#include "dispatcher/session_table.hpp"

namespace mpx::dispatcher {
namespace {

using std::chrono::seconds;
const auto t0 = SessionTable::Clock::time_point{} + std::chrono::hours(1);

TEST(SessionTable, PinFindErase) {
  SessionTable table;
  EXPECT_EQ(table.find("a"), nullptr);
  table.pin("a", "10.0.0.1", "123", t0);
  ASSERT_NE(table.find("a"), nullptr);
  EXPECT_EQ(table.find("a")->relay_ip, "10.0.0.1");
  EXPECT_EQ(table.find("a")->dialog_id, std::optional<std::string>("123"));
  EXPECT_FALSE(table.find("a")->expired);
  EXPECT_TRUE(table.erase("a"));
  EXPECT_FALSE(table.erase("a"));
  EXPECT_EQ(table.size(), 0U);
}

TEST(SessionTable, RepinReplacesAnExpiredEntry) {
  SessionTable table;
  table.pin("a", "10.0.0.1", std::nullopt, t0);
  EXPECT_TRUE(table.mark_expired("a", t0));
  EXPECT_TRUE(table.find("a")->expired);
  table.pin("a", "10.0.0.2", std::nullopt, t0 + seconds(1));
  EXPECT_FALSE(table.find("a")->expired);
  EXPECT_EQ(table.find("a")->relay_ip, "10.0.0.2");
  EXPECT_FALSE(table.mark_expired("unknown", t0));
}

TEST(SessionTable, LearnsADialogIdOnlyOnce) {
  SessionTable table;
  table.pin("a", "10.0.0.1", std::nullopt, t0);
  table.learn_dialog_id("a", "1");
  table.learn_dialog_id("a", "2");
  EXPECT_EQ(table.find("a")->dialog_id, std::optional<std::string>("1"));
}

TEST(SessionTable, LiveSessionsOnARelayPinnedBeforeAMoment) {
  SessionTable table;
  table.pin("old", "10.0.0.1", std::nullopt, t0);
  table.pin("new", "10.0.0.1", std::nullopt, t0 + seconds(10));
  table.pin("gone", "10.0.0.1", std::nullopt, t0);
  table.mark_expired("gone", t0);
  table.pin("other", "10.0.0.2", std::nullopt, t0);
  EXPECT_EQ(table.live_sessions_on("10.0.0.1", t0 + seconds(5)), std::vector<std::string>{"old"});
  EXPECT_EQ(table.count_on("10.0.0.1"), 3U);
}

TEST(SessionTable, ForgetRelayAndPurgeExpired) {
  SessionTable table;
  table.pin("a", "10.0.0.1", std::nullopt, t0);
  table.pin("b", "10.0.0.1", std::nullopt, t0);
  table.pin("c", "10.0.0.2", std::nullopt, t0);
  EXPECT_EQ(table.forget_relay("10.0.0.1"), 2U);
  EXPECT_EQ(table.size(), 1U);
  table.pin("d", "10.0.0.2", std::nullopt, t0);
  table.mark_expired("c", t0);
  table.mark_expired("d", t0 + seconds(100));
  EXPECT_EQ(table.purge_expired_before(t0 + seconds(50)), 1U);
  EXPECT_EQ(table.find("c"), nullptr);
  EXPECT_NE(table.find("d"), nullptr);
}

}  // namespace
}  // namespace mpx::dispatcher
