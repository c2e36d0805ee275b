// Expiry bookkeeping (compat spec 5.7, 5.10, 5.11, 5.13): timeouts of the RTP sub-stream, the
// ICE rule, sessions that expire when no stream is left, shutdown, codecs and post-dial delay.
#include "tests/unit/relay_session/session_fixture.hpp"

#include <gtest/gtest.h>

namespace mpx::relay::session::test {
namespace {

constexpr const char* kCallerAudio = "audio:192.168.1.10:50000:sendrecv:ice=no";
constexpr const char* kCalleeAudio = "audio:192.0.2.20:30000:sendrecv:ice=no";

Message offer(std::string media, std::string cseq = "1") {
  Message m;
  m.media = std::move(media);
  m.cseq = std::move(cseq);
  return m;
}

Message answer(std::string media, std::string cseq = "1") {
  Message m;
  m.type = "reply";
  m.cseq = std::move(cseq);
  m.to_tag = "callee-tag";
  m.user_agent = "callee-ua";
  m.media = std::move(media);
  return m;
}

TEST_F(RelaySessionTest, InviteWithoutAnswerExpiresAfterTheNoTrafficTimeout) {
  update(offer(kCallerAudio), 0);
  const auto id = opened().at(0);
  auto outcome = manager_.rtp_expired(id, ExpiryReason::no_traffic, 90, at(90));
  EXPECT_EQ(outcome.actions, (Actions{StreamClosed{id, "no-traffic timeout"}}));
  ASSERT_TRUE(outcome.expired);
  EXPECT_EQ(outcome.expired->origin, "dispatcher-1");
  const auto& stats = outcome.expired->statistics;
  EXPECT_FALSE(stats.start_time);
  EXPECT_EQ(stats.duration, 0);
  EXPECT_FALSE(stats.to_tag);
  EXPECT_TRUE(stats.streams.empty());  // a never-answered offer contributes nothing
  EXPECT_EQ(manager_.session_count(), 0U);
  EXPECT_EQ(pool_.in_use_count(), 0U);
  EXPECT_EQ(manager_.find_stream(id), nullptr);
}

TEST_F(RelaySessionTest, CallWithoutByeEndsWithTheConntrackTimeout) {
  update(offer(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(answer(kCalleeAudio), 2);
  traffic_[id] = StreamTraffic{1000, 2000, 10, 20, {}, {}};
  auto outcome = manager_.rtp_expired(id, ExpiryReason::conntrack, 180, at(402));
  ASSERT_TRUE(outcome.expired);
  const auto& stream = outcome.expired->statistics.streams.at(0);
  EXPECT_EQ(stream.status, "conntrack timeout");
  EXPECT_EQ(stream.timeout_wait, 180);
  EXPECT_EQ(stream.end_time, 400);
  EXPECT_EQ(stream.caller_bytes, 1000U);
  EXPECT_EQ(outcome.expired->statistics.duration, 400);
}

TEST_F(RelaySessionTest, HoldWithoutByeEndsWithTheOnHoldTimeout) {
  update(offer(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(answer(kCalleeAudio), 1);
  update(offer("audio:192.168.1.10:50000:inactive:ice=no", "2"), 10);
  update(answer("audio:192.0.2.20:30000:inactive:ice=no", "2"), 11);
  auto outcome = manager_.rtp_expired(id, ExpiryReason::on_hold, 7200, at(7211));
  ASSERT_TRUE(outcome.expired);
  EXPECT_EQ(outcome.expired->statistics.streams.at(0).status, "on hold timeout");
  EXPECT_EQ(outcome.expired->statistics.streams.at(0).timeout_wait, 7200);
}

TEST_F(RelaySessionTest, IceOnBothSidesMeansUnselectedCandidate) {
  update(offer("audio:192.168.1.10:50000:sendrecv:ice=yes"), 0);
  const auto id = opened().at(0);
  update(answer("audio:192.0.2.20:30000:sendrecv:ice=yes"), 1);
  auto outcome = manager_.rtp_expired(id, ExpiryReason::no_traffic, 90, at(240));
  ASSERT_TRUE(outcome.expired);
  EXPECT_EQ(outcome.actions, (Actions{StreamClosed{id, "unselected ICE candidate"}}));
  EXPECT_EQ(outcome.expired->statistics.streams.at(0).status, "unselected ICE candidate");
  EXPECT_EQ(outcome.expired->statistics.streams.at(0).timeout_wait, 90);
}

TEST_F(RelaySessionTest, IceOnOneSideKeepsTheReason) {
  update(offer("audio:192.168.1.10:50000:sendrecv:ice=yes"), 0);
  const auto id = opened().at(0);
  update(answer(kCalleeAudio), 1);
  auto outcome = manager_.rtp_expired(id, ExpiryReason::no_traffic, 90, at(91));
  ASSERT_TRUE(outcome.expired);
  EXPECT_EQ(outcome.expired->statistics.streams.at(0).status, "no-traffic timeout");
}

TEST_F(RelaySessionTest, SessionLivesWhileAnyStreamLives) {
  update(offer(std::string{kCallerAudio} + ",video:192.168.1.10:50002:sendrecv:ice=no"), 0);
  const auto ids = opened();
  update(answer(std::string{kCalleeAudio} + ",video:192.0.2.20:30002:sendrecv:ice=no"), 1);
  auto first = manager_.rtp_expired(ids[1], ExpiryReason::no_traffic, 90, at(91));
  EXPECT_FALSE(first.expired);
  EXPECT_EQ(first.actions, (Actions{StreamClosed{ids[1], "no-traffic timeout"}}));
  EXPECT_EQ(manager_.counts().stream_count, (std::map<std::string, std::uint64_t>{{"audio", 1}}));
  // A second report for the same stream, or for an unknown one, changes nothing.
  EXPECT_TRUE(manager_.rtp_expired(ids[1], ExpiryReason::conntrack, 180, at(92)).actions.empty());
  EXPECT_TRUE(manager_.rtp_expired(9999, ExpiryReason::conntrack, 180, at(92)).actions.empty());
  auto second = manager_.rtp_expired(ids[0], ExpiryReason::conntrack, 180, at(300));
  ASSERT_TRUE(second.expired);
  const auto& streams = second.expired->statistics.streams;
  ASSERT_EQ(streams.size(), 2U);
  EXPECT_EQ(streams[0].status, "conntrack timeout");
  EXPECT_EQ(streams[1].status, "no-traffic timeout");
  EXPECT_EQ(streams[1].end_time, 90);
}

TEST_F(RelaySessionTest, ShutdownExpiresEverySession) {
  for (const char* call : {"a", "b"}) {
    Message m = offer(kCallerAudio);
    m.call_id = call;
    update(m, 0);
  }
  auto outcome = manager_.expire_all(at(5));
  ASSERT_EQ(outcome.expired.size(), 2U);
  EXPECT_EQ(outcome.expired[0].statistics.call_id, "a");
  EXPECT_EQ(outcome.expired[1].origin, "dispatcher-1");
  EXPECT_EQ(actions_of<StreamClosed>(outcome.actions).size(), 2U);
  EXPECT_EQ(manager_.session_count(), 0U);
  EXPECT_EQ(pool_.in_use_count(), 0U);
}

TEST_F(RelaySessionTest, CodecsAndPostDialDelay) {
  update(offer(kCallerAudio), 10);
  const auto id = opened().at(0);
  // RTCP first (no payload type): it starts the post-dial delay clock but sets no codec.
  manager_.media_seen(id, Party::callee, std::nullopt, at(11.5));
  manager_.media_seen(id, Party::callee, std::uint8_t{18}, at(12));
  manager_.media_seen(id, Party::caller, std::uint8_t{101}, at(13));
  manager_.media_seen(id, Party::caller, std::uint8_t{0}, at(14));  // only the first one counts
  manager_.media_seen(4242, Party::caller, std::uint8_t{0}, at(14));  // unknown: ignored
  update(answer(kCalleeAudio), 15);
  auto stats = manager_.sessions(at(20)).at(0);
  const auto& stream = stats.streams.at(0);
  EXPECT_EQ(stream.callee_codec, "G729");
  EXPECT_EQ(stream.caller_codec, "Dynamic(101)");
  ASSERT_TRUE(stream.post_dial_delay);
  EXPECT_DOUBLE_EQ(*stream.post_dial_delay, 1.5);
  EXPECT_EQ(stats.duration, 5);
  EXPECT_EQ(stream.end_time, 5);  // still running: the session's duration
}

TEST_F(RelaySessionTest, LiveStatisticsAskTheDatapath) {
  update(offer(kCallerAudio), 0);
  const auto id = opened().at(0);
  update(answer(kCalleeAudio), 1);
  traffic_[id] = StreamTraffic{1, 2, 3, 4, Endpoint{ip("198.51.100.7"), 50000}, {}};
  const int before = traffic_queries_;
  auto stream = manager_.sessions(at(2)).at(0).streams.at(0);
  EXPECT_GT(traffic_queries_, before);
  EXPECT_EQ(stream.caller_remote, "198.51.100.7:50000");
  EXPECT_EQ(stream.callee_remote, "Unknown");
  EXPECT_EQ(stream.callee_packets, 4U);
}

}  // namespace
}  // namespace mpx::relay::session::test
