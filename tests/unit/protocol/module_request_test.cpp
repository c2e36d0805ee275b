// Protocol A request parser: the real OpenSIPS 3.4 captures, MediaProxy's quirks (empty-value
// drop, ": " rule), per-message errors vs fatal limits, chunking independence, the encoder.
#include "common/protocol/module_request.hpp"
#include "tests/support/drain_parser.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/unit/protocol/chunking.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<fs::path> capture_files() {
  const fs::path root = mpx::test::source_path("tests/unit/protocol/testdata/opensips-3.4");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// What the dispatcher must see in a capture, computed independently of the parser: the lines
// between the first and the blank one, minus those ending in ": ".
ModuleRequest expected_request(const std::string& bytes) {
  ModuleRequest request;
  std::size_t pos = 0;
  bool first = true;
  for (;;) {
    const std::size_t end = bytes.find("\r\n", pos);
    const std::string line = bytes.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) {
      return request;
    }
    if (first) {
      request.command = line;
      first = false;
    } else if (line.size() < 2 || line.substr(line.size() - 2) != ": ") {
      const auto sep = line.find(": ");
      request.headers.push_back(Header{line.substr(0, sep), line.substr(sep + 2)});
    }
  }
}

// Feeds `chunks` and collects every step until the input is exhausted.
std::vector<ModuleRequestStep> parse_chunks(const std::vector<std::string>& chunks,
                                            ModuleRequestLimits limits = {}) {
  return mpx::test::drain_parser<ModuleRequestStep>(ModuleRequestParser(limits), chunks);
}

std::vector<ModuleRequestStep> parse_all(const std::string& bytes,
                                         ModuleRequestLimits limits = {}) {
  return parse_chunks({bytes}, limits);
}

const ModuleRequest& request_at(const std::vector<ModuleRequestStep>& steps, std::size_t i) {
  return std::get<ModuleRequest>(steps.at(i));
}

TEST(ModuleRequestParser, EveryOpenSipsCaptureParsesInAnyChunking) {
  const auto files = capture_files();
  ASSERT_EQ(files.size(), 9U);
  for (const auto& file : files) {
    const std::string bytes = read_file(file);
    const ModuleRequest expected = expected_request(bytes);
    for (unsigned seed = 0; seed < 40; ++seed) {
      const auto steps = parse_chunks(test::random_chunks(bytes, seed, 1 + seed));
      ASSERT_EQ(steps.size(), 1U) << file << " seed " << seed;
      EXPECT_EQ(request_at(steps, 0), expected) << file << " seed " << seed;
    }
  }
}

TEST(ModuleRequestParser, UpdateCaptureDropsEmptyValuedHeadersAndKeepsOrder) {
  const auto bytes = read_file(mpx::test::source_path(
      "tests/unit/protocol/testdata/opensips-3.4/use_media_proxy/1-INVITE-update-request.req"));
  const auto steps = parse_all(bytes);
  ASSERT_EQ(steps.size(), 1U);
  const auto& request = request_at(steps, 0);
  EXPECT_EQ(request.command, "update");
  std::vector<std::string> names;
  for (const auto& header : request.headers) {
    names.push_back(header.name);
  }
  // dialog_id, to_tag and media_relay had empty values: gone, as in MediaProxy.
  EXPECT_EQ(names, (std::vector<std::string>{"type", "call_id", "cseq", "from_uri", "to_uri",
                                             "from_tag", "user_agent", "signaling_ip", "media"}));
  EXPECT_EQ(request.find("call_id"), "1-15491@127.0.0.1");
  EXPECT_EQ(request.find("media"), "audio:127.0.0.1:6000:sendrecv:ice=no");
  EXPECT_FALSE(request.find("to_tag").has_value());
}

TEST(ModuleRequestParser, AllCapturesInOneStreamComeOutInOrder) {
  std::string stream;
  std::vector<ModuleRequest> expected;
  for (const auto& file : capture_files()) {
    const std::string bytes = read_file(file);
    stream += "\r\n" + bytes;  // blank lines between requests are ignored
    expected.push_back(expected_request(bytes));
  }
  for (unsigned seed = 0; seed < 30; ++seed) {
    const auto steps = parse_chunks(test::random_chunks(stream, seed, 64));
    ASSERT_EQ(steps.size(), expected.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
      EXPECT_EQ(request_at(steps, i), expected[i]) << "request " << i << " seed " << seed;
    }
  }
}

