// Reply rules: what may reach the module, and the annotations of remove / expired statistics.
#include <gtest/gtest.h>

#include "dispatcher/reply_rules.hpp"

namespace mpx::dispatcher {
namespace {

TEST(ReplyRules, PortsPassOthersDoNot) {
  EXPECT_EQ(classify_update_payload("203.0.113.5 40002 40006"), UpdatePayload::ports);
  EXPECT_EQ(classify_update_payload("203.0.113.5 0"), UpdatePayload::ports);
  EXPECT_EQ(classify_update_payload("203.0.113.5"), UpdatePayload::ports);
  EXPECT_EQ(classify_update_payload("error"), UpdatePayload::error);
  EXPECT_EQ(classify_update_payload("halting"), UpdatePayload::halting);
  EXPECT_EQ(classify_update_payload("None"), UpdatePayload::none);
  for (const char* bad : {"", " ", "None 1", "203.0.113.5 70000", "203.0.113.5  40000",
                          "203.0.113.5 40000 ", "203.0.113 40000", "host 40000",
                          "203.0.113.5 -1", "{\"call_id\": \"x\"}", "Error"}) {
    EXPECT_EQ(classify_update_payload(bad), UpdatePayload::malformed) << "'" << bad << "'";
  }
}

protocol::StreamStatistics stream(const std::string& status) {
  protocol::StreamStatistics s;
  s.media_type = "audio";
  s.status = status;
  return s;
}

protocol::SessionStatistics answered_call() {
  protocol::SessionStatistics stats;
  stats.call_id = "c1";
  stats.from_tag = "f";
  stats.start_time = 1760000000.5;
  stats.duration = 10;
  return stats;
}

TEST(ReplyRules, RemovedStatisticsAreAnnotated) {
  auto stats = answered_call();
  EXPECT_TRUE(annotate_removed(stats, std::string("42")));
  ASSERT_TRUE(stats.dispatcher.has_value());
  EXPECT_EQ(stats.dispatcher->dialog_id, std::optional<std::string>("42"));
  EXPECT_FALSE(stats.dispatcher->timed_out);
  EXPECT_FALSE(stats.dispatcher->all_streams_ice.has_value());
  stats.start_time.reset();
  EXPECT_FALSE(annotate_removed(stats, std::nullopt));  // never answered: no accounting
}

TEST(ReplyRules, ExpiredDeadMediaIsHungUp) {
  auto stats = answered_call();
  stats.streams = {stream("no-traffic timeout"), stream("unselected ICE candidate")};
  const auto decision = annotate_expired(stats, std::string("42"));
  EXPECT_TRUE(decision.account);
  EXPECT_TRUE(decision.end_dialog);
  EXPECT_TRUE(stats.dispatcher->timed_out);
  EXPECT_EQ(stats.dispatcher->all_streams_ice, std::optional<bool>(false));
  EXPECT_EQ(stats.dispatcher->dialog_id, std::optional<std::string>("42"));
}

TEST(ReplyRules, ExpiredAllIceIsNotHungUp) {
  auto stats = answered_call();
  stats.streams = {stream("unselected ICE candidate")};
  const auto decision = annotate_expired(stats, std::string("42"));
  EXPECT_TRUE(decision.account);
  EXPECT_FALSE(decision.end_dialog);
  EXPECT_FALSE(stats.dispatcher->timed_out);
  EXPECT_EQ(stats.dispatcher->all_streams_ice, std::optional<bool>(true));
}

TEST(ReplyRules, ExpiredWithoutDialogIdOrAnswerIsNotHungUp) {
  auto stats = answered_call();
  stats.streams = {stream("conntrack timeout")};
  EXPECT_FALSE(annotate_expired(stats, std::nullopt).end_dialog);
  auto unanswered = answered_call();
  unanswered.start_time.reset();
  const auto decision = annotate_expired(unanswered, std::string("42"));
  EXPECT_FALSE(decision.account);
  EXPECT_FALSE(decision.end_dialog);
  // No streams: vacuously all ICE, as MediaProxy decides.
  EXPECT_EQ(unanswered.dispatcher->all_streams_ice, std::optional<bool>(true));
}

}  // namespace
}  // namespace mpx::dispatcher
