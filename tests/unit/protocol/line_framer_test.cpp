// LineFramer: CRLF-only termination, length limit, chunking independence, linear scanning.
#include "common/protocol/line_framer.hpp"
#include "tests/unit/protocol/chunking.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace mpx::protocol {
namespace {

// Drains every complete line; stops at NeedMore or at a fatal error (returned as "!error").
std::vector<std::string> drain(LineFramer& framer) {
  std::vector<std::string> lines;
  for (;;) {
    auto line = framer.next_line();
    if (!line) {
      lines.push_back("!" + line.error().message);
      return lines;
    }
    if (!line.value()) {
      return lines;
    }
    lines.emplace_back(*line.value());
  }
}

TEST(LineFramer, SplitsOnCrLfOnly) {
  LineFramer framer(100);
  framer.feed("one\r\ntwo\nstill two\r\nthree\rstill three\r\n\r\nrest");
  EXPECT_EQ(drain(framer), (std::vector<std::string>{"one", "two\nstill two",
                                                     "three\rstill three", ""}));
  EXPECT_EQ(framer.buffered_bytes(), 4U);  // "rest" waits for its terminator
  framer.feed("\r\n");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"rest"});
  EXPECT_EQ(framer.buffered_bytes(), 0U);
}

TEST(LineFramer, TerminatorSplitAcrossChunks) {
  LineFramer framer(100);
  framer.feed("abc\r");
  EXPECT_TRUE(drain(framer).empty());
  framer.feed("\ndef\r");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"abc"});
  framer.feed("x\r\n");  // the held "\r" was not a terminator
  EXPECT_EQ(drain(framer), std::vector<std::string>{"def\rx"});
}

TEST(LineFramer, CrCrLfKeepsOneCr) {
  LineFramer framer(100);
  framer.feed("a\r\r\n");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"a\r"});
}

TEST(LineFramer, EmbeddedNulIsKept) {
  LineFramer framer(100);
  framer.feed(std::string("a\0b\r\n", 5));
  EXPECT_EQ(drain(framer), std::vector<std::string>{std::string("a\0b", 3)});
}

TEST(LineFramer, LineOfExactlyMaxLengthIsAccepted) {
  LineFramer framer(8);
  framer.feed("12345678\r");  // max content plus a pending CR is not yet too long
  EXPECT_TRUE(drain(framer).empty());
  EXPECT_FALSE(framer.failed());
  framer.feed("\n");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"12345678"});
}

TEST(LineFramer, TerminatedLineOverMaxIsFatal) {
  LineFramer framer(8);
  framer.feed("123456789\r\nok\r\n");
  const auto lines = drain(framer);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0], "!line longer than 8 bytes");
  EXPECT_TRUE(framer.failed());
}

TEST(LineFramer, OverlongIsDetectedBeforeTheTerminatorArrives) {
  LineFramer framer(8);
  framer.feed("123456789");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"!line longer than 8 bytes"});
}

TEST(LineFramer, PendingCrFollowedByOtherByteIsOverlong) {
  LineFramer framer(8);
  framer.feed("12345678\r");
  EXPECT_TRUE(drain(framer).empty());
  framer.feed("x");
  EXPECT_EQ(drain(framer), std::vector<std::string>{"!line longer than 8 bytes"});
}

TEST(LineFramer, ErrorIsStickyAndFeedingStops) {
  LineFramer framer(4);
  framer.feed("toolong");
  EXPECT_FALSE(framer.next_line().has_value());
  framer.feed("ok\r\n");
  EXPECT_FALSE(framer.next_line().has_value());
  EXPECT_EQ(framer.buffered_bytes(), 0U);
}

TEST(LineFramer, ChunkingDoesNotChangeTheLines) {
  std::string stream;
  for (int i = 0; i < 200; ++i) {
    stream += "line " + std::to_string(i) + (i % 7 == 0 ? "\r" : "") + (i % 5 == 0 ? "\n" : "") +
              "\r\n";
    if (i % 11 == 0) {
      stream += "\r\n";
    }
  }
  LineFramer whole(64);
  whole.feed(stream);
  const auto expected = drain(whole);
  // 200 lines, 19 extra blank ones, and 6 where "\r" + "\n" formed a terminator early.
  ASSERT_EQ(expected.size(), 200U + 19U + 6U);
  for (unsigned seed = 0; seed < 50; ++seed) {
    LineFramer framer(64);
    std::vector<std::string> got;
    for (const auto& chunk : test::random_chunks(stream, seed)) {
      framer.feed(chunk);
      for (auto& line : drain(framer)) {
        got.push_back(std::move(line));
      }
    }
    EXPECT_EQ(got, expected) << "seed " << seed;
  }
}

TEST(LineFramer, CallerMayStopAfterEachLine) {
  LineFramer framer(64);
  framer.feed("a\r\nb\r\nc\r\n");
  auto first = framer.next_line();
  ASSERT_TRUE(first.has_value() && first.value().has_value());
  EXPECT_EQ(*first.value(), "a");
  EXPECT_EQ(framer.buffered_bytes(), 6U);
  framer.feed("d\r\n");  // feeding between pulls keeps order
  EXPECT_EQ(drain(framer), (std::vector<std::string>{"b", "c", "d"}));
}

// A framer that rescanned its buffer on every call would take ~10^12 steps here.
TEST(LineFramer, ByteAtATimeFeedingIsLinear) {
  constexpr std::size_t kSize = 2 * 1024 * 1024;
  LineFramer framer(4 * 1024 * 1024);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < kSize; ++i) {
    framer.feed("x");
    auto line = framer.next_line();
    ASSERT_TRUE(line.has_value());
    ASSERT_FALSE(line.value().has_value());
  }
  framer.feed("\r\n");
  auto line = framer.next_line();
  ASSERT_TRUE(line.has_value() && line.value().has_value());
  EXPECT_EQ(line.value()->size(), kSize);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(LineFramer, ManyShortLinesKeepTheBufferSmall) {
  LineFramer framer(64);
  for (int i = 0; i < 100000; ++i) {
    framer.feed("ping\r\n");
    auto line = framer.next_line();
    ASSERT_TRUE(line.has_value() && line.value().has_value());
    EXPECT_EQ(*line.value(), "ping");
  }
  EXPECT_EQ(framer.buffered_bytes(), 0U);
}

}  // namespace
}  // namespace mpx::protocol
