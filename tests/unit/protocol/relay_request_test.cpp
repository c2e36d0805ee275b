// Protocol B requests: the spec 3.8 bytes, pong interleaving, rejected command lines (with and
// without a sequence number), skipped header lines, limits, chunking, the encoder.
#include "common/protocol/relay_request.hpp"
#include "tests/support/drain_parser.hpp"
#include "tests/unit/protocol/chunking.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

using namespace std::string_literals;

std::vector<RelayRequestStep> parse_chunks(const std::vector<std::string>& chunks,
                                           RelayRequestLimits limits = {}) {
  return mpx::test::drain_parser<RelayRequestStep>(RelayRequestParser(limits), chunks);
}

std::vector<RelayRequestStep> parse_all(const std::string& bytes, RelayRequestLimits limits = {}) {
  return parse_chunks({bytes}, limits);
}

const std::string kSpecUpdate =
    "update 17\r\ntype: request\r\ndialog_id: 5063766441986\r\ncall_id: 7a9f3c2e@192.168.1.10\r\n"
    "cseq: 1\r\nfrom_uri: alice@example.com\r\nto_uri: bob@example.net\r\n"
    "from_tag: a73kszlfl\r\nuser_agent: Blink 5.1\r\nsignaling_ip: 198.51.100.7\r\n"
    "media: audio:192.168.1.10:50000:sendrecv:ice=no\r\n\r\n";

RelayRequest spec_update() {
  return RelayRequest{"update",
                      17,
                      {{"type", "request"},
                       {"dialog_id", "5063766441986"},
                       {"call_id", "7a9f3c2e@192.168.1.10"},
                       {"cseq", "1"},
                       {"from_uri", "alice@example.com"},
                       {"to_uri", "bob@example.net"},
                       {"from_tag", "a73kszlfl"},
                       {"user_agent", "Blink 5.1"},
                       {"signaling_ip", "198.51.100.7"},
                       {"media", "audio:192.168.1.10:50000:sendrecv:ice=no"}}};
}

TEST(EncodeRelayRequest, SpecExampleBytes) {
  auto encoded = encode_relay_request(spec_update());
  ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
  EXPECT_EQ(encoded.value(), kSpecUpdate);
  EXPECT_EQ(encode_relay_request(RelayRequest{"summary", 18, {}}).value(), "summary 18\r\n\r\n");
  EXPECT_EQ(encode_relay_request(RelayRequest{"sessions", 0, {}}).value(), "sessions 0\r\n\r\n");
}

