// The sessions and summary views from JSON fixtures (tests/unit/mpxctl/fixtures): the right
// values in the right rows and columns, mpx's optional summary keys shown when present and "-"
// when absent, and absurd input (wrong types, huge counters, escape sequences, invalid UTF-8)
// rendered without a crash and without a control character reaching the terminal.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/subprocess.hpp"
#include "tools/mpxctl/table.hpp"
#include "tools/mpxctl/views.hpp"

namespace mpx::mpxctl {
namespace {

using nlohmann::json;

json fixture(const std::string& name) {
  std::ifstream file(mpx::test::source_path("tests/unit/mpxctl/fixtures/" + name));
  std::stringstream text;
  text << file.rdbuf();
  return json::parse(text.str());
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

// The only line containing `needle` (fails the test when there is not exactly one).
std::string line_with(const std::string& text, const std::string& needle) {
  std::string found;
  int count = 0;
  for (const auto& line : lines(text)) {
    if (line.find(needle) != std::string::npos) {
      found = line;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "'" << needle << "' in:\n" << text;
  return found;
}

// Asserts `parts` appear in `line` in this order.
void expect_in_order(const std::string& line, const std::vector<std::string>& parts) {
  std::size_t from = 0;
  for (const auto& part : parts) {
    const auto at = line.find(part, from);
    ASSERT_NE(at, std::string::npos) << "'" << part << "' after column " << from << " in: " << line;
    from = at + part.size();
  }
}

// Nothing that a terminal would interpret: only printable UTF-8 and newlines.
void expect_terminal_safe(const std::string& text) {
  for (const auto& line : lines(text)) {
    EXPECT_EQ(display_text(line), line);
  }
}

TEST(MpxctlSessionsView, ShowsEachStreamWithItsSessionColumns) {
  const std::string out = render_sessions(fixture("sessions.json"));
  const auto audio = line_with(out, "PCMU/PCMA");
  expect_in_order(audio, {"a84b4c76e66710@pc33.example.com", "sip:alice@example.com",
                          "sip:bob@example.org", "1h02m05s", "audio", "active", "PCMU/PCMA",
                          "192.0.2.10:4000", "198.51.100.1:50000", "198.51.100.1:50002",
                          "203.0.113.7:7078", "5.7 MiB", "512 B"});
  // The second stream's row leaves the session's columns empty and lines up under the first.
  const auto video = line_with(out, "H264/H264");
  EXPECT_EQ(video.find("a84b4c76"), std::string::npos);
  expect_in_order(video, {"video", "on hold", "H264/H264", "Unknown", "198.51.100.1:50004",
                          "198.51.100.1:50006", "Unknown", "0 B", "0 B"});
  EXPECT_EQ(video.find("H264/H264"), audio.find("PCMU/PCMA"));
  EXPECT_EQ(video.find("video"), audio.find("audio"));
  // A session without streams still has its row.
  expect_in_order(line_with(out, "second-call"),
                  {"sip:carol@example.com", "sip:dave@example.org", "0s"});
  const auto all = lines(out);
  ASSERT_FALSE(all.empty());
  expect_in_order(all.front(), {"CALL ID", "FROM", "TO", "DURATION", "MEDIA", "STATUS", "CODECS",
                                "CALLER REMOTE", "CALLER LOCAL", "CALLEE LOCAL", "CALLEE REMOTE",
                                "FROM CALLER", "FROM CALLEE"});
  EXPECT_EQ(all.back(), "2 sessions, 2 streams");
}

TEST(MpxctlSessionsView, EmptyListSaysSo) { EXPECT_EQ(render_sessions(json::array()), "no sessions\n"); }

TEST(MpxctlSummaryView, ShowsRelaysWithAndWithoutMpxKeys) {
  const std::string out = render_summary(fixture("summary.json"));
  expect_in_order(line_with(out, "0.1.0"),
                  {"198.51.100.1", "0.1.0", "active", "1d02h", "12", "audio 12, video 3", "15",
                   "1.2 Mbit/s", "tc", "30", "14"});
  // A MediaProxy relay: no load, no datapath.
  const auto mediaproxy = line_with(out, "198.51.100.2");
  expect_in_order(mediaproxy, {"4.1.2", "halting", "59s", "0", "0", "-", "0 bit/s", "-", "-", "-"});
  // A relay the dispatcher could not ask.
  expect_in_order(line_with(out, "198.51.100.3"), {"-", "error", "-"});
  expect_in_order(lines(out).front(), {"IP", "VERSION", "STATUS", "UPTIME", "SESSIONS", "STREAMS",
                                       "LOAD", "RELAYED", "DATAPATH", "FLOWS", "DROPPED"});
  EXPECT_EQ(line_with(out, "datapath of"),
            "datapath of 198.51.100.1 (tc): flows 30, handoffs 31, handoff errors 1, flows lost 0, "
            "relayed packets 987654321, latched 5, dropped learning 4, dropped strangers 7, "
            "dropped invalid 2, dropped no destination 0, dropped unknown port 1");
  EXPECT_NE(out.find("3 relays\n"), std::string::npos) << out;
}

TEST(MpxctlSummaryView, EmptyListSaysSo) {
  EXPECT_EQ(render_summary(json::array()), "no relays connected\n");
}

TEST(MpxctlSummaryView, AbsurdValuesAreShownNotFatal) {
  const std::string out = render_summary(fixture("absurd.json"));
  expect_terminal_safe(out);
  const auto relay = line_with(out, "high");
  expect_in_order(relay, {"?[2J198.51.100.9", "4", "-", "-", "18446744073709551615",
                          "audio 1e+300", "high", "[\"x\"]", "1e+23",
                          "18446744073709551615"});  // the drops saturate instead of wrapping
  EXPECT_NE(relay.find("many"), std::string::npos);
  expect_in_order(line_with(out, "198.51.100.10"), {"[1,2]", "\"not an object\""});
  EXPECT_NE(out.find("(not a relay: 42)"), std::string::npos) << out;
  EXPECT_NE(out.find("(not a relay: null)"), std::string::npos) << out;
  EXPECT_NE(out.find("future counter 3"), std::string::npos) << out;
}

TEST(MpxctlSessionsView, AbsurdValuesAreShownNotFatal) {
  const std::string out = render_sessions(fixture("absurd_sessions.json"));
  expect_terminal_safe(out);
  expect_in_order(line_with(out, "evil"),
                  {"evil?[2J?call", "{\"nested\":true}", "7", "1e+300s", "-", "-", "PCMU/-", "?31m",
                   "8.67e+11 EiB", "-"});
  line_with(out, "no streams key");
  line_with(out, "streams not a list");
  EXPECT_NE(out.find("(not a session: [])"), std::string::npos) << out;
  EXPECT_NE(out.find("(not a session: 3.5)"), std::string::npos) << out;
}

TEST(MpxctlViews, InvalidUtf8InStringsDoesNotThrow) {
  json session = {{"call_id", "bad\xff\xfe id"},
                  {"from_uri", json::object({{"k", "\xc3"}})},
                  {"streams", json::array({json::object({{"media_type", "\xe6\x97"},
                                                         {"caller_codec", "\xff"}})})}};
  std::string out;
  ASSERT_NO_THROW(out = render_sessions(json::array({session})));
  expect_terminal_safe(out);
  EXPECT_NE(out.find("bad?? id"), std::string::npos) << out;

  json relay = {{"ip", "\xff"}, {"stream_count", {{"\xfe", 1}}}, {"datapath", {{"\xfd", 2}}}};
  ASSERT_NO_THROW(out = render_summary(json::array({relay})));
  expect_terminal_safe(out);
  EXPECT_NE(out.find("? 1"), std::string::npos) << out;
}

TEST(MpxctlViews, NonArraysAreReportedInsideTheTable) {
  EXPECT_NE(render_sessions(json::object()).find("(not a list: {})"), std::string::npos);
  EXPECT_NE(render_summary(json("x")).find("(not a list: \"x\")"), std::string::npos);
}

TEST(MpxctlTopView, HasTitleRelaysAndSessions) {
  const std::string out =
      render_top("mpxctl top: \x1b[31mhost", fixture("summary.json"), fixture("sessions.json"));
  expect_terminal_safe(out);
  expect_in_order(out, {"mpxctl top: ?[31mhost", "RELAYS", "198.51.100.1", "3 relays", "SESSIONS",
                        "a84b4c76e66710@pc33.example.com", "2 sessions, 2 streams"});
}

}  // namespace
}  // namespace mpx::mpxctl
