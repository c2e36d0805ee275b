// Relay summary JSON: the spec 3.8 example byte for byte, tolerant decoding, key-naming errors.
#include "common/protocol/relay_summary.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mpx::protocol {
namespace {

const std::string kSpecSummary =
    R"({"ip": "203.0.113.5", "version": "4.1.2", "status": "active", "uptime": 3600, )"
    R"("session_count": 1, "stream_count": {"audio": 1}, "bps_relayed": 137.6})";

TEST(RelaySummary, SpecExampleRoundTripsByteForByte) {
  auto parsed = relay_summary_from_json(kSpecSummary);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const RelaySummary& s = parsed.value();
  EXPECT_EQ(s.ip, "203.0.113.5");
  EXPECT_EQ(s.version, "4.1.2");
  EXPECT_EQ(s.status, "active");
  EXPECT_EQ(s.uptime, 3600);
  EXPECT_EQ(s.session_count, 1U);
  EXPECT_EQ(s.stream_count, (std::map<std::string, std::uint64_t>{{"audio", 1}}));
  EXPECT_EQ(s.bps_relayed, 137.6);
  EXPECT_EQ(to_json(s), kSpecSummary);
}

TEST(RelaySummary, FreshRelay) {
  RelaySummary s;
  s.ip = "10.0.0.1";
  s.version = "0.1.0";
  s.status = "halting";
  s.stream_count = {{"video", 5'000'000'000ULL}, {"audio", 2}};
  const std::string text = to_json(s);
  EXPECT_EQ(text,
            R"({"ip": "10.0.0.1", "version": "0.1.0", "status": "halting", "uptime": 0, )"
            R"("session_count": 0, "stream_count": {"audio": 2, "video": 5000000000}, "bps_relayed": 0.0})");
  EXPECT_EQ(relay_summary_from_json(text).value(), s);
}

TEST(RelaySummary, IntegerBpsAndExtraKeysAreAccepted) {
  auto parsed = relay_summary_from_json(
      R"({"ip": "1.2.3.4", "version": "4.1.2", "status": "active", "uptime": 1, "session_count": 0, )"
      R"("stream_count": {}, "bps_relayed": 0, "mpx_datapath": "conntrack"})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed.value().bps_relayed, 0.0);
  EXPECT_TRUE(parsed.value().stream_count.empty());
}

TEST(RelaySummary, ErrorsNameTheKey) {
  EXPECT_EQ(relay_summary_from_json(R"({"ip": "1.2.3.4", "status": "error"})").error().message,
            R"(relay summary: key "version" is missing)");
  std::string text = kSpecSummary;
  text.replace(text.find(R"({"audio": 1})"), 12, R"({"audio": "1"})");
  EXPECT_EQ(relay_summary_from_json(text).error().message,
            R"(relay summary stream_count: key "audio" must be a non-negative integer (got string))");
  text = kSpecSummary;
  text.replace(text.find(R"({"audio": 1})"), 12, "[1]");
  EXPECT_EQ(relay_summary_from_json(text).error().message,
            R"(relay summary: key "stream_count" must be an object (got array))");
  EXPECT_NE(relay_summary_from_json("nope").error().message.find("relay summary: invalid JSON"),
            std::string::npos);
}

}  // namespace
}  // namespace mpx::protocol
