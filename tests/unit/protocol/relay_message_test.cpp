// Protocol B relay -> dispatcher lines: replies, expired, ping, unknown lines, the 4 MiB line
// limit, encoders.
#include "common/protocol/relay_message.hpp"
#include "common/protocol/relay_request.hpp"
#include "tests/unit/protocol/chunking.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

using namespace std::string_literals;

RelayMessage parsed(std::string_view line) {
  auto message = parse_relay_line(line);
  EXPECT_TRUE(message.has_value()) << line << ": " << message.error().message;
  return message.has_value() ? message.value() : RelayMessage{Ping{}};
}

TEST(ParseRelayLine, Replies) {
  EXPECT_EQ(parsed("17 203.0.113.5 40002"), RelayMessage(RelayReply{17, "203.0.113.5 40002"}));
  EXPECT_EQ(parsed("3 error"), RelayMessage(RelayReply{3, "error"}));
  EXPECT_EQ(parsed("3 halting"), RelayMessage(RelayReply{3, "halting"}));
  EXPECT_EQ(parsed("4 None"), RelayMessage(RelayReply{4, "None"}));
  EXPECT_EQ(parsed("0 [ ]  "), RelayMessage(RelayReply{0, "[ ]  "}));
  EXPECT_EQ(parsed("5"), RelayMessage(RelayReply{5, ""}));
  EXPECT_EQ(parsed("5 "), RelayMessage(RelayReply{5, ""}));
  EXPECT_EQ(parsed("18446744073709551615 x"), RelayMessage(RelayReply{UINT64_MAX, "x"}));
}

TEST(ParseRelayLine, SpecSummaryReplyKeepsThePayloadVerbatim) {
  const std::string payload =
      R"({"ip": "203.0.113.5", "version": "4.1.2", "status": "active", "uptime": 3600, )"
      R"("session_count": 1, "stream_count": {"audio": 1}, "bps_relayed": 137.6})";
  EXPECT_EQ(parsed("18 " + payload), RelayMessage(RelayReply{18, payload}));
}

TEST(ParseRelayLine, ExpiredAndPing) {
  EXPECT_EQ(parsed(R"(expired {"call_id": "a b"})"),
            RelayMessage(RelayExpired{R"({"call_id": "a b"})"}));
  EXPECT_EQ(parsed("expired"), RelayMessage(RelayExpired{""}));
  EXPECT_EQ(parsed("ping"), RelayMessage(Ping{}));
}

TEST(ParseRelayLine, UnknownLinesAreErrorsNamingTheLine) {
  for (const std::string& line :
       std::vector<std::string>{"pong", "ping 1", "PING", "hello world", "-1 x", "+1 x", "017 x",
                                "18446744073709551616 x", " 1 x", "1\r x", "1 a\0b"s}) {
    auto message = parse_relay_line(line);
    EXPECT_FALSE(message.has_value()) << line;
    if (!message.has_value()) {
      EXPECT_NE(message.error().message.find("protocol B"), std::string::npos);
    }
  }
  EXPECT_NE(parse_relay_line("hello world").error().message.find("hello world"), std::string::npos);
}

TEST(EncodeRelayMessage, AllVariants) {
  EXPECT_EQ(encode_relay_message(RelayReply{17, "203.0.113.5 40002"}).value(),
            "17 203.0.113.5 40002\r\n");
  EXPECT_EQ(encode_relay_message(RelayReply{2, ""}).value(), "2 \r\n");
  EXPECT_EQ(encode_relay_message(RelayExpired{"{}"}).value(), "expired {}\r\n");
  EXPECT_EQ(encode_relay_message(Ping{}).value(), "ping\r\n");
  EXPECT_EQ(kPingLine, "ping\r\n");
  EXPECT_EQ(kPongLine, "pong\r\n");
  EXPECT_FALSE(encode_relay_message(RelayReply{1, "a\r\nb"}).has_value());
  EXPECT_FALSE(encode_relay_message(RelayExpired{"a\0b"s}).has_value());
}

TEST(RelayMessageParser, MixedStreamInAnyChunking) {
  const std::vector<RelayMessage> messages{RelayReply{0, "[]"}, Ping{},
                                           RelayExpired{R"({"call_id": "x"})"},
                                           RelayReply{1, "203.0.113.5 40000 40004"}, Ping{}};
  std::string stream;
  for (const auto& m : messages) {
    stream += encode_relay_message(m).value();
  }
  for (unsigned seed = 0; seed < 40; ++seed) {
    RelayMessageParser parser;
    std::vector<RelayMessage> got;
    for (const auto& chunk : test::random_chunks(stream, seed, 1 + seed)) {
      parser.feed(chunk);
      for (;;) {
        auto step = parser.next();
        if (std::holds_alternative<NeedMore>(step)) {
          break;
        }
        if (auto* r = std::get_if<RelayReply>(&step)) {
          got.emplace_back(*r);
        } else if (auto* e = std::get_if<RelayExpired>(&step)) {
          got.emplace_back(*e);
        } else if (std::holds_alternative<Ping>(step)) {
          got.emplace_back(Ping{});
        } else {
          FAIL() << "unexpected step " << step.index();
        }
      }
    }
    EXPECT_EQ(got, messages) << "seed " << seed;
  }
}

TEST(RelayMessageParser, BadLineIsAMessageErrorAndParsingGoesOn) {
  RelayMessageParser parser;
  parser.feed("what is this\r\n\r\nping\r\n");
  auto step = parser.next();
  ASSERT_TRUE(std::holds_alternative<MessageError>(step));
  EXPECT_NE(std::get<MessageError>(step).message.find("what is this"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<Ping>(parser.next()));  // the blank line was skipped
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
}

TEST(RelayMessageParser, FourMebibyteSessionsLineIsAccepted) {
  const std::string payload(kRelayMessageMaxLine - 2, 'x');  // "7 " + payload = 4 MiB exactly
  RelayMessageParser parser;
  const std::string line = "7 " + payload + "\r\n";
  for (std::size_t pos = 0; pos < line.size(); pos += 65536) {
    parser.feed(std::string_view(line).substr(pos, 65536));
  }
  auto step = parser.next();
  ASSERT_TRUE(std::holds_alternative<RelayReply>(step));
  EXPECT_EQ(std::get<RelayReply>(step).payload.size(), payload.size());
}

TEST(RelayMessageParser, LongerLineIsFatalAndSticky) {
  RelayMessageParser parser;
  parser.feed("7 " + std::string(kRelayMessageMaxLine - 1, 'x'));
  auto step = parser.next();
  ASSERT_TRUE(std::holds_alternative<FatalError>(step));
  EXPECT_NE(std::get<FatalError>(step).message.find("4194304"), std::string::npos);
  parser.feed("\r\nping\r\n");
  EXPECT_TRUE(std::holds_alternative<FatalError>(parser.next()));
}

}  // namespace
}  // namespace mpx::protocol