TEST(ModuleRequestParser, StopsAfterEachRequest) {
  ModuleRequestParser parser;
  parser.feed("remove\r\ncall_id: a\r\n\r\nremove\r\ncall_id: b\r\n\r\n");
  auto first = parser.next();
  ASSERT_TRUE(std::holds_alternative<ModuleRequest>(first));
  EXPECT_EQ(std::get<ModuleRequest>(first).find("call_id"), "a");
  EXPECT_GT(parser.buffered_bytes(), 0U);  // the second request is still waiting
  auto second = parser.next();
  ASSERT_TRUE(std::holds_alternative<ModuleRequest>(second));
  EXPECT_EQ(std::get<ModuleRequest>(second).find("call_id"), "b");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
}

TEST(ModuleRequestParser, IncompleteRequestNeedsMore) {
  ModuleRequestParser parser;
  parser.feed("update\r\ncall_id: x\r\n");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
  parser.feed("\r\n");
  EXPECT_TRUE(std::holds_alternative<ModuleRequest>(parser.next()));
}

TEST(ModuleRequestParser, HeaderWithoutColonSpaceRejectsOnlyThatRequest) {
  const auto steps = parse_all(
      "update\r\ncall_id: x\r\nbroken header\r\nfrom_tag: y\r\n\r\n"
      "remove\r\ncall_id: z\r\n\r\n");
  ASSERT_EQ(steps.size(), 2U);
  ASSERT_TRUE(std::holds_alternative<MessageError>(steps[0]));
  EXPECT_NE(std::get<MessageError>(steps[0]).message.find("broken header"), std::string::npos);
  EXPECT_EQ(request_at(steps, 1).find("call_id"), "z");
}

