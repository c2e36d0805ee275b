// Session statistics JSON: the spec 3.8 `expired` golden line, 64-bit counters, nulls, the
// dispatcher's keys and their two orders, tolerant decoding, key-naming errors.
#include "common/protocol/session_statistics.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

// The JSON of the `expired` line of compat spec 3.8, byte for byte.
const std::string kSpecExpired =
    R"({"call_id": "7a9f3c2e@192.168.1.10", "from_tag": "a73kszlfl", "from_uri": "alice@example.com", )"
    R"("to_tag": "8d7f2a", "to_uri": "bob@example.net", "start_time": 1760000000.51, "duration": 312, )"
    R"("caller_ua": "Blink 5.1", "callee_ua": "Asterisk PBX", "username": null, "streams": [{"media_type": "audio", )"
    R"("status": "conntrack timeout", "timeout_wait": 180, "caller_codec": "G711u", "callee_codec": "G711u", )"
    R"("start_time": 0, "end_time": 312, "post_dial_delay": 2.04, "caller_bytes": 4210560, "callee_bytes": 4207120, )"
    R"("caller_packets": 15040, "callee_packets": 15025, "caller_local": "203.0.113.5:40000", )"
    R"("callee_local": "203.0.113.5:40002", "caller_remote": "198.51.100.7:50000", "callee_remote": "192.0.2.20:30000"}]})";

SessionStatistics sample() {
  auto parsed = session_statistics_from_json(kSpecExpired);
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return parsed.value();
}