TEST(EncodeRelayRequest, LargestSequenceNumber) {
  EXPECT_EQ(encode_relay_request(RelayRequest{"summary", UINT64_MAX, {}}).value(),
            "summary 18446744073709551615\r\n\r\n");
  const auto steps = parse_all("summary 18446744073709551615\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(std::get<RelayRequest>(steps[0]).seq, UINT64_MAX);
}

TEST(EncodeRelayRequest, RefusesWhatWouldNotParseBack) {
  EXPECT_FALSE(encode_relay_request(RelayRequest{"", 1, {}}).has_value());
  EXPECT_FALSE(encode_relay_request(RelayRequest{"up date", 1, {}}).has_value());
  EXPECT_FALSE(encode_relay_request(RelayRequest{"up\tdate", 1, {}}).has_value());
  EXPECT_FALSE(encode_relay_request(RelayRequest{"update", 1, {{"a\r", "b"}}}).has_value());
  EXPECT_FALSE(encode_relay_request(RelayRequest{"update", 1, {{"a", "b\0c"s}}}).has_value());
  EXPECT_FALSE(encode_relay_request(RelayRequest{"update", 1, {{"a: b", "c"}}}).has_value());
}

TEST(RelayRequestParser, SpecExampleInAnyChunking) {
  for (unsigned seed = 0; seed < 50; ++seed) {
    const auto steps = parse_chunks(test::random_chunks(kSpecUpdate, seed, 1 + seed % 23));
    ASSERT_EQ(steps.size(), 1U);
    EXPECT_EQ(std::get<RelayRequest>(steps[0]), spec_update()) << "seed " << seed;
  }
}

TEST(RelayRequestParser, PongBetweenAndInsideRequests) {
  const auto steps = parse_all("pong\r\nupdate 3\r\ncall_id: a\r\npong\r\nfrom_tag: b\r\n\r\npong\r\n");
  ASSERT_EQ(steps.size(), 4U);
  EXPECT_TRUE(std::holds_alternative<Pong>(steps[0]));
  EXPECT_TRUE(std::holds_alternative<Pong>(steps[1]));  // MediaProxy recognises it anywhere
  EXPECT_EQ(std::get<RelayRequest>(steps[2]),
            (RelayRequest{"update", 3, {{"call_id", "a"}, {"from_tag", "b"}}}));
  EXPECT_TRUE(std::holds_alternative<Pong>(steps[3]));
}

TEST(RelayRequestParser, CommandLineWhitespaceIsFlexible) {
  const auto steps = parse_all("  remove\t 9 \r\ncall_id: a\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(std::get<RelayRequest>(steps[0]), (RelayRequest{"remove", 9, {{"call_id", "a"}}}));
}

struct BadCommandLine {
  std::string line;
  std::optional<std::uint64_t> seq;
};

TEST(RelayRequestParser, MalformedCommandLineRejectsWholeRequestWithWhateverSeqWasRead) {
  const std::vector<BadCommandLine> cases{
      {"update", std::nullopt},
      {"update 17 extra", 17},
      {"update abc", std::nullopt},
      {"update 017", std::nullopt},
      {"update -1", std::nullopt},
      {"update +1", std::nullopt},
      {"update 18446744073709551616", std::nullopt},
      {"update 5\rx", std::nullopt},  // CR is no separator: "5\rx" is no number
      {"\x01 7 8", 7},
  };
  for (const auto& c : cases) {
    // The header lines after a bad command line must not be taken for commands (MediaProxy quirk).
    const auto steps =
        parse_all(c.line + "\r\nsummary 1\r\ncall_id: a\r\n\r\nsummary 2\r\n\r\n");
    ASSERT_EQ(steps.size(), 2U) << c.line;
    ASSERT_TRUE(std::holds_alternative<RejectedRelayRequest>(steps[0])) << c.line;
    const auto& rejected = std::get<RejectedRelayRequest>(steps[0]);
    EXPECT_EQ(rejected.seq, c.seq) << c.line;
    EXPECT_NE(rejected.message.find("protocol B"), std::string::npos);
    EXPECT_EQ(std::get<RelayRequest>(steps[1]), (RelayRequest{"summary", 2, {}})) << c.line;
  }
}

TEST(RelayRequestParser, UnparsableHeaderLinesAreSkippedAndReported) {
  RelayRequestParser parser;
  parser.feed("update 4\r\ncall_id: a\r\ngarbage\r\nx\ry: z\r\nfrom_tag: b\r\n\r\n");
  auto step = parser.next();
  ASSERT_TRUE(std::holds_alternative<RelayRequest>(step));
  EXPECT_EQ(std::get<RelayRequest>(step),
            (RelayRequest{"update", 4, {{"call_id", "a"}, {"from_tag", "b"}}}));
  EXPECT_EQ(parser.skipped_lines(), (std::vector<std::string>{"\"garbage\"", "\"x\\x0dy: z\""}));
  parser.feed("summary 5\r\n\r\n");
  ASSERT_TRUE(std::holds_alternative<RelayRequest>(parser.next()));
  EXPECT_TRUE(parser.skipped_lines().empty());
}

TEST(RelayRequestParser, TooManyHeadersRejectsWithSeq) {
  std::string request = "update 8\r\n";
  for (int i = 0; i < 65; ++i) {
    request += "h: v\r\n";
  }
  const auto steps = parse_all(request + "\r\n");
  ASSERT_EQ(steps.size(), 1U);
  ASSERT_TRUE(std::holds_alternative<RejectedRelayRequest>(steps[0]));
  EXPECT_EQ(std::get<RejectedRelayRequest>(steps[0]).seq, 8U);
}

TEST(RelayRequestParser, OverlongLineIsFatal) {
  const auto steps = parse_all("update 1\r\nmedia: " + std::string(16384, 'a') + "\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  ASSERT_TRUE(std::holds_alternative<FatalError>(steps[0]));
  EXPECT_NE(std::get<FatalError>(steps[0]).message.find("16384"), std::string::npos);
}

TEST(RelayRequestParser, OversizedRequestIsFatalAndSticky) {
  RelayRequestParser parser;
  parser.feed("update 1\r\n");
  RelayRequestStep step = NeedMore{};
  for (int i = 0; i < 100 && std::holds_alternative<NeedMore>(step); ++i) {
    parser.feed("bad line without separator " + std::string(1000, 'z') + "\r\n");
    step = parser.next();
  }
  ASSERT_TRUE(std::holds_alternative<FatalError>(step));
  parser.feed("\r\nsummary 1\r\n\r\n");
  EXPECT_TRUE(std::holds_alternative<FatalError>(parser.next()));
}

TEST(RelayRequestParser, StreamOfRequestsInAnyChunking) {
  std::string stream;
  std::vector<RelayRequestStep> expected;
  for (std::uint64_t seq = 0; seq < 20; ++seq) {
    RelayRequest request{seq % 3 == 0 ? "summary" : "remove", seq, {}};
    if (seq % 3 != 0) {
      request.headers = {{"call_id", "id" + std::to_string(seq)}, {"from_tag", "t"}};
    }
    stream += encode_relay_request(request).value();
    expected.emplace_back(request);
    if (seq % 4 == 0) {
      stream += kPongLine;
      expected.emplace_back(Pong{});
    }
  }
  for (unsigned seed = 0; seed < 30; ++seed) {
    EXPECT_EQ(parse_chunks(test::random_chunks(stream, seed, 40)), expected) << "seed " << seed;
  }
}

}  // namespace
}  // namespace mpx::protocol