TEST(ModuleRequestParser, ColonWithoutSpaceIsNotASeparator) {
  const auto steps = parse_all("update\r\ncall_id:x\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<MessageError>(steps[0]));
}

TEST(ModuleRequestParser, SplitsAtTheFirstColonSpace) {
  const auto steps = parse_all("update\r\nuser_agent: Foo: 1.0: beta\r\n: nameless\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0).headers,
            (std::vector<Header>{{"user_agent", "Foo: 1.0: beta"}, {"", "nameless"}}));
}

TEST(ModuleRequestParser, LinesEndingInColonSpaceAreDroppedEvenForTheCommand) {
  const auto steps = parse_all("odd: \r\nupdate\r\nto_tag: \r\nweird: value: \r\ncall_id: c\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0).command, "update");
  EXPECT_EQ(request_at(steps, 0).headers, (std::vector<Header>{{"call_id", "c"}}));
}

TEST(ModuleRequestParser, RequestWithOnlyACommandIsDelivered) {
  // call_id is the dispatcher's check, not the parser's.
  const auto steps = parse_all("update\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0), (ModuleRequest{"update", {}}));
  EXPECT_FALSE(request_at(steps, 0).find("call_id").has_value());
}

TEST(ModuleRequestParser, FindReturnsTheLastDuplicate) {
  const auto steps = parse_all("update\r\ncall_id: first\r\ncall_id: second\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0).find("call_id"), "second");
  EXPECT_EQ(request_at(steps, 0).headers.size(), 2U);  // forwarded verbatim, both kept
}

TEST(ModuleRequestParser, BareCrLfOrNulRejectsTheRequest) {
  for (const std::string& bad : std::vector<std::string>{"call_id: a\rb", "call_id: a\nb",
                                                         "call_id: a\0b"s, "call_id: x\r"}) {
    const auto steps = parse_all("update\r\n" + bad + "\r\n\r\nremove\r\ncall_id: ok\r\n\r\n");
    ASSERT_EQ(steps.size(), 2U) << bad;
    EXPECT_TRUE(std::holds_alternative<MessageError>(steps[0])) << bad;
    EXPECT_EQ(request_at(steps, 1).find("call_id"), "ok");
  }
  const auto steps = parse_all("upd\0ate\r\ncall_id: a\r\n\r\n"s);
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<MessageError>(steps[0]));
}

TEST(ModuleRequestParser, TooManyHeadersRejectsTheRequestOnly) {
  std::string request = "update\r\n";
  for (int i = 0; i < 65; ++i) {
    request += "h" + std::to_string(i) + ": v\r\n";
  }
  const auto steps = parse_all(request + "\r\nremove\r\ncall_id: ok\r\n\r\n");
  ASSERT_EQ(steps.size(), 2U);
  ASSERT_TRUE(std::holds_alternative<MessageError>(steps[0]));
  EXPECT_NE(std::get<MessageError>(steps[0]).message.find("more than 64 headers"),
            std::string::npos);
  EXPECT_EQ(request_at(steps, 1).find("call_id"), "ok");
}

TEST(ModuleRequestParser, SixtyFourHeadersAreAccepted) {
  std::string request = "update\r\n";
  for (int i = 0; i < 64; ++i) {
    request += "h" + std::to_string(i) + ": v\r\n";
  }
  const auto steps = parse_all(request + "\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0).headers.size(), 64U);
}

TEST(ModuleRequestParser, OversizedRequestIsFatalAndSticky) {
  ModuleRequestParser parser;
  const std::string line = "x: " + std::string(1000, 'y') + "\r\n";
  parser.feed("update\r\n");
  ModuleRequestStep step = NeedMore{};
  for (int i = 0; i < 40 && std::holds_alternative<NeedMore>(step); ++i) {
    parser.feed(line);  // dropped-or-not, every line counts towards the 32 KiB
    step = parser.next();
  }
  ASSERT_TRUE(std::holds_alternative<FatalError>(step));
  EXPECT_NE(std::get<FatalError>(step).message.find("larger than 32768"), std::string::npos);
  parser.feed("\r\nremove\r\ncall_id: a\r\n\r\n");
  EXPECT_TRUE(std::holds_alternative<FatalError>(parser.next()));
}

TEST(ModuleRequestParser, LineLimitIs16384Bytes) {
  const std::string at_limit = "media: " + std::string(16384 - 7, 'a');
  auto steps = parse_all("update\r\n" + at_limit + "\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_EQ(request_at(steps, 0).find("media")->size(), 16384U - 7U);

  steps = parse_all("update\r\n" + at_limit + "a\r\n\r\n");
  ASSERT_EQ(steps.size(), 1U);
  ASSERT_TRUE(std::holds_alternative<FatalError>(steps[0]));
  EXPECT_NE(std::get<FatalError>(steps[0]).message.find("16384"), std::string::npos);
}

TEST(ModuleRequestParser, LimitsAreConfigurable) {
  ModuleRequestLimits limits;
  limits.max_headers = 1;
  auto steps = parse_all("update\r\na: 1\r\nb: 2\r\n\r\n", limits);
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<MessageError>(steps[0]));
  limits = {};
  limits.max_message_size = 20;
  steps = parse_all("update\r\ncall_id: 0123456789\r\n\r\n", limits);
  ASSERT_EQ(steps.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<FatalError>(steps[0]));
}

TEST(ModuleRequestParser, EndlessBlankLinesUseNoMemory) {
  ModuleRequestParser parser;
  for (int i = 0; i < 100000; ++i) {
    parser.feed("\r\n");
    ASSERT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
  }
  EXPECT_EQ(parser.buffered_bytes(), 0U);
}

TEST(EncodeModuleRequest, RoundTripsTheCaptures) {
  for (const auto& file : capture_files()) {
    const ModuleRequest request = expected_request(read_file(file));
    auto encoded = encode_module_request(request);
    ASSERT_TRUE(encoded.has_value()) << encoded.error().message;
    const auto steps = parse_all(encoded.value());
    ASSERT_EQ(steps.size(), 1U);
    EXPECT_EQ(request_at(steps, 0), request);
  }
}

TEST(EncodeModuleRequest, WritesTheModuleFormat) {
  auto encoded = encode_module_request(
      ModuleRequest{"remove", {{"call_id", "7a9f3c2e@192.168.1.10"}, {"from_tag", "a73kszlfl"}}});
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(encoded.value(),
            "remove\r\ncall_id: 7a9f3c2e@192.168.1.10\r\nfrom_tag: a73kszlfl\r\n\r\n");
}

TEST(EncodeModuleRequest, RefusesWhatWouldNotParseBack) {
  EXPECT_FALSE(encode_module_request(ModuleRequest{"", {}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"up\r\ndate", {}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"cmd: ", {}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"update", {{"to_tag", ""}}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"update", {{"a", "b: "}}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"update", {{"a: b", "c"}}}).has_value());
  EXPECT_FALSE(encode_module_request(ModuleRequest{"update", {{"a", "b\nc"}}}).has_value());
}

}  // namespace
}  // namespace mpx::protocol