std::string error_of(const std::string& text) {
  auto parsed = session_statistics_from_json(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  return parsed.has_value() ? std::string{} : parsed.error().message;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

TEST(SessionStatistics, SpecExpiredLineDecodes) {
  const SessionStatistics s = sample();
  EXPECT_EQ(s.call_id, "7a9f3c2e@192.168.1.10");
  EXPECT_EQ(s.to_tag, "8d7f2a");
  EXPECT_EQ(s.start_time, 1760000000.51);
  EXPECT_EQ(s.duration, 312);
  EXPECT_EQ(s.callee_ua, "Asterisk PBX");
  EXPECT_FALSE(s.username.has_value());
  EXPECT_FALSE(s.dispatcher.has_value());
  ASSERT_EQ(s.streams.size(), 1U);
  const StreamStatistics& st = s.streams[0];
  EXPECT_EQ(st.status, "conntrack timeout");
  EXPECT_EQ(st.timeout_wait, 180);
  EXPECT_EQ(st.post_dial_delay, 2.04);
  EXPECT_EQ(st.caller_bytes, 4210560U);
  EXPECT_EQ(st.callee_packets, 15025U);
  EXPECT_EQ(st.callee_remote, "192.0.2.20:30000");
}

TEST(SessionStatistics, SpecExpiredLineIsReproducedByteForByte) {
  EXPECT_EQ(to_json(sample()), kSpecExpired);
}

TEST(SessionStatistics, CountersAbove32BitsRoundTrip) {
  SessionStatistics s = sample();
  s.streams[0].caller_bytes = 5'000'000'000ULL;           // > 2^32
  s.streams[0].callee_bytes = UINT64_MAX;
  s.streams[0].caller_packets = (1ULL << 32) + 1;
  s.streams[0].callee_packets = 1ULL << 40;
  const std::string text = to_json(s);
  EXPECT_NE(text.find(R"("caller_bytes": 5000000000, )"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("callee_bytes": 18446744073709551615, )"), std::string::npos);
  EXPECT_NE(text.find(R"("caller_packets": 4294967297, )"), std::string::npos);
  auto back = session_statistics_from_json(text);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back.value(), s);
}

TEST(SessionStatistics, NeverAnsweredSessionWithNulls) {
  SessionStatistics s;
  s.call_id = "c";
  s.from_tag = "f";
  s.from_uri = "a@b";
  s.to_uri = "c@d";
  const std::string text = to_json(s);
  EXPECT_EQ(text,
            R"({"call_id": "c", "from_tag": "f", "from_uri": "a@b", "to_tag": null, "to_uri": "c@d", )"
            R"("start_time": null, "duration": 0, "caller_ua": "Unknown", "callee_ua": "Unknown", )"
            R"("username": null, "streams": []})");
  EXPECT_EQ(session_statistics_from_json(text).value(), s);
}

TEST(SessionStatistics, StreamWithoutPostDialDelay) {
  SessionStatistics s = sample();
  s.streams[0].post_dial_delay.reset();
  s.username = "alice";
  const std::string text = to_json(s);
  EXPECT_NE(text.find(R"("post_dial_delay": null, )"), std::string::npos);
  EXPECT_NE(text.find(R"("username": "alice", )"), std::string::npos);
  EXPECT_EQ(session_statistics_from_json(text).value(), s);
}

TEST(SessionStatistics, RemovePathKeyOrder) {
  SessionStatistics s = sample();
  s.dispatcher = DispatcherAnnotations{"5063766441986", false, std::nullopt};
  const std::string text = to_json(s);
  EXPECT_TRUE(text.ends_with(R"(}], "dialog_id": "5063766441986", "timed_out": false})")) << text;
  EXPECT_EQ(session_statistics_from_json(text).value(), s);
}

TEST(SessionStatistics, ExpiredPathKeyOrder) {
  SessionStatistics s = sample();
  s.dispatcher = DispatcherAnnotations{std::nullopt, true, false};
  const std::string text = to_json(s);
  EXPECT_TRUE(text.ends_with(R"(}], "timed_out": true, "dialog_id": null, "all_streams_ice": false})"))
      << text;
  EXPECT_EQ(session_statistics_from_json(text).value(), s);
}

TEST(SessionStatistics, DispatcherKeysDecoding) {
  auto only_timed_out = session_statistics_from_json(
      replace(kSpecExpired, R"("streams": [)", R"("timed_out": true, "streams": [)"));
  ASSERT_TRUE(only_timed_out.has_value()) << only_timed_out.error().message;
  ASSERT_TRUE(only_timed_out.value().dispatcher.has_value());
  EXPECT_TRUE(only_timed_out.value().dispatcher->timed_out);
  EXPECT_FALSE(only_timed_out.value().dispatcher->dialog_id.has_value());
  EXPECT_FALSE(only_timed_out.value().dispatcher->all_streams_ice.has_value());

  const std::string error =
      error_of(replace(kSpecExpired, R"("streams": [)", R"("dialog_id": "1", "streams": [)"));
  EXPECT_NE(error.find(R"(key "timed_out" is missing)"), std::string::npos) << error;
  EXPECT_NE(error_of(replace(kSpecExpired, R"("streams": [)",
                             R"("timed_out": "yes", "streams": [)"))
                .find(R"(key "timed_out" must be true or false (got string))"),
            std::string::npos);
}

TEST(SessionStatistics, ExtraKeysAreIgnored) {
  std::string text = replace(kSpecExpired, R"("call_id")", R"("mpx_datapath": "xdp", "call_id")");
  text = replace(text, R"("media_type")", R"("mpx_extra": {"nested": [1, 2]}, "media_type")");
  auto parsed = session_statistics_from_json(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed.value(), sample());
}

TEST(SessionStatistics, MissingKeyIsNamed) {
  const std::string error = error_of(replace(kSpecExpired, R"("duration": 312, )", ""));
  EXPECT_EQ(error, R"(session statistics: key "duration" is missing)");
  const std::string stream_error = error_of(replace(kSpecExpired, R"("caller_codec": "G711u", )", ""));
  EXPECT_EQ(stream_error, R"(session statistics streams[0]: key "caller_codec" is missing)");
}

TEST(SessionStatistics, MistypedKeyIsNamed) {
  EXPECT_EQ(error_of(replace(kSpecExpired, "4210560", "\"4210560\"")),
            R"(session statistics streams[0]: key "caller_bytes" must be a non-negative integer (got string))");
  EXPECT_EQ(error_of(replace(kSpecExpired, "4210560", "-1")),
            R"(session statistics streams[0]: key "caller_bytes" must not be negative)");
  EXPECT_EQ(error_of(replace(kSpecExpired, "\"duration\": 312", "\"duration\": 312.5")),
            R"(session statistics: key "duration" must be an integer (got a non-integer or out-of-range number))");
  EXPECT_EQ(error_of(replace(kSpecExpired, "\"to_tag\": \"8d7f2a\"", "\"to_tag\": 5")),
            R"(session statistics: key "to_tag" must be a string or null (got number))");
  EXPECT_EQ(error_of(replace(kSpecExpired, "1760000000.51", "\"soon\"")),
            R"(session statistics: key "start_time" must be a number (got string))");
  SessionStatistics empty;
  EXPECT_EQ(error_of(replace(to_json(empty), R"("streams": [])", R"("streams": {})")),
            R"(session statistics: key "streams" must be an array (got object))");
}

TEST(SessionStatistics, IntegerStartTimeIsAcceptedAsANumber) {
  auto parsed = session_statistics_from_json(replace(kSpecExpired, "1760000000.51", "1760000000"));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed.value().start_time, 1760000000.0);
}

TEST(SessionStatistics, HugeNumberIsRefused) {
  const std::string error = error_of(replace(kSpecExpired, "1760000000.51", "1e999"));
  EXPECT_NE(error.find("session statistics: invalid JSON"), std::string::npos) << error;
  EXPECT_NE(error.find("1e999"), std::string::npos) << error;
}

TEST(SessionStatistics, NotJsonOrNotAnObject) {
  EXPECT_NE(error_of("{\"call_id\": ").find("session statistics: invalid JSON"), std::string::npos);
  EXPECT_EQ(error_of("[1, 2]"), "session statistics must be a JSON object (got array)");
  EXPECT_NE(error_of(replace(kSpecExpired, "\"streams\": [{", "\"streams\": [7, {"))
                .find("streams[0] must be a JSON object (got number)"),
            std::string::npos);
}

TEST(SessionList, RoundTripAndEmpty) {
  EXPECT_EQ(to_json(std::vector<SessionStatistics>{}), "[]");
  EXPECT_TRUE(session_list_from_json("[]").value().empty());
  std::vector<SessionStatistics> sessions{sample(), sample()};
  sessions[1].call_id = "second";
  const std::string text = to_json(sessions);
  EXPECT_EQ(text, "[" + kSpecExpired + ", " + replace(kSpecExpired, "7a9f3c2e@192.168.1.10", "second") + "]");
  EXPECT_EQ(session_list_from_json(text).value(), sessions);
}

TEST(SessionList, ErrorsNameTheElement) {
  auto parsed = session_list_from_json("[" + kSpecExpired + ", {}]");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message,
            R"(session list [1]: session statistics: key "call_id" is missing)");
  EXPECT_EQ(session_list_from_json("{}").error().message,
            "session list must be a JSON array (got object)");
}

}  // namespace
}  // namespace mpx::protocol
